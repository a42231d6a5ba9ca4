/**
 * runstate for Node: process-signal handling for runs, and the file-system
 * layers of the result store.
 *
 * The barrel loads neither the Redis client nor the CLI. The Redis store has
 * its own entry point, `@runstate/node/NodeRedisResultStore` (`redis` is an
 * optional peer dependency, needed only there), and the CLI is
 * `@runstate/node/Cli` (the `runstate` executable).
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
 * @since 0.2.0
 */
export * as NodeCompression from "./NodeCompression.ts"
