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
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as Random from "effect/Random"
import * as Lru from "./internal/lru.ts"
import * as RecordText from "./internal/recordText.ts"
import { v4HexFromBytes } from "./internal/uuid.ts"
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
 * A lock manager: record-level locks keyed by storage key and held by a
 * holder string. `acquire` with `timeout` waits that long for a held lock
 * (`0` = do not wait, absent = wait forever) and answers `false` on timeout;
 * re-acquiring by the same holder succeeds at once; releasing a lock the
 * holder does not hold fails with `InvalidState`
 * (`No lock held by {holder} for transaction with key {key}`). A timeout that
 * is not a valid duration fails with `InvalidState`.
 *
 * @category models
 * @since 0.1.0
 */
export interface LockManagerShape {
  readonly acquire: (
    key: string,
    holder: string,
    options?: {
      readonly timeout?: Duration.Input | undefined
      readonly holdTimeout?: Duration.Input | undefined
    }
  ) => Effect.Effect<boolean, StorageError | InvalidState>
  readonly release: (key: string, holder: string) => Effect.Effect<void, InvalidState | StorageError>
  readonly isLocked: (key: string) => Effect.Effect<boolean, StorageError>
  readonly isLockHolder: (key: string, holder: string) => Effect.Effect<boolean, StorageError>
  readonly waitForLock: (
    key: string,
    options?: { readonly timeout?: Duration.Input | undefined }
  ) => Effect.Effect<boolean, StorageError | InvalidState>
}

/**
 * The `LockManager` service, for layers that share one lock manager.
 *
 * @category services
 * @since 0.1.0
 */
export class LockManager extends Context.Service<LockManager, LockManagerShape>()("@runstate/core/LockManager") {}

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
   * `resolveKey` rejects the key or the key is not well-formed Unicode (a lone
   * surrogate: every store rejects such keys, which UTF-8 storage would merge).
   */
  readonly read: (
    key: string,
    options?: {
      readonly holder?: string | undefined
      readonly serializer?: Serializer.Serializer | undefined
    }
  ) => Effect.Effect<
    ResultRecord.ResultRecord<unknown>,
    MissingResult | SerializationError | StorageError | InvalidState
  >
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
  /** Default: a random UUID4 as 32 lowercase hex chars, from Effect's `Random`. */
  readonly storageKeyFn?: Effect.Effect<string> | undefined
  /** In-memory LRU cache capacity; `0` or `false` disables it. Default 1000. */
  readonly cache?: number | false | undefined
  readonly lockManager?: LockManagerShape | undefined
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

type ReadRecord = Effect.Effect<ResultRecord.ResultRecord<unknown>, MissingResult | SerializationError | StorageError>

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder("utf-8", { fatal: true })

/**
 * The record in `stored` (text, or its UTF-8 bytes), marked persisted, when
 * it is an envelope like the last one read in full (`RecordText.readKnown`):
 * read without an Effect step per stage. `undefined` when it must be read in
 * full.
 */
const readKnownRecord = (
  stored: string | Uint8Array
): ResultRecord.ResultRecord<unknown> | SerializationError | undefined => {
  let text: string
  if (typeof stored === "string") {
    text = stored
  } else {
    try {
      text = utf8Decoder.decode(stored)
    } catch {
      return undefined
    }
  }
  const known = RecordText.readKnown(text)
  if (known === undefined || known instanceof SerializationError) return known
  const m = known.metadata
  return ResultRecord.make({
    metadata: ResultRecord.makeMetadata({
      storageKey: known.storageKey,
      serializer: m.serializer,
      expiration: m.expiration,
      prefectVersion: m.prefectVersion,
      storageBlockId: m.storageBlockId
    }),
    result: known.value,
    persisted: true
  })
}

const noLockManager = Effect.fail(new ConfigurationError({ message: noLockManagerMessage }))

const quote = (key: string): string => JSON.stringify(key)

const storageError = (operation: string, key: string) => (error: KeyValueStore.KeyValueStoreError): StorageError =>
  new StorageError({
    message: `Result storage failed to ${operation} key ${quote(key)}: ${error.message}`,
    key,
    cause: error
  })

