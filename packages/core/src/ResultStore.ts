/**
 * The result store: where a run's results live. A `ResultStore` creates result
 * records, persists them, reads them back (through an in-memory LRU cache that
 * evicts expired entries), answers whether a key exists (honouring expiration)
 * and, with a lock manager, locks keys — Prefect's `ResultStore`, as an Effect
 * service. Storage is any `effect/persistence` `KeyValueStore`, so layers swap
 * without code changes: memory (the embedded default), files, SQL, Redis.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as IdGenerator from "./IdGenerator.ts"
import * as Lru from "./internal/lru.ts"
import * as PyJson from "./internal/pythonJson.ts"
import * as LockManagerModule from "./LockManager.ts"
import * as ResultRecord from "./ResultRecord.ts"
import { ConfigurationError, InvalidState, MissingResult, SerializationError, StorageError } from "./RunError.ts"
import * as Serializer from "./Serializer.ts"

/**
 * Options of {@link ResultStoreShape.createResultRecord} and `write`.
 *
 * @category models
 * @since 0.1.0
 */
export interface RecordOptions {
  /** The storage key; defaults to the store's `storageKeyFn` (a random UUID4 as 32 hex chars). */
  readonly key?: string | undefined
  /** When the result expires; `null` or absent means never. */
  readonly expiration?: DateTime.Utc | null | undefined
}

/**
 * Transaction isolation levels (Prefect's `IsolationLevel`).
 *
 * @category models
 * @since 0.1.0
 */
export type IsolationLevel = "READ_COMMITTED" | "SERIALIZABLE"

/**
 * A lock manager.
 *
 * @deprecated Moved to the `LockManager` module (`LockManager.LockManagerShape`); this alias goes in the next release.
 * @category models
 * @since 0.1.0
 */
export type LockManagerShape = LockManagerModule.LockManagerShape

/**
 * The `LockManager` service.
 *
 * @deprecated Moved to the `LockManager` module (`LockManager.LockManager`); this alias goes in the next release.
 * @category services
 * @since 0.1.0
 */
export const LockManager = LockManagerModule.LockManager

/**
 * The `LockManager` service.
 *
 * @deprecated Moved to the `LockManager` module (`LockManager.LockManager`); this alias goes in the next release.
 * @category services
 * @since 0.1.0
 */
export type LockManager = LockManagerModule.LockManager

/**
 * An in-process lock manager.
 *
 * @deprecated Moved to the `LockManager` module (`LockManager.makeMemory`); this alias goes in the next release.
 * @category constructors
 * @since 0.1.0
 */
export const lockManagerMemory: Effect.Effect<LockManagerShape> = LockManagerModule.makeMemory

/**
 * A layer providing one shared in-memory lock manager.
 *
 * @deprecated Moved to the `LockManager` module (`LockManager.layerMemory`); this alias goes in the next release.
 * @category layers
 * @since 0.1.0
 */
export const layerLockManagerMemory: Layer.Layer<LockManagerModule.LockManager> = LockManagerModule.layerMemory

/**
 * The result store's operations (Prefect's `ResultStore` methods).
 *
 * @category models
 * @since 0.1.0
 */
