/**
 * Result-store layers for Node that scale past one process: a file-system
 * store that reads and writes Prefect's local storage layout with atomic
 * writes, and a Redis store whose expiring records Redis really deletes, with
 * Redis record locks. Both are `ResultStore.make` over a `KeyValueStore`, so
 * they swap with the in-memory store (and with SQL, `KeyValueStore.layerSql`)
 * without code changes; see `docs/storage.md`.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type * as NodeRedis from "@effect/platform-node/NodeRedis"
import * as ResultStore from "@runstate/core/ResultStore"
import { InvalidState, MissingResult, StorageError } from "@runstate/core/RunError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import type * as Redis from "effect/persistence/Redis"
import * as FileStore from "./internal/fileStore.ts"
import * as RedisStore from "./internal/redisStore.ts"

// -----------------------------------------------------------------------------
// File system
// -----------------------------------------------------------------------------

/**
 * Options of {@link layerFileSystem}: the {@link ResultStore.MakeOptions} the
 * layer does not set itself, plus where metadata goes and whether to fsync.
 *
 * @category models
 * @since 0.1.0
 */
export interface FileSystemOptions
  extends Omit<ResultStore.MakeOptions, "store" | "metadataStore" | "resolveKey" | "baseKey">
{
  /**
   * A directory for metadata (Prefect's split layout: the result directory
   * holds raw serialized values, this one their metadata at the same relative
   * key). Absent: full record envelopes in `directory`, as Prefect writes task
   * results.
   */
  readonly metadataDirectory?: string | undefined
  /** fsync every file before renaming it into place. Default `true`. */
  readonly fsync?: boolean | undefined
}

/**
 * Options of {@link layerFileSystemKeyValueStore}.
 *
 * @category models
 * @since 0.1.0
 */
export interface FileSystemKeyValueStoreOptions {
  /** fsync every file before renaming it into place. Default `true`. */
  readonly fsync?: boolean | undefined
}

const openDirectory = (directory: string): Effect.Effect<string, StorageError> =>
  Effect.tryPromise({
    try: async () => {
      const absolute = path.resolve(directory)
      await fs.mkdir(absolute, { recursive: true })
      // Prefect resolves its base path (symlinks included).
      return await fs.realpath(absolute)
    },
    catch: (cause) =>
      new StorageError({
        message: `Cannot open result storage directory ${directory}: ${
          cause instanceof Error ? cause.message : String(cause)
        }`,
        cause
      })
  })

/**
 * Resolves a key the way Prefect's `LocalFileSystem` does, with the escapes
 * Prefect lets through closed: a relative key joins the base directory, an
 * absolute key must lie inside it
 * (`Provided path {path} is outside of the base path {basepath}.`), and empty
 * keys, NUL bytes, lone surrogates, `..` escapes, names reserved for temp
 * files (a path component starting with `.runstate-tmp.`) and keys whose
 * directory is a symbolic link leading outside the base fail with
 * `InvalidState` too. The base must be an absolute, normalised real path
 * (symlinks resolved, as the file-system layers do).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeResultStore } from "@runstate/node"
 *
 * // "/data/results/a/b"
 * const program = NodeResultStore.resolvePath("/data/results", "a/b")
 * ```
 *
 * @category utils
 * @since 0.1.0
 */
export const resolvePath = (base: string, key: string): Effect.Effect<string, InvalidState> => {
  const resolved = FileStore.resolveIn(base, key)
  if (resolved._tag === "Invalid") return Effect.fail(new InvalidState({ message: resolved.message }))
  const file = resolved.path
  if (path.dirname(file) === base) return Effect.succeed(file)
  return Effect.flatMap(
    Effect.promise(() => FileStore.checkLinks(base, file).then(() => undefined, (error: unknown) => error)),
    // Only an escape is the key's fault; other errors surface from the storage operation itself.
    (error) =>
      error instanceof FileStore.OutsideBase
        ? Effect.fail(new InvalidState({ message: error.message }))
        : Effect.succeed(file)
  )
}

/**
 * A `KeyValueStore` over a directory (created as needed): keys are paths
 * relative to it (or absolute paths inside it) — `a/b` is the file
 * `<directory>/a/b` — and every `set` is atomic: the bytes go to a temp file
 * in the same directory (`.runstate-tmp.<id>.runstate-tmp`, a name no key can
 * reach: path components starting with `.runstate-tmp.` are reserved), which
 * is fsynced and renamed over the target, so a reader or a crash never sees a
 * partial file. Temp files a crashed writer leaves behind are never read and
 * are skipped by `keys`/`size`; {@link removeTemporaryFiles} deletes them.
 * No key reaches outside the directory, through `..` or through a symbolic
 * link; reads open only regular files, without blocking (a FIFO at a key is an
 * error, not a hang). `clear` empties the directory (keep it for results
 * only). See `docs/security.md`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { KeyValueStore } from "effect/persistence"
 * import { NodeResultStore } from "@runstate/node"
 *
 * const program = Effect.gen(function*() {
 *   const kv = yield* KeyValueStore.KeyValueStore
 *   yield* kv.set("a/b", "hello")
 * }).pipe(Effect.provide(NodeResultStore.layerFileSystemKeyValueStore("/tmp/results")))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerFileSystemKeyValueStore = (
  directory: string,
  options: FileSystemKeyValueStoreOptions = {}
): Layer.Layer<KeyValueStore.KeyValueStore, StorageError> =>
  Layer.effect(
    KeyValueStore.KeyValueStore,
    Effect.map(openDirectory(directory), (base) => FileStore.make(base, options))
  )

/**
 * Deletes the temp files that writers killed mid-write left under `directory`
 * and answers how many. Run it when no writer is active (a live writer's temp
 * file would be deleted before its rename, failing that write).
 *
 * @category utils
 * @since 0.1.0
 */
