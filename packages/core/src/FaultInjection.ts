/**
 * The former home of `FaultInjection`, kept for one release: the module now
 * lives in the testing entry point, `import { FaultInjection } from
 * "@runstate/core/testing"`.
 *
 * @since 0.1.0
 * @deprecated Import `FaultInjection` from `@runstate/core/testing`.
 */
export * from "./testing/FaultInjection.ts"