export interface ResultStoreShape {
  /** The serializer new records are written with. */
  readonly serializer: Serializer.Serializer
  /** The id of the saved storage block, or `null`. */
  readonly storageBlockId: string | null
  /**
   * A new, unpersisted record of `value` (Prefect's `create_result_record`).
   * Fails with `InvalidState` only when the store's `resolveKey` rejects the key
   * (e.g. a file-system key outside the base directory).
   */
  readonly createResultRecord: <A>(
    value: A,
    options?: RecordOptions
  ) => Effect.Effect<ResultRecord.ResultRecord<A>, InvalidState>
  /** Writes a record and returns it marked persisted (Prefect's `persist_result_record`). */
  readonly persistResultRecord: <A>(
    record: ResultRecord.ResultRecord<A>,
    options?: { readonly holder?: string | undefined }
  ) => Effect.Effect<ResultRecord.ResultRecord<A>, SerializationError | StorageError | InvalidState>
  /** Create and persist in one step (Prefect's `write`). */
  readonly write: (
    value: unknown,
    options?: RecordOptions & { readonly holder?: string | undefined }
  ) => Effect.Effect<void, SerializationError | StorageError | InvalidState>
  /**
   * Reads the record at `key` (Prefect's `read`): from the cache when present
   * and not expired, otherwise from storage. `serializer` overrides the store's
   * serializer as the backup used for raw results (as when Prefect hydrates a
   * store from a record's metadata). Fails with `MissingResult` (reason
   * `"NotFound"`) when storage has nothing at the key, `InvalidState` when
   * `resolveKey` rejects the key.
   *
   * A read that knows a schema — `schema` given, or a typed serializer
   * (`Serializer.schema`) as `serializer` or as the store's serializer —
   * decodes the stored value with it on every read, cached or not (as
   * Effect's `KeyValueStore.toSchemaStore` does), and fails with a
   * `SerializationError` when the value does not match.
   */
  readonly read: <S extends Serializer.SchemaWithoutServices = never>(
    key: string,
    options?: ReadOptions<S>
  ) => Effect.Effect<ResultRecord.ResultRecord<ReadValue<S>>, ReadError>
  /** Whether a readable, unexpired record exists at `key`; reads metadata only; never fails. */
  readonly exists: (key: string) => Effect.Effect<boolean>
  /**
   * `READ_COMMITTED` → true; `SERIALIZABLE` → true iff a lock manager is set;
   * anything else fails with `InvalidState` `Unsupported isolation level: {level}`.
   */
  readonly supportsIsolationLevel: (level: IsolationLevel | (string & {})) => Effect.Effect<boolean, InvalidState>
  /**
   * Acquires the lock on `key` for `holder` (default: the current fiber's holder,
   * see {@link make}), waiting at most `timeout` (absent = forever, `0` = do not
   * wait). The lock methods fail with `ConfigurationError` without a lock
   * manager.
   */
  readonly acquireLock: (
    key: string,
    options?: {
      readonly holder?: string | undefined
      readonly timeout?: Duration.Input | undefined
    }
  ) => Effect.Effect<boolean, ConfigurationError | StorageError | InvalidState>
  /** Releases `holder`'s lock on `key`; `InvalidState` if `holder` does not hold it. */
  readonly releaseLock: (
    key: string,
    options?: { readonly holder?: string | undefined }
  ) => Effect.Effect<void, ConfigurationError | InvalidState | StorageError>
  /** Whether any holder holds the lock on `key`. */
  readonly isLocked: (key: string) => Effect.Effect<boolean, ConfigurationError | StorageError>
  /** Whether `holder` (default: the current fiber's holder) holds the lock on `key`. */
  readonly isLockHolder: (
    key: string,
    options?: { readonly holder?: string | undefined }
  ) => Effect.Effect<boolean, ConfigurationError | StorageError>
  /** Waits until `key` is unlocked: true if it is (or becomes) free within `timeout` (absent = forever). */
  readonly waitForLock: (
    key: string,
    options?: { readonly timeout?: Duration.Input | undefined }
  ) => Effect.Effect<boolean, ConfigurationError | StorageError | InvalidState>
}

/**
 * Options of {@link ResultStoreShape.read}.
 *
 * @category models
 * @since 0.2.0
 */
export interface ReadOptions<S extends Serializer.SchemaWithoutServices = never> {
  /** The lock holder reading (default: the current fiber's holder); a read waits for other holders' locks. */
  readonly holder?: string | undefined
  /** The backup serializer for raw results (default: the store's); a typed one also decodes the read. */
  readonly serializer?: Serializer.Serializer | undefined
  /** Decode (and validate) the stored value with this schema, cached or not. */
  readonly schema?: S | undefined
}

/**
 * The value type of a read: the schema's type when a schema is given, else `unknown`.
 *
 * @category models
 * @since 0.2.0
 */
export type ReadValue<S extends Serializer.SchemaWithoutServices> = [S] extends [never] ? unknown : S["Type"]

