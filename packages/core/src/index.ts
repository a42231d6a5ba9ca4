/**
 * runstate: Prefect's run-state model as an immutable functional core on Effect.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Aggregate from "./Aggregate.ts"

/**
 * @since 0.2.0
 */
export * as Compression from "./Compression.ts"

/**
 * @since 0.1.0
 */
export * as Failure from "./Failure.ts"

/**
 * Fault injection for storage tests.
 *
 * @since 0.1.0
 * @deprecated Import `FaultInjection` from `@runstate/core/testing`; this re-export goes away in the next release.
 */
export * as FaultInjection from "./testing/FaultInjection.ts"

/**
 * @since 0.2.0
 */
export * as Orchestration from "./Orchestration.ts"

/**
 * @since 0.2.0
 */
export * as Flow from "./Flow.ts"

/**
 * @since 0.2.0
 */
export * as IdGenerator from "./IdGenerator.ts"

/**
 * @since 0.2.0
 */
export * as LockManager from "./LockManager.ts"

/**
 * @since 0.1.0
 */
export * as ResultRecord from "./ResultRecord.ts"

/**
 * @since 0.1.0
 */
export * as ResultStore from "./ResultStore.ts"

/**
 * @since 0.1.0
 */
export * as RunError from "./RunError.ts"

/**
 * @since 0.2.0
 */
export * as RunLog from "./RunLog.ts"

/**
 * @since 0.2.0
 */
export * as Run from "./Run.ts"

/**
 * @since 0.1.0
 */
export * as Serializer from "./Serializer.ts"

/**
 * @since 0.1.0
 */
export * as State from "./State.ts"

/**
 * @since 0.1.0
 */
export * as StateDetails from "./StateDetails.ts"

/**
 * @since 0.1.0
 */
export * as StateGroup from "./StateGroup.ts"

/**
 * @since 0.1.0
 */
export * as StateResult from "./StateResult.ts"

/**
 * @since 0.1.0
 */
export * as StateType from "./StateType.ts"

/**
 * @since 0.2.0
 */
export * as Task from "./Task.ts"

/**
 * @since 0.2.0
 */
export * as Timeline from "./Timeline.ts"

/**
 * @since 0.1.0
 */
export * as Wire from "./Wire.ts"