/**
 * A key with a lone surrogate is not well-formed Unicode: stores that hold keys
 * as UTF-8 (files, Redis, SQL) would turn it into U+FFFD and merge it with
 * another key, so every store rejects it.
 */
const illFormedKey = (key: string): InvalidState | undefined =>
  key.isWellFormed() ? undefined : new InvalidState({
    message: `Invalid storage key ${
      quote(key.length > 200 ? key.slice(0, 200) : key)
    }: it contains a lone surrogate (not well-formed Unicode).`
  })

/**
 * A random UUID4 as 32 lowercase hex characters (Prefect's default storage
 * key), drawn from Effect's `Random` so tests can seed it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const randomStorageKey: Effect.Effect<string> = Random.Random.useSync((random) => {
  const bytes = new Array<number>(16)
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(random.nextDoubleUnsafe() * 256)
  return v4HexFromBytes(bytes)
})

/** A timeout in milliseconds: `undefined` = none (wait forever); fails on an invalid duration. */
const timeoutMillis = (input: Duration.Input | undefined): Effect.Effect<number | undefined, InvalidState> => {
  if (input === undefined) return Effect.succeed(undefined)
  const decoded = Duration.fromInput(input)
  if (Option.isNone(decoded)) {
    return Effect.fail(new InvalidState({ message: `Invalid timeout: ${String(input)} is not a duration.` }))
  }
  const millis = Duration.toMillis(decoded.value)
  if (Number.isNaN(millis) || millis < 0) {
    return Effect.fail(new InvalidState({ message: `Invalid timeout: ${String(input)} is not a duration.` }))
  }
  return Effect.succeed(millis === Infinity ? undefined : millis)
}

interface LockEntry {
  readonly holder: string
  readonly expiresAt: number | undefined
  readonly freed: Deferred.Deferred<void>
}

/**
 * An in-process lock manager (Prefect's `MemoryLockManager`, SPEC §4.4.8):
 * acquiring a free key succeeds; the same holder re-acquires at once (its hold
 * timeout unchanged); another holder waits until the lock is released or its
 * hold timeout expires, or gives up after `timeout` (→ `false`); releasing a
 * lock one does not hold fails with `InvalidState`
 * `No lock held by {holder} for transaction with key {key}`; `waitForLock`
 * answers `true` if the key is free or freed within the timeout. Time comes
 * from `Clock`, so `TestClock` drives every timeout. Each evaluation makes a
 * new, independent manager; share one through {@link layerLockManagerMemory}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResultStore } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const locks = yield* ResultStore.lockManagerMemory
 *   yield* locks.acquire("key", "a")
 *   return yield* locks.acquire("key", "b", { timeout: 0 }) // false
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const lockManagerMemory: Effect.Effect<LockManagerShape> = Effect.sync(() => {
  const locks = new Map<string, LockEntry>()

  /** The live entry at `key`, dropping (and signalling) one whose hold timeout has passed. */
  const current = (key: string, now: number): LockEntry | undefined => {
    const entry = locks.get(key)
    if (entry !== undefined && entry.expiresAt !== undefined && entry.expiresAt <= now) {
      locks.delete(key)
      Deferred.doneUnsafe(entry.freed, Effect.void)
      return undefined
    }
    return entry
  }

  /** Waits until `entry` is released or its hold timeout passes. */
  const freedOrExpired = (entry: LockEntry, now: number): Effect.Effect<void> =>
    entry.expiresAt === undefined
      ? Deferred.await(entry.freed)
      : Effect.race(Deferred.await(entry.freed), Effect.sleep(entry.expiresAt - now))

  const acquire: LockManagerShape["acquire"] = (key, holder, options) =>
    Effect.gen(function*() {
      const timeout = yield* timeoutMillis(options?.timeout)
      const hold = yield* timeoutMillis(options?.holdTimeout)
      const start = yield* Clock.currentTimeMillis
      const deadline = timeout === undefined ? undefined : start + timeout
      while (true) {
        const now = yield* Clock.currentTimeMillis
        const entry = current(key, now)
        if (entry === undefined) {
          locks.set(key, {
            holder,
            expiresAt: hold === undefined ? undefined : now + hold,
            freed: Deferred.makeUnsafe<void>()
          })
          return true
        }
        if (entry.holder === holder) return true
        if (deadline === undefined) {
          yield* freedOrExpired(entry, now)
        } else {
          if (now >= deadline) return false
          const woke = yield* Effect.timeoutOption(freedOrExpired(entry, now), deadline - now)
          if (Option.isNone(woke)) return false
        }
      }
    })

  const release: LockManagerShape["release"] = (key, holder) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const entry = current(key, now)
      if (entry === undefined || entry.holder !== holder) {
        return Effect.fail(new InvalidState({ message: `No lock held by ${holder} for transaction with key ${key}` }))
      }
      locks.delete(key)
      Deferred.doneUnsafe(entry.freed, Effect.void)
      return Effect.void
    })

  const isLocked: LockManagerShape["isLocked"] = (key) =>
    Effect.map(Clock.currentTimeMillis, (now) => current(key, now) !== undefined)

  const isLockHolder: LockManagerShape["isLockHolder"] = (key, holder) =>
    Effect.map(Clock.currentTimeMillis, (now) => current(key, now)?.holder === holder)

  const waitForLock: LockManagerShape["waitForLock"] = (key, options) =>
    Effect.gen(function*() {
      const timeout = yield* timeoutMillis(options?.timeout)
      const now = yield* Clock.currentTimeMillis
      const entry = current(key, now)
      if (entry === undefined) return true
      if (timeout === undefined) {
        yield* freedOrExpired(entry, now)
        return true
      }
      const woke = yield* Effect.timeoutOption(freedOrExpired(entry, now), timeout)
      return Option.isSome(woke)
    })

  return { acquire, release, isLocked, isLockHolder, waitForLock }
})

