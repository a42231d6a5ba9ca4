/**
 * The Redis result store for Node, an entry point of its own
 * (`@runstate/node/NodeRedisResultStore`) so that programs without Redis never
 * load the `redis` client (an optional peer dependency): records whose
 * expiration Redis enforces (it really deletes them), Redis record locks, and
 * a node-redis client layer with fail-fast defaults. The store is
 * `ResultStore.make` over a `KeyValueStore`, so it swaps with the in-memory and
 * file-system stores without code changes.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
 *
 * const live = NodeRedisResultStore.layerRedis().pipe(
 *   Layer.provide(NodeRedisResultStore.layerRedisClient({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.2.0
 */
import type * as NodeRedis from "@effect/platform-node/NodeRedis"
import * as ResultStore from "@runstate/core/ResultStore"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import type * as Redis from "effect/persistence/Redis"
import * as RedisStore from "./internal/redisStore.ts"

/**
 * Options of {@link layerRedisKeyValueStore}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RedisKeyValueStoreOptions {
  /** Every key is stored at `prefix + key`. Default `"runstate:"`. */
  readonly prefix?: string | undefined
  /**
   * Bounds every command, lock commands included, in this process: past it
   * the operation fails with a typed error (the command may still run on the
   * server). It holds for commands already sent to a server that stopped
   * answering, which the client's own timeout does not cover. Default 5
   * seconds; `Duration.infinity` turns it off.
   */
  readonly timeout?: Duration.Input | undefined
}

/**
 * Options of {@link layerRedis}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RedisOptions extends
  Omit<
    ResultStore.MakeOptions,
    "store" | "metadataStore" | "resolveKey" | "baseKey" | "setWithExpiration" | "getStored"
  >,
  RedisKeyValueStoreOptions
{
  /**
   * Locks are stored at `lockPrefix + key`. Default: the prefix with its
   * trailing `:` replaced by `-lock:` (`runstate-lock:`), outside the record
   * keys.
   */
  readonly lockPrefix?: string | undefined
  /**
   * Record locks in Redis (`true`, the default), none (`false`), or a lock
   * manager given in `lockManager`.
   */
  readonly locks?: boolean | undefined
  /** The longest wait between two attempts on a held lock. Default 50 ms. */
  readonly lockPollInterval?: Duration.Input | undefined
}

const defaultPrefix = "runstate:"

const lockPrefixOf = (options: RedisOptions): string => {
  if (options.lockPrefix !== undefined) return options.lockPrefix
  const prefix = options.prefix ?? defaultPrefix
  return prefix.endsWith(":") ? `${prefix.slice(0, -1)}-lock:` : `${prefix}-lock:`
}

const durationOf = (input: Duration.Input | undefined): Duration.Duration | undefined =>
  input === undefined ? undefined : Duration.fromInputUnsafe(input)

