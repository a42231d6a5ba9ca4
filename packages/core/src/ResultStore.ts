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
import * as Context from "effect/Context"
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as KeyValueStore from "effect/persistence/KeyValueStore"
import type * as ResultRecord from "./ResultRecord.ts"
import type { ConfigurationError, InvalidState, MissingResult, SerializationError, StorageError } from "./RunError.ts"
import type * as Serializer from "./Serializer.ts"

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
 * (`No lock held by {holder} for transaction with key {key}`).
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
  ) => Effect.Effect<boolean, StorageError>
  readonly release: (key: string, holder: string) => Effect.Effect<void, InvalidState | StorageError>
  readonly isLocked: (key: string) => Effect.Effect<boolean, StorageError>
  readonly isLockHolder: (key: string, holder: string) => Effect.Effect<boolean, StorageError>
  readonly waitForLock: (
    key: string,
    options?: { readonly timeout?: Duration.Input | undefined }
  ) => Effect.Effect<boolean, StorageError>
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
  /** A new, unpersisted record of `value` (Prefect's `create_result_record`). */
  readonly createResultRecord: <A>(value: A, options?: RecordOptions) => Effect.Effect<ResultRecord.ResultRecord<A>>
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
   * store from a record's metadata).
   */
  readonly read: (
    key: string,
    options?: {
      readonly holder?: string | undefined
      readonly serializer?: Serializer.Serializer | undefined
    }
  ) => Effect.Effect<ResultRecord.ResultRecord<unknown>, MissingResult | SerializationError | StorageError>
  /** Whether a readable, unexpired record exists at `key`; reads metadata only; never fails. */
  readonly exists: (key: string) => Effect.Effect<boolean>
  readonly supportsIsolationLevel: (level: IsolationLevel | (string & {})) => Effect.Effect<boolean, InvalidState>
  readonly acquireLock: (
    key: string,
    options?: {
      readonly holder?: string | undefined
      readonly timeout?: Duration.Input | undefined
    }
  ) => Effect.Effect<boolean, ConfigurationError | StorageError>
  readonly releaseLock: (
    key: string,
    options?: { readonly holder?: string | undefined }
  ) => Effect.Effect<void, ConfigurationError | InvalidState | StorageError>
  readonly isLocked: (key: string) => Effect.Effect<boolean, ConfigurationError | StorageError>
  readonly isLockHolder: (
    key: string,
    options?: { readonly holder?: string | undefined }
  ) => Effect.Effect<boolean, ConfigurationError | StorageError>
  readonly waitForLock: (
    key: string,
    options?: { readonly timeout?: Duration.Input | undefined }
  ) => Effect.Effect<boolean, ConfigurationError | StorageError>
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
   * Writes a value that expires (Redis: `SET … PX`). Default: `store.set`, and
   * expiration is honoured on read by the cache and by `exists` only.
   */
  readonly setWithExpiration?:
    | ((key: string, value: Uint8Array, expiration: DateTime.Utc) => Effect.Effect<void, StorageError>)
    | undefined
}