/**
 * The errors of {@link ResultStoreShape.read}.
 *
 * @category models
 * @since 0.2.0
 */
export type ReadError = MissingResult | SerializationError | StorageError | InvalidState

/**
 * The result store service.
 *
 * @category services
 * @since 0.1.0
 */
export class ResultStore extends Context.Service<ResultStore, ResultStoreShape>()("@runstate/core/ResultStore") {}

/**
 * Options of {@link make}.
 *
 * @category models
 * @since 0.1.0
 */
export interface MakeOptions {
  /** Where records (or, with `metadataStore`, raw results) are written. */
  readonly store: KeyValueStore.KeyValueStore
  /** Separate metadata storage (Prefect's split layout); absent = full envelopes in `store`. */
  readonly metadataStore?: KeyValueStore.KeyValueStore | undefined
  /** Default `Serializer.json` (Prefect's default, pickle, cannot run here). */
  readonly serializer?: Serializer.Serializer | undefined
  /** Default {@link randomStorageKey}: a random UUID4 as 32 lowercase hex chars, from the `IdGenerator`. */
  readonly storageKeyFn?: Effect.Effect<string> | undefined
  /** In-memory LRU cache capacity; `0` or `false` disables it. Default 1000. */
  readonly cache?: number | false | undefined
  /** Record-level locks (see the `LockManager` module); absent = no locking, `SERIALIZABLE` unsupported. */
  readonly lockManager?: LockManagerModule.LockManagerShape | undefined
  readonly storageBlockId?: string | null | undefined
  /**
   * Maps a key to the storage key recorded in metadata (the file-system layer
   * resolves it to an absolute path inside its base directory and rejects keys
   * outside it). Default: the key unchanged.
   */
  readonly resolveKey?: ((key: string) => Effect.Effect<string, InvalidState>) | undefined
  /**
   * Maps a storage key back to the key that locks and split-layout metadata use
   * (Prefect's "base key": the key relative to the storage's base path). The
   * inverse of `resolveKey`. Default: the key unchanged.
   */
  readonly baseKey?: ((storageKey: string) => string) | undefined
  /**
   * Writes a value that expires (Redis: `SET … PX`). Default: `store.set`, and
   * expiration is honoured on read by the cache and by `exists` only.
   */
  readonly setWithExpiration?:
    | ((key: string, value: Uint8Array, expiration: DateTime.Utc) => Effect.Effect<void, StorageError>)
    | undefined
  /**
   * Reads a value of `store` as the store holds it: a string when it was
   * written as text, so a record is read without a UTF-8 round trip (Redis:
   * the `GET` reply), else its bytes. Default: `store.getUint8Array`.
   */
  readonly getStored?:
    | ((key: string) => Effect.Effect<string | Uint8Array | undefined, KeyValueStore.KeyValueStoreError>)
    | undefined
}

// -----------------------------------------------------------------------------
// Implementation
// -----------------------------------------------------------------------------

const noLockManagerMessage =
  "Result store is not configured with a lock manager. Please set a lock manager when creating the result store to enable locking."

const noLockManager = Effect.fail(new ConfigurationError({ message: noLockManagerMessage }))

const utf8Encoder = new TextEncoder()

/** A key as a message quotes it: JSON, capped in length. */
const quote = (key: string): string => PyJson.capText(JSON.stringify(key))

const storageError = (operation: string, key: string) => (error: KeyValueStore.KeyValueStoreError): StorageError =>
  new StorageError({
    message: `Result storage failed to ${operation} key ${quote(key)}: ${PyJson.capLines(error.message)}`,
    key,
    cause: error
  })

const notFound = (what: string, key: string): MissingResult =>
  new MissingResult({ message: `${what} not found in result storage at key ${quote(key)}.`, reason: "NotFound", key })

/**
 * A random UUID4 as 32 lowercase hex characters (Prefect's default storage
 * key), drawn from the fiber's `IdGenerator`: cryptographically secure by
 * default, deterministic under `IdGenerator.withSeed`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const randomStorageKey: Effect.Effect<string> = IdGenerator.storageKey

/** The serializer that writes and reads what a (possibly typed) serializer stores. */
const untyped = (serializer: Serializer.Serializer): Serializer.Serializer => serializer.typed?.encoded ?? serializer