export const removeTemporaryFiles = (directory: string): Effect.Effect<number, StorageError> =>
  Effect.tryPromise({
    try: () => FileStore.removeTemporaryFiles(path.resolve(directory)),
    catch: (cause) =>
      new StorageError({
        message: `Cannot remove temporary files under ${directory}: ${
          cause instanceof Error ? cause.message : String(cause)
        }`,
        cause
      })
  })

/** Prefect's text for a missing file, resolving a relative (metadata) key against `base`. */
const missingPath = (error: MissingResult, base: string): MissingResult => {
  if (error.reason !== "NotFound" || error.key === undefined) return error
  const file = path.isAbsolute(error.key) ? error.key : path.resolve(base, error.key)
  return new MissingResult({ message: `Path ${file} does not exist.`, reason: "NotFound", key: error.key })
}

/**
 * Builds a file-system result store (see {@link layerFileSystem}).
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeFileSystem = (
  directory: string,
  options: FileSystemOptions = {}
): Effect.Effect<ResultStore.ResultStoreShape, StorageError> =>
  Effect.gen(function*() {
    const { fsync, metadataDirectory, ...rest } = options
    const base = yield* openDirectory(directory)
    const metadataBase = metadataDirectory === undefined ? undefined : yield* openDirectory(metadataDirectory)
    const store = yield* ResultStore.make({
      ...rest,
      store: FileStore.make(base, { fsync }),
      ...(metadataBase === undefined ? {} : { metadataStore: FileStore.make(metadataBase, { fsync }) }),
      resolveKey: (key) => resolvePath(base, key),
      baseKey: (storageKey) => FileStore.relativeKey(base, storageKey)
    })
    const messageBase = metadataBase ?? base
    return {
      ...store,
      read: (key, readOptions) =>
        Effect.catchTag(
          store.read(key, readOptions),
          "MissingResult",
          (error) => Effect.fail(missingPath(error, messageBase))
        )
    }
  })

/**
 * A `ResultStore` over a directory with Prefect's `LocalFileSystem`
 * semantics, reading and writing Prefect's on-disk layout:
 *
 * - keys resolve inside `directory` (created as needed, symlinks resolved); the
 *   storage key recorded in a record's metadata is the absolute path, as
 *   Prefect writes `/root/.prefect/storage/<key>`, and reading accepts the
 *   relative key or that absolute path;
 * - an absolute key outside the directory fails with `InvalidState`
 *   `Provided path {path} is outside of the base path {basepath}.`; empty keys,
 *   NUL bytes, lone surrogates, `..` escapes, reserved temp-file names and
 *   keys whose directory is a symbolic link leading outside fail with
 *   `InvalidState` too;
 * - a missing file fails with `MissingResult` `Path {path} does not exist.`;
 * - writes are atomic (temp file, fsync, rename: see
 *   {@link layerFileSystemKeyValueStore}), so concurrent readers and crashed
 *   writers never leave a partial record;
 * - files Python Prefect wrote with the JSON serializer read back (full
 *   envelopes, and raw flow results through the backup serializer), and Prefect
 *   reads ours;
 * - with `metadataDirectory`, Prefect's split layout.
 *
 * Records that expire are not deleted (as in Prefect): `exists` and the cache
 * honour the expiration.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResultStore } from "@runstate/core"
 * import { NodeResultStore } from "@runstate/node"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* ResultStore.ResultStore
 *   yield* store.write("The results are in...", { key: "the-key" })
 *   return (yield* store.read("the-key")).result
 * }).pipe(Effect.provide(NodeResultStore.layerFileSystem("/root/.prefect/storage")))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerFileSystem = (
  directory: string,
  options: FileSystemOptions = {}
): Layer.Layer<ResultStore.ResultStore, StorageError> =>
  Layer.effect(ResultStore.ResultStore, makeFileSystem(directory, options))

// -----------------------------------------------------------------------------
// Redis
// -----------------------------------------------------------------------------

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
 * import { NodeResultStore } from "@runstate/node"
 *
 * const kv = NodeResultStore.layerRedisKeyValueStore({ prefix: "app:" }).pipe(
 *   Layer.provide(NodeResultStore.layerRedisClient({ url: "redis://127.0.0.1:6379" }))
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
 * import { NodeResultStore } from "@runstate/node"
 *
 * const program = Effect.gen(function*() {
 *   const locks = yield* NodeResultStore.lockManagerRedis({ prefix: "app-lock:" })
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
 * import { NodeResultStore } from "@runstate/node"
 *
 * const live = NodeResultStore.layerRedis({ prefix: "myapp:" }).pipe(
 *   Layer.provide(NodeResultStore.layerRedisClient({ url: "redis://127.0.0.1:6379" }))
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
 * import { NodeResultStore } from "@runstate/node"
 *
 * const client = NodeResultStore.layerRedisClient({ url: "redis://127.0.0.1:6379" })
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