/**
 * A layer providing one shared in-memory {@link LockManager} (see
 * {@link lockManagerMemory}).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerLockManagerMemory: Layer.Layer<LockManager> = Layer.effect(LockManager, lockManagerMemory)

/** Parses a full record envelope's metadata without running the result's serializer (for `exists`). */
const envelopeMetadata = (
  bytes: Uint8Array
): Effect.Effect<ResultRecord.ResultRecordMetadata, SerializationError> =>
  Effect.flatMap(
    Effect.try({
      try: () => JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as unknown,
      catch: (cause) => new SerializationError({ message: "Stored bytes are not a result record: not JSON.", cause })
    }),
    (json) => {
      if (typeof json !== "object" || json === null || Array.isArray(json)) {
        return Effect.fail(new SerializationError({ message: "Stored bytes are not a result record: not an object." }))
      }
      const obj = json as Record<string, unknown>
      if (!("result" in obj) && !("data" in obj)) {
        return Effect.fail(new SerializationError({ message: "Stored bytes are not a result record: no result." }))
      }
      // Prefect's old-format coercion: top-level fields move into `metadata`.
      const base = obj["metadata"] === undefined ? {} : obj["metadata"]
      if (typeof base !== "object" || base === null || Array.isArray(base)) {
        return Effect.fail(new SerializationError({ message: "Stored bytes are not a result record: bad metadata." }))
      }
      const metadata: Record<string, unknown> = { ...base }
      for (const field of ["expiration", "serializer", "prefect_version"]) {
        if (field in obj) metadata[field] = obj[field]
      }
      return ResultRecord.metadataFromJson(metadata)
    }
  )