/** `metadata` naming another serializer. */
const withSerializer = (
  metadata: ResultRecord.ResultRecordMetadata,
  serializer: Serializer.Serializer
): ResultRecord.ResultRecordMetadata =>
  ResultRecord.makeMetadata({
    storageKey: metadata.storageKey,
    serializer,
    expiration: metadata.expiration,
    prefectVersion: metadata.prefectVersion,
    storageBlockId: metadata.storageBlockId
  })

/**
 * Builds a result store over a `KeyValueStore` (Prefect's `ResultStore`).
 * Its contract:
 *
 * - **create**: `createResultRecord` keys a new unpersisted record with
 *   `options.key` (when non-empty) or `storageKeyFn` (default
 *   {@link randomStorageKey}), mapped through `resolveKey`; its metadata names
 *   the store's serializer and storage block id.
 * - **persist** (one write path: `write` is create then persist):
 *   `persistResultRecord` refuses a key locked by another holder
 *   (`InvalidState` `Cannot write to result record with key {base_key} because it is locked by another holder.`),
 *   then writes the full envelope at the storage key — or, with
 *   `metadataStore`, the raw result there and the metadata at the base key in
 *   `metadataStore` — using `setWithExpiration` for expiring records when
 *   given, then caches what storage now holds and returns the record marked
 *   persisted. A typed serializer (`Serializer.schema`) encodes the value
 *   first; storage and the cache hold the encoded form.
 * - **read**: `read` waits for a lock held by someone else, serves unexpired
 *   cache hits (expired ones are evicted, judged by `Clock`), otherwise reads
 *   storage — which, as in Prefect, does not check expiration — and caches
 *   the record; nothing at the key fails with `MissingResult` (reason
 *   `"NotFound"`). A read that knows a schema decodes every time, cached or
 *   not. A record whose metadata names the fields of the store's serializer
 *   is read with the store's serializer (so a custom serializer reads back
 *   what it wrote).
 * - **exists** reads metadata only, through the same envelope parser as
 *   `read` (`ResultRecord.deserializeEnvelope`), and answers `false` on any
 *   error, on a missing key, on a raw (envelope-less) result and on an
 *   expiration not strictly later than now.
 * - **cache**: an LRU of `cache` entries (default 1000; `0`, `false`, a
 *   negative number or `NaN` disable it; `Infinity` is unbounded). The store
 *   owns a record codec (`ResultRecord.makeCodec`) that remembers the metadata
 *   texts it has read and written; cache and codec go with the store.
 * - **locks**: the lock methods delegate to `lockManager` or fail with
 *   `ConfigurationError`. The default holder is
 *   `runstate:{store id}:{fiber id}` — the store id is a random hex id drawn
 *   when the store is made, the fiber id is Effect's id of the calling fiber —
 *   so, like Prefect's per-thread/per-task holder, a lock taken in one fiber is
 *   not held by another fiber.
 *
 * Storage failures (`KeyValueStoreError`) become `StorageError`s naming the key
 * and the operation; a read returns a whole record or an error.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { KeyValueStore } from "effect/persistence"
 * import { ResultStore } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const kv = yield* KeyValueStore.KeyValueStore
 *   const store = yield* ResultStore.make({ store: kv })
 *   yield* store.write({ a: 1 }, { key: "k" })
 *   return (yield* store.read("k")).result // { a: 1 }
 * }).pipe(Effect.provide(KeyValueStore.layerMemory))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: MakeOptions): Effect.Effect<ResultStoreShape> =>
  Effect.map(IdGenerator.storageKey, (storeId): ResultStoreShape => {
    const store = options.store
    const metadataStore = options.metadataStore
    const serializer = options.serializer ?? Serializer.json
    const storageKeyFn = options.storageKeyFn ?? randomStorageKey
    const storageBlockId = options.storageBlockId ?? null
    const lockManager = options.lockManager
    const resolveKey = options.resolveKey
    const baseKey = options.baseKey ?? ((key: string) => key)
    const setWithExpiration = options.setWithExpiration
    const getStored = options.getStored ?? ((key: string) => store.getUint8Array(key))
    const capacity = options.cache === undefined ? 1000 : options.cache === false ? 0 : Math.floor(options.cache)
    /** What storage holds at each storage key (a typed serializer's values in their encoded form). */
    const cache = capacity >= 1 ? Lru.make<string, ResultRecord.ResultRecord<unknown>>(capacity) : undefined
    const storeSerializer = untyped(serializer)
    const codec = ResultRecord.makeCodec({ serializers: [storeSerializer] })

    // --- keys and holders ----------------------------------------------------------------

    const defaultHolder: Effect.Effect<string> = Effect.map(Effect.fiberId, (id) => `runstate:${storeId}:${id}`)
    const holderOf = (holder: string | undefined): Effect.Effect<string> =>
      holder === undefined ? defaultHolder : Effect.succeed(holder)

    const resolve = (key: string): Effect.Effect<string, InvalidState> =>
      resolveKey === undefined ? Effect.succeed(key) : resolveKey(key)

    const remember = <A>(key: string, record: ResultRecord.ResultRecord<A>): ResultRecord.ResultRecord<A> => {
      if (cache !== undefined) cache.set(key, record)
      return record
    }

    // --- create ------------------------------------------------------------------------------

    const build = <A>(
      value: A,
      storageKey: string,
      expiration: DateTime.Utc | null,
      persisted = false
    ): ResultRecord.ResultRecord<A> =>
      ResultRecord.make({
        metadata: ResultRecord.makeMetadata({ storageKey, serializer, expiration, storageBlockId }),
        result: value,
        persisted
      })

    const createResultRecord = <A>(
      value: A,
      recordOptions?: RecordOptions
    ): Effect.Effect<ResultRecord.ResultRecord<A>, InvalidState> => {
      const expiration = recordOptions?.expiration ?? null
      const key = recordOptions?.key
      if (key !== undefined && key !== "") {
        return resolveKey === undefined
          ? Effect.sync(() => build(value, key, expiration))
          : Effect.map(resolveKey(key), (storageKey) => build(value, storageKey, expiration))
      }
      return Effect.map(Effect.flatMap(storageKeyFn, resolve), (storageKey) => build(value, storageKey, expiration))
    }

    // --- persist -----------------------------------------------------------------------------

    /** Writes `value` at `key`, expiring when the record does and the storage can; `onDone` once written. */
    const put = (
      key: string,
      value: string | Uint8Array,
      expiration: DateTime.Utc | null,
      onDone: () => void
    ): Effect.Effect<void, StorageError> =>
      expiration !== null && setWithExpiration !== undefined
        ? Effect.map(
          setWithExpiration(key, typeof value === "string" ? utf8Encoder.encode(value) : value, expiration),
          onDone
        )
        : Effect.matchCauseEffect(store.set(key, value), {
          onFailure: (cause) => Effect.failCause(Cause.map(cause, storageError("write", key))),
          onSuccess: () => {
            onDone()
            return Effect.void
          }
        })

    /** Writes `stored` (what storage is to hold) at `storageKey` and caches it. */
    const writeStored = (
      stored: ResultRecord.ResultRecord<unknown>,
      storageKey: string
    ): Effect.Effect<void, SerializationError | StorageError> => {
      const expiration = stored.metadata.expiration
      const cached = () => void remember(storageKey, ResultRecord.markPersisted(stored))
      if (metadataStore === undefined) {
        const envelope = codec.serialize(stored)
        if (Exit.isExit(envelope)) {
          // A text envelope comes back as a finished `Exit`: written without another step.
          const exit = envelope as Exit.Exit<string | Uint8Array, SerializationError>
          if (Exit.isSuccess(exit)) return put(storageKey, exit.value, expiration, cached)
        }
        return Effect.flatMap(envelope, (text) => put(storageKey, text, expiration, cached))
      }
      const metadataKey = baseKey(storageKey)
      return Effect.flatMap(
        ResultRecord.serializeResult(stored),
        (resultBytes) =>
          put(storageKey, resultBytes, expiration, () => {}).pipe(
            Effect.andThen(ResultRecord.serializeMetadata(stored.metadata)),
            Effect.flatMap((metadataBytes) =>
              Effect.mapError(
                metadataStore.set(metadataKey, metadataBytes),
                storageError("write metadata at", metadataKey)
              )
            ),
            Effect.map(cached)
          )
      )
    }

    /** The record as storage holds it: a typed serializer's value encoded, written by its untyped serializer. */
    const storedForm = (
      record: ResultRecord.ResultRecord<unknown>
    ): Effect.Effect<ResultRecord.ResultRecord<unknown>, SerializationError> => {
      const typed = record.metadata.serializer.typed
      if (typed === undefined) return Effect.succeed(record)
      return Effect.map(
        typed.encode(record.result),
        (encoded) => ResultRecord.make({ metadata: withSerializer(record.metadata, typed.encoded), result: encoded })
      )
    }

    const lockedByOther = (key: string, holder: string | undefined): Effect.Effect<boolean, StorageError> => {
      if (lockManager === undefined) return Effect.succeed(false)
      return Effect.flatMap(lockManager.isLocked(key), (locked) =>
        locked
          ? Effect.flatMap(holderOf(holder), (h) => Effect.map(lockManager.isLockHolder(key, h), (mine) => !mine))
          : Effect.succeed(false))
    }

    const persist = <A>(
      record: ResultRecord.ResultRecord<A>,
      holder: string | undefined
    ): Effect.Effect<void, SerializationError | StorageError | InvalidState> => {
      const storageKey = record.metadata.storageKey
      if (storageKey === null) {
        return Effect.fail(new InvalidState({ message: "Storage key is required on result record" }))
      }
      const written = record.metadata.serializer.typed === undefined
        ? writeStored(record, storageKey)
        : Effect.flatMap(storedForm(record), (stored) => writeStored(stored, storageKey))
      if (lockManager === undefined) return written
      const key = baseKey(storageKey)
      return Effect.flatMap(
        lockedByOther(key, holder),
        (locked): Effect.Effect<void, SerializationError | StorageError | InvalidState> =>
          locked
            ? Effect.fail(
              new InvalidState({
                message: `Cannot write to result record with key ${
                  PyJson.capText(key)
                } because it is locked by another holder.`
              })
            )
            : written
      )
    }

    const persistResultRecord = <A>(
      record: ResultRecord.ResultRecord<A>,
      persistOptions?: { readonly holder?: string | undefined }
    ): Effect.Effect<ResultRecord.ResultRecord<A>, SerializationError | StorageError | InvalidState> =>
      Effect.as(persist(record, persistOptions?.holder), ResultRecord.markPersisted(record))

    const write: ResultStoreShape["write"] = (value, writeOptions) => {
      const key = writeOptions?.key
      if (key !== undefined && key !== "" && resolveKey === undefined) {
        // Built persisted (it is never returned, only cached once written): no second record to mark it.
        return Effect.suspend(() =>
          persist(build(value, key, writeOptions?.expiration ?? null, true), writeOptions?.holder)
        )
      }
      return Effect.flatMap(createResultRecord(value, writeOptions), (record) => persist(record, writeOptions?.holder))
    }

    // --- read --------------------------------------------------------------------------------

    type Read = Effect.Effect<ResultRecord.ResultRecord<unknown>, MissingResult | SerializationError | StorageError>

    /** The serializer a record's metadata names, or the store's when the fields are the same. */
    const runnable = (metadata: ResultRecord.ResultRecordMetadata): ResultRecord.ResultRecordMetadata =>
      metadata.serializer !== storeSerializer && Equal.equals(metadata.serializer, storeSerializer)
        ? withSerializer(metadata, storeSerializer)
        : metadata

    const readStorage = (key: string, backup: Serializer.Serializer): Read => {
      if (metadataStore === undefined) {
        return Effect.flatMap(
          Effect.mapError(getStored(key), storageError("read", key)),
          (stored): Read =>
            stored === undefined
              ? Effect.fail(notFound("Result record", key))
              : Effect.map(codec.deserialize(stored, backup), (record) =>
                remember(key, ResultRecord.markPersisted(record)))
        )
      }
      const metadataKey = baseKey(key)
      return Effect.flatMap(
        Effect.mapError(metadataStore.getUint8Array(metadataKey), storageError("read metadata at", metadataKey)),
        (metadataBytes): Read => {
          if (metadataBytes === undefined) return Effect.fail(notFound("Result metadata", metadataKey))
          return Effect.flatMap(ResultRecord.deserializeMetadata(metadataBytes), (read): Read => {
            const metadata = runnable(read)
            const storageKey = metadata.storageKey
            if (storageKey === null) {
              return Effect.fail(
                new SerializationError({
                  message: `Did not find storage key in metadata (metadata key ${quote(metadataKey)}).`
                })
              )
            }
            return Effect.flatMap(
              Effect.mapError(store.getUint8Array(storageKey), storageError("read", storageKey)),
              (resultBytes): Read =>
                resultBytes === undefined
                  ? Effect.fail(notFound("Result", storageKey))
                  : Effect.map(
                    metadata.serializer.loads(resultBytes),
                    (result) => remember(key, ResultRecord.make({ metadata, result, persisted: true }))
                  )
            )
          })
        }
      )
    }

    const waitUnlessHolder = (key: string, holder: string | undefined): Effect.Effect<void, StorageError> => {
      if (lockManager === undefined) return Effect.void
      return Effect.flatMap(holderOf(holder), (h) =>
        Effect.flatMap(lockManager.isLockHolder(key, h), (mine) =>
          mine
            ? Effect.void
            : Effect.asVoid(Effect.catchTag(lockManager.waitForLock(key), "InvalidState", () => Effect.void))))
    }

    /** What storage holds at `resolved`: from the cache when there and unexpired, else from storage. */
    const readStored = (resolved: string, backup: Serializer.Serializer): Read => {
      if (cache === undefined) return readStorage(resolved, backup)
      return Effect.suspend((): Read => {
        const hit = cache.get(resolved)
        if (hit === undefined) return readStorage(resolved, backup)
        const expiration = hit.metadata.expiration
        if (expiration === null) return Effect.succeed(hit)
        return Effect.flatMap(Clock.currentTimeMillis, (now): Read => {
          if (expiration.epochMilliseconds > now) return Effect.succeed(hit)
          cache.delete(resolved)
          return readStorage(resolved, backup)
        })
      })
    }

    const readResolved = (
      resolved: string,
      readOptions: ReadOptions<Serializer.SchemaWithoutServices> | undefined
    ): Read => {
      const backup = readOptions?.serializer ?? serializer
      const schema = readOptions?.schema
      const typed = schema !== undefined ? Serializer.typedBySchema(schema) : backup.typed
      const stored = readStored(resolved, untyped(backup))
      const read = typed === undefined ? stored : Effect.flatMap(stored, (record) =>
        Effect.map(
          typed.decode(record.result),
          (result) => ResultRecord.make({ metadata: record.metadata, result, persisted: true })
        ))
      return lockManager === undefined
        ? read
        : Effect.flatMap(waitUnlessHolder(baseKey(resolved), readOptions?.holder), () => read)
    }

    const read = ((key: string, readOptions?: ReadOptions<Serializer.SchemaWithoutServices>) =>
      resolveKey === undefined
        ? readResolved(key, readOptions)
        : Effect.flatMap(resolveKey(key), (resolved) => readResolved(resolved, readOptions))) as ResultStoreShape[
        "read"
      ]

    // --- exists ------------------------------------------------------------------------------

    const metadataAt = (
      resolved: string
    ): Effect.Effect<ResultRecord.ResultRecordMetadata | undefined, SerializationError | StorageError> => {
      if (metadataStore !== undefined) {
        const metadataKey = baseKey(resolved)
        return Effect.flatMap(
          Effect.mapError(metadataStore.getUint8Array(metadataKey), storageError("read metadata at", metadataKey)),
          (bytes) => bytes === undefined ? Effect.succeed(undefined) : ResultRecord.deserializeMetadata(bytes)
        )
      }
      return Effect.flatMap(
        Effect.mapError(getStored(resolved), storageError("read", resolved)),
        (stored) => stored === undefined ? Effect.succeed(undefined) : codec.deserializeMetadata(stored)
      )
    }

    const exists: ResultStoreShape["exists"] = (key) =>
      Effect.orElseSucceed(
        Effect.flatMap(Effect.flatMap(resolve(key), metadataAt), (found) => {
          if (found === undefined) return Effect.succeed(false)
          const expiration = found.expiration
          if (expiration === null) return Effect.succeed(true)
          return Effect.map(Clock.currentTimeMillis, (now) => expiration.epochMilliseconds > now)
        }),
        () => false
      )

    // --- locks -------------------------------------------------------------------------------

    const supportsIsolationLevel: ResultStoreShape["supportsIsolationLevel"] = (level) => {
      if (level === "READ_COMMITTED") return Effect.succeed(true)
      if (level === "SERIALIZABLE") return Effect.succeed(lockManager !== undefined)
      return Effect.fail(new InvalidState({ message: `Unsupported isolation level: ${PyJson.capText(level)}` }))
    }

    return {
      serializer,
      storageBlockId,
      createResultRecord,
      persistResultRecord,
      write,
      read,
      exists,
      supportsIsolationLevel,
      acquireLock: (key, lockOptions) =>
        lockManager === undefined
          ? noLockManager
          : Effect.flatMap(
            holderOf(lockOptions?.holder),
            (holder) => lockManager.acquire(key, holder, { timeout: lockOptions?.timeout })
          ),
      releaseLock: (key, lockOptions) =>
        lockManager === undefined
          ? noLockManager
          : Effect.flatMap(holderOf(lockOptions?.holder), (holder) => lockManager.release(key, holder)),
      isLocked: (key) => lockManager === undefined ? noLockManager : lockManager.isLocked(key),
      isLockHolder: (key, lockOptions) =>
        lockManager === undefined
          ? noLockManager
          : Effect.flatMap(holderOf(lockOptions?.holder), (holder) => lockManager.isLockHolder(key, holder)),
      waitForLock: (key, lockOptions) =>
        lockManager === undefined ? noLockManager : lockManager.waitForLock(key, { timeout: lockOptions?.timeout })
    }
  })

