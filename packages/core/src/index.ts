/**
 * runstate: Prefect's run-state model as an immutable functional core on Effect.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as RunError from "./RunError.ts"

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
export * as StateType from "./StateType.ts"
