/**
 * runstate for Node: process-signal handling for runs, and the Node storage
 * layers of the result store.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as NodeSignals from "./NodeSignals.ts"

/**
 * @since 0.1.0
 */
export * as NodeResultStore from "./NodeResultStore.ts"

/**
 * @since 0.1.0
 */
export * as Cli from "./Cli.ts"

/**
 * @since 0.2.0
 */
export * as NodeCompression from "./NodeCompression.ts"