/**
 * Builds a result store over a `KeyValueStore` (Prefect's `ResultStore`,
 * SPEC §4.4):
 *
 * - `createResultRecord` keys a new unpersisted record with `options.key` (when
 *   non-empty) or `storageKeyFn` (default {@link randomStorageKey}), mapped
 *   through `resolveKey`;
 * - `persistResultRecord` refuses a key locked by another holder
 *   (`InvalidState` `Cannot write to result record with key {base_key} because it is locked by another holder.`),
 *   writes the full envelope at the storage key — or, with `metadataStore`, the
 *   raw result there and the metadata at the base key in `metadataStore` — using
 *   `setWithExpiration` for expiring records when given, then caches the record
 *   and returns it marked persisted;
 * - `read` waits for a lock held by someone else, serves unexpired cache hits
 *   (expired ones are evicted, judged by `Clock`), otherwise reads storage —
 *   which, as in Prefect, does not check expiration — and caches the record;
 *   nothing at the key fails with `MissingResult` (reason `"NotFound"`);
 * - `exists` reads metadata only and answers `false` on any error, on a missing
 *   key, on a raw (envelope-less) result and on an expiration not strictly
 *   later than now;
 * - the cache is an LRU of `cache` entries (default 1000; `0`, `false`, a
 *   negative number or `NaN` disable it; `Infinity` is unbounded);
 * - the lock methods delegate to `lockManager` or fail with
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
  Effect.map(randomStorageKey, (storeId): ResultStoreShape => {
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
    const cache = capacity >= 1 ? Lru.make<string, ResultRecord.ResultRecord<unknown>>(capacity) : undefined

    const defaultHolder: Effect.Effect<string> = Effect.map(Effect.fiberId, (id) => `runstate:${storeId}:${id}`)
    const holderOf = (holder: string | undefined): Effect.Effect<string> =>
      holder === undefined ? defaultHolder : Effect.succeed(holder)

    const resolve = (key: string): Effect.Effect<string, InvalidState> =>
      resolveKey === undefined ? Effect.succeed(key) : resolveKey(key)

    const remember = <A>(key: string, record: ResultRecord.ResultRecord<A>): ResultRecord.ResultRecord<A> => {
      if (cache !== undefined) cache.set(key, record)
      return record
    }

    const put = (
      key: string,
      bytes: Uint8Array,
      expiration: DateTime.Utc | null
    ): Effect.Effect<void, StorageError> =>
      expiration !== null && setWithExpiration !== undefined
        ? setWithExpiration(key, bytes, expiration)
        : Effect.mapError(store.set(key, bytes), storageError("write", key))

    const createResultRecord = <A>(
      value: A,
      recordOptions?: RecordOptions
    ): Effect.Effect<ResultRecord.ResultRecord<A>, InvalidState> => {
      const build = (storageKey: string) =>
        ResultRecord.make({
          metadata: ResultRecord.makeMetadata({
            storageKey,
            serializer,
            expiration: recordOptions?.expiration ?? null,
            storageBlockId
          }),
          result: value
        })
      const key = recordOptions?.key
      if (key !== undefined && key !== "") {
        const bad = illFormedKey(key)
        if (bad !== undefined) return Effect.fail(bad)
        return resolveKey === undefined ? Effect.sync(() => build(key)) : Effect.map(resolveKey(key), build)
      }
      return Effect.map(Effect.flatMap(storageKeyFn, resolve), build)
    }

    const lockedByOther = (key: string, holder: string | undefined): Effect.Effect<boolean, StorageError> => {
      if (lockManager === undefined) return Effect.succeed(false)
      return Effect.flatMap(lockManager.isLocked(key), (locked) =>
        locked
          ? Effect.flatMap(holderOf(holder), (h) => Effect.map(lockManager.isLockHolder(key, h), (mine) => !mine))
          : Effect.succeed(false))
    }

    const writeRecord = <A>(
      record: ResultRecord.ResultRecord<A>,
      storageKey: string
    ): Effect.Effect<ResultRecord.ResultRecord<A>, SerializationError | StorageError> => {
      const expiration = record.metadata.expiration
      if (metadataStore === undefined) {
        return Effect.suspend(() => {
          // The envelope as text when the serializer has a text form: written as a string, whose UTF-8
          // bytes are the envelope's (an envelope starts with `{`, so no store mistakes it for base64).
          const text = RecordText.serialize(record)
          const written = text === undefined
            ? Effect.flatMap(ResultRecord.serialize(record), (bytes) => put(storageKey, bytes, expiration))
            : typeof text !== "string"
            ? Effect.fail(text)
            : expiration !== null && setWithExpiration !== undefined
            ? setWithExpiration(storageKey, utf8Encoder.encode(text), expiration)
            : Effect.mapError(store.set(storageKey, text), storageError("write", storageKey))
          return Effect.map(written, () => remember(storageKey, ResultRecord.markPersisted(record)))
        })
      }
      const metadataKey = baseKey(storageKey)
      return Effect.flatMap(
        ResultRecord.serializeResult(record),
        (resultBytes) =>
          Effect.flatMap(
            put(storageKey, resultBytes, expiration),
            () =>
              Effect.flatMap(ResultRecord.serializeMetadata(record.metadata), (metadataBytes) =>
                Effect.map(
                  Effect.mapError(
                    metadataStore.set(metadataKey, metadataBytes),
                    storageError("write metadata at", metadataKey)
                  ),
                  () => remember(storageKey, ResultRecord.markPersisted(record))
                ))
          )
      )
    }

    const persistResultRecord = <A>(
      record: ResultRecord.ResultRecord<A>,
      persistOptions?: { readonly holder?: string | undefined }
    ): Effect.Effect<ResultRecord.ResultRecord<A>, SerializationError | StorageError | InvalidState> => {
      const storageKey = record.metadata.storageKey
      if (storageKey === null) {
        return Effect.fail(new InvalidState({ message: "Storage key is required on result record" }))
      }
      const bad = illFormedKey(storageKey)
      if (bad !== undefined) return Effect.fail(bad)
      if (lockManager === undefined) return writeRecord(record, storageKey)
      const key = baseKey(storageKey)
      return Effect.flatMap(
        lockedByOther(key, persistOptions?.holder),
        (locked): Effect.Effect<ResultRecord.ResultRecord<A>, SerializationError | StorageError | InvalidState> =>
          locked
            ? Effect.fail(
              new InvalidState({
                message: `Cannot write to result record with key ${key} because it is locked by another holder.`
              })
            )
            : writeRecord(record, storageKey)
      )
    }

    const write: ResultStoreShape["write"] = (value, writeOptions) => {
      const key = writeOptions?.key
      // Hot path: a given key, no key mapping and no locks need no intermediate effects.
      if (key !== undefined && key !== "" && resolveKey === undefined && lockManager === undefined) {
        return Effect.suspend((): Effect.Effect<void, SerializationError | StorageError | InvalidState> => {
          const bad = illFormedKey(key)
          if (bad !== undefined) return Effect.fail(bad)
          const expiration = writeOptions?.expiration ?? null
          // Built persisted: it is only cached once the write succeeded, and never returned.
          const record = ResultRecord.make({
            metadata: ResultRecord.makeMetadata({ storageKey: key, serializer, expiration, storageBlockId }),
            result: value,
            persisted: true
          })
          if (metadataStore === undefined && (expiration === null || setWithExpiration === undefined)) {
            const text = RecordText.serialize(record)
            if (text instanceof SerializationError) return Effect.fail(text)
            if (text !== undefined) {
              // One storage step, one continuation: the common write of a full envelope.
              return Effect.matchCauseEffect(store.set(key, text), {
                onFailure: (cause) => Effect.failCause(Cause.map(cause, storageError("write", key))),
                onSuccess: () => {
                  remember(key, record)
                  return Effect.void
                }
              })
            }
          }
          return Effect.asVoid(writeRecord(record, key))
        })
      }
      return Effect.flatMap(
        createResultRecord(value, writeOptions),
        (record) => persistResultRecord(record, writeOptions)
      )
    }

    const notFound = (what: string, key: string): MissingResult =>
      new MissingResult({
        message: `${what} not found in result storage at key ${quote(key)}.`,
        reason: "NotFound",
        key
      })

    const readStorage = (key: string, backup: Serializer.Serializer): ReadRecord => {
      if (metadataStore === undefined) {
        return Effect.flatMap(
          Effect.mapError(getStored(key), storageError("read", key)),
          (stored): ReadRecord => {
            if (stored === undefined) return Effect.fail(notFound("Result record", key))
            const known = readKnownRecord(stored)
            if (known === undefined) {
              return Effect.map(
                ResultRecord.deserialize(typeof stored === "string" ? utf8Encoder.encode(stored) : stored, backup),
                (record) => remember(key, ResultRecord.markPersisted(record))
              )
            }
            return known instanceof SerializationError ? Effect.fail(known) : Effect.succeed(remember(key, known))
          }
        )
      }
      const metadataKey = baseKey(key)
      return Effect.flatMap(
        Effect.mapError(metadataStore.getUint8Array(metadataKey), storageError("read metadata at", metadataKey)),
        (metadataBytes): ReadRecord => {
          if (metadataBytes === undefined) return Effect.fail(notFound("Result metadata", metadataKey))
          return Effect.flatMap(ResultRecord.deserializeMetadata(metadataBytes), (metadata): ReadRecord => {
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
              (resultBytes): ReadRecord =>
                resultBytes === undefined
                  ? Effect.fail(notFound("Result", storageKey))
                  : Effect.map(
                    ResultRecord.deserializeFromResultAndMetadata(resultBytes, metadataBytes),
                    (record) => remember(key, ResultRecord.markPersisted(record))
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

    const readResolved = (
      resolved: string,
      readOptions:
        | { readonly holder?: string | undefined; readonly serializer?: Serializer.Serializer | undefined }
        | undefined
    ) => {
      const backup = readOptions?.serializer ?? serializer
      const fromCacheOrStorage = cache === undefined
        ? readStorage(resolved, backup)
        : Effect.suspend((): ReadRecord => {
          const hit = cache.get(resolved)
          if (hit === undefined) return readStorage(resolved, backup)
          const expiration = hit.metadata.expiration
          if (expiration === null) return Effect.succeed(hit)
          return Effect.flatMap(Clock.currentTimeMillis, (now): ReadRecord => {
            if (expiration.epochMilliseconds > now) return Effect.succeed(hit)
            cache.delete(resolved)
            return readStorage(resolved, backup)
          })
        })
      return lockManager === undefined
        ? fromCacheOrStorage
        : Effect.flatMap(waitUnlessHolder(baseKey(resolved), readOptions?.holder), () => fromCacheOrStorage)
    }

    const read: ResultStoreShape["read"] = (key, readOptions) => {
      const bad = illFormedKey(key)
      if (bad !== undefined) return Effect.fail(bad)
      return resolveKey === undefined
        ? readResolved(key, readOptions)
        : Effect.flatMap(resolveKey(key), (resolved) => readResolved(resolved, readOptions))
    }

    const exists: ResultStoreShape["exists"] = (key) => {
      if (illFormedKey(key) !== undefined) return Effect.succeed(false)
      const metadata = Effect.flatMap(resolve(key), (resolved) => {
        if (metadataStore !== undefined) {
          const metadataKey = baseKey(resolved)
          return Effect.flatMap(
            Effect.mapError(metadataStore.getUint8Array(metadataKey), storageError("read metadata at", metadataKey)),
            (bytes) => bytes === undefined ? Effect.succeed(undefined) : ResultRecord.deserializeMetadata(bytes)
          )
        }
        return Effect.flatMap(
          Effect.mapError(store.getUint8Array(resolved), storageError("read", resolved)),
          (bytes) => bytes === undefined ? Effect.succeed(undefined) : envelopeMetadata(bytes)
        )
      })
      return Effect.orElseSucceed(
        Effect.flatMap(metadata, (found) => {
          if (found === undefined) return Effect.succeed(false)
          const expiration = found.expiration
          if (expiration === null) return Effect.succeed(true)
          return Effect.map(Clock.currentTimeMillis, (now) => expiration.epochMilliseconds > now)
        }),
        () => false
      )
    }

    const supportsIsolationLevel: ResultStoreShape["supportsIsolationLevel"] = (level) => {
      if (level === "READ_COMMITTED") return Effect.succeed(true)
      if (level === "SERIALIZABLE") return Effect.succeed(lockManager !== undefined)
      return Effect.fail(new InvalidState({ message: `Unsupported isolation level: ${level}` }))
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