/**
 * Options of {@link layer}: {@link MakeOptions} without `store` (taken from the
 * `KeyValueStore` in context).
 *
 * @category models
 * @since 0.1.0
 */
export type LayerOptions = Omit<MakeOptions, "store">

/**
 * A {@link ResultStore} over the `KeyValueStore` in context; everything else
 * from `options` (see {@link make}).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { KeyValueStore } from "effect/persistence"
 * import { ResultStore, Serializer } from "@runstate/core"
 *
 * const live = ResultStore.layer({ serializer: Serializer.json, cache: 100 }).pipe(
 *   Layer.provide(KeyValueStore.layerMemory)
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: LayerOptions = {}): Layer.Layer<ResultStore, never, KeyValueStore.KeyValueStore> =>
  Layer.effect(
    ResultStore,
    Effect.flatMap(Effect.service(KeyValueStore.KeyValueStore), (store) => make({ ...options, store }))
  )

/**
 * The embedded default store: {@link layer} over `KeyValueStore.layerMemory`
 * with `options` (JSON serializer unless given). Each build is a fresh, empty
 * store.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerMemoryWith = (options: LayerOptions = {}): Layer.Layer<ResultStore> =>
  Layer.provide(layer(options), KeyValueStore.layerMemory)

/**
 * The embedded default store: an in-memory `KeyValueStore`, the JSON
 * serializer, a 1000-entry cache, no lock manager.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<ResultStore> = layerMemoryWith()
