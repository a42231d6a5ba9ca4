/**
 * runstate on Effect's cluster engine: tasks as durable workflow activities,
 * flows as workflows that survive the loss of a machine.
 *
 * @since 0.2.0
 */

/**
 * @since 0.2.0
 */
export * as ClusterLayer from "./ClusterLayer.ts"

/**
 * @since 0.2.0
 */
export * as DurableFlow from "./DurableFlow.ts"
