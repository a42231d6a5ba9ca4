/**
 * The file-system result store for Node: reads and writes Prefect's local
 * storage layout with atomic writes. It is `ResultStore.make` over a
 * `KeyValueStore`, so it swaps with the in-memory store, with SQL
 * (`KeyValueStore.layerSql`) and with the Redis store — which has its own entry
 * point, `@runstate/node/NodeRedisResultStore`, so that this module (and the
 * `@runstate/node` barrel) needs neither `redis` nor `@effect/platform-node` —
 * without code changes.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as ResultStore from "@runstate/core/ResultStore"
import { InvalidState, MissingResult, StorageError } from "@runstate/core/RunError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as FileStore from "./internal/fileStore.ts"

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
 * keys, NUL bytes and `..` escapes fail with `InvalidState` too. The base must
 * be an absolute, normalised path.
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
  return resolved._tag === "Ok"
    ? Effect.succeed(resolved.path)
    : Effect.fail(new InvalidState({ message: resolved.message }))
}

/**
 * A `KeyValueStore` over a directory (created as needed): keys are paths
 * relative to it (or absolute paths inside it) — `a/b` is the file
 * `<directory>/a/b` — and every `set` is atomic: the bytes go to a temp file
 * in the same directory (`.<id>.runstate-tmp`), which is fsynced and renamed
 * over the target, so a reader or a crash never sees a partial file. Temp
 * files a crashed writer leaves behind are never read and are skipped by
 * `keys`/`size`; {@link removeTemporaryFiles} deletes them. `clear` empties the
 * directory (keep it for results only).
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
 *   NUL bytes and `..` escapes fail with `InvalidState` too;
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