/**
 * A `KeyValueStore` over the `Redis` service: each key at `prefix + key`
 * (keys cannot leave the prefix: Redis keys are binary-safe strings, never
 * parsed). Values are stored as text; bytes that are not UTF-8 are stored as
 * a marker and their base64. `keys`, `size` and `clear` `SCAN` the prefix.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
 *
 * const kv = NodeRedisResultStore.layerRedisKeyValueStore({ prefix: "app:" }).pipe(
 *   Layer.provide(NodeRedisResultStore.layerRedisClient({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerRedisKeyValueStore = (
  options: RedisKeyValueStoreOptions = {}
): Layer.Layer<KeyValueStore.KeyValueStore, never, Redis.Redis> =>
  Layer.effect(
    KeyValueStore.KeyValueStore,
    Effect.map(RedisStore.services, ({ client, redis }) =>
      RedisStore.makeStore(redis, {
        prefix: options.prefix ?? defaultPrefix,
        timeout: durationOf(options.timeout),
        client
      }).store)
  )

/**
 * A lock manager on Redis: `SET lock holder NX [PX holdTimeout]` takes a lock
 * (the same holder re-enters at once; without a hold timeout the lock lasts
 * until released, as in Prefect), a Lua compare-and-delete releases it
 * (`InvalidState` `No lock held by {holder} for transaction with key {key}`
 * when `holder` does not hold it), and waiting polls with a doubling delay up
 * to `pollInterval`. Locks live at `prefix + key`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
 *
 * const program = Effect.gen(function*() {
 *   const locks = yield* NodeRedisResultStore.lockManagerRedis({ prefix: "app-lock:" })
 *   return yield* locks.acquire("key", "me", { timeout: "1 second", holdTimeout: "30 seconds" })
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const lockManagerRedis = (
  options: {
    readonly prefix?: string | undefined
    readonly timeout?: Duration.Input | undefined
    readonly pollInterval?: Duration.Input | undefined
  } = {}
): Effect.Effect<ResultStore.LockManagerShape, never, Redis.Redis> =>
  Effect.map(RedisStore.services, ({ client, redis }) =>
    RedisStore.makeLockManager(redis, {
      prefix: options.prefix ?? "runstate-lock:",
      client,
      timeout: durationOf(options.timeout),
      pollInterval: durationOf(options.pollInterval) ?? Duration.millis(50)
    }))

/**
 * Builds a Redis result store (see {@link layerRedis}).
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeRedis = (
  options: RedisOptions = {}
): Effect.Effect<ResultStore.ResultStoreShape, never, Redis.Redis> =>
  Effect.gen(function*() {
    const { lockPollInterval, lockPrefix: _lockPrefix, locks, prefix, timeout, ...rest } = options
    const { client, redis } = yield* RedisStore.services
    const kv = RedisStore.makeStore(redis, {
      prefix: prefix ?? defaultPrefix,
      timeout: durationOf(timeout),
      client
    })
    const lockManager = rest.lockManager ?? (locks === false ? undefined : RedisStore.makeLockManager(redis, {
      prefix: lockPrefixOf(options),
      client,
      timeout: durationOf(timeout),
      pollInterval: durationOf(lockPollInterval) ?? Duration.millis(50)
    }))
    const store = yield* ResultStore.make({
      ...rest,
      store: kv.store,
      lockManager,
      setWithExpiration: (key, bytes, expiration) => kv.setExpiring(key, bytes, expiration.epochMilliseconds),
      getStored: kv.getStored
    })
    return {
      ...store,
      // Redis deletes a record when it expires, so the key's existence is the answer.
      exists: (key) => Effect.orElseSucceed(kv.exists(key), () => false)
    }
  })

/**
 * A `ResultStore` on Redis (the `Redis` service, e.g. {@link layerRedisClient}):
 *
 * - records (full envelopes, Prefect's layout) at `prefix + key`
 *   (default `runstate:`);
 * - a record with an expiration is written with `SET key value PXAT <ms>`, so
 *   Redis deletes it when it expires (Prefect never deletes expired results);
 *   reading it afterwards fails with `MissingResult`;
 * - `exists` is one `EXISTS` — no payload is read: every record that expires
 *   carries a TTL, so a present key is an unexpired record (unlike Prefect, a
 *   key holding bytes that are not a record answers `true`);
 * - record locks in Redis ({@link lockManagerRedis}) at `lockPrefix + key`;
 * - a Redis failure is a `StorageError`; every command (lock commands
 *   included) fails after `timeout` (default 5 s) when the server does not
 *   answer, even one already sent to a server that stopped; keys with lone
 *   surrogates (which Redis would store as U+FFFD) are rejected.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
 *
 * const live = NodeRedisResultStore.layerRedis({ prefix: "myapp:" }).pipe(
 *   Layer.provide(NodeRedisResultStore.layerRedisClient({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerRedis = (
  options: RedisOptions = {}
): Layer.Layer<ResultStore.ResultStore, never, Redis.Redis> => Layer.effect(ResultStore.ResultStore, makeRedis(options))

/**
 * Options of {@link layerRedisClient}: node-redis client options (and
 * `Redis.PoolOptions`), as `NodeRedis.layer` takes them.
 *
 * @category models
 * @since 0.1.0
 */
export type RedisClientOptions = NonNullable<Parameters<typeof NodeRedis.layer>[0]>

/**
 * `NodeRedis.layer` (the `redis` client) with defaults that fail fast while
 * the server is unreachable instead of hanging: `disableOfflineQueue: true`
 * (commands issued while reconnecting fail at once), a 5 s command timeout
 * (`commandOptions.timeout`, node-redis 6's own default, kept explicit) and a
 * 5 s connect timeout. The client keeps reconnecting in the background
 * (node-redis backoff, at most ~2 s apart), so commands succeed again once the
 * server is back. Any option given wins.
 *
 * The client's command timeout only covers commands not yet written to the
 * socket; the stores ({@link layerRedis}, {@link layerRedisKeyValueStore},
 * {@link lockManagerRedis}) bound every command themselves (5 s by default),
 * so a server that accepts commands and never answers fails them too.
 * Closing the layer waits at most 2 s for replies to commands in flight, then
 * force-closes the connection (rejecting them), so it never hangs on a dead
 * server.
 *
 * @example
 * ```ts
 * import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
 *
 * const client = NodeRedisResultStore.layerRedisClient({ url: "redis://127.0.0.1:6379" })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerRedisClient = (
  options: RedisClientOptions = {}
): Layer.Layer<Redis.Redis | NodeRedis.NodeRedis, Redis.RedisError> =>
  RedisStore.layerClient({
    ...options,
    disableOfflineQueue: options.disableOfflineQueue ?? true,
    commandOptions: { timeout: 5_000, ...options.commandOptions },
    socket: { connectTimeout: 5_000, ...options.socket } as NonNullable<RedisClientOptions["socket"]>
  })
