/**
 * runstate's testing kit (`@runstate/core/testing`): fast-check arbitraries
 * for states, details and result records, and fault injection for storage.
 * It needs the optional peer dependency `fast-check`; the main entry point
 * does not.
 *
 * @since 0.2.0
 */

/**
 * @since 0.2.0
 */
export * as Arbitraries from "./Arbitraries.ts"

/**
 * @since 0.2.0
 */
export * as FaultInjection from "./FaultInjection.ts"
