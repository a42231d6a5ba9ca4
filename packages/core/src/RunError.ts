/**
 * The errors of runstate's Effect programs: Prefect's run-result exceptions
 * (`FailedRun`, `CrashedRun`, `CancelledRun`, `PausedRun`, `UnfinishedRun`,
 * `MissingResult`), its `ValueError` / `TypeError` cases (`InvalidState`,
 * `UnresolvableResult`), and the serialization and configuration errors of the
 * result store. Every message is Prefect's text, character for character.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Predicate from "effect/Predicate"

/**
 * The result of a FAILED run was requested and the state carries no exception.
 *
 * Default message: `Run failed.`
 *
 * @category errors
 * @since 0.1.0
 */
export class FailedRun extends Data.TaggedError("FailedRun")<{
  readonly message: string
}> {}

/**
 * The result of a CRASHED run was requested and the state carries no exception.
 *
 * Default message: `Run crashed.`
 *
 * @category errors
 * @since 0.1.0
 */
export class CrashedRun extends Data.TaggedError("CrashedRun")<{
  readonly message: string
}> {}

/**
 * The result of a CANCELLED run was requested and the state carries no exception.
 *
 * Default message: `Run cancelled.`
 *
 * @category errors
 * @since 0.1.0
 */
export class CancelledRun extends Data.TaggedError("CancelledRun")<{
  readonly message: string
}> {}

/**
 * The result of a PAUSED run was requested. Carries the paused state, as
 * Prefect's `PausedRun(state=...)` does.
 *
 * @category errors
 * @since 0.1.0
 */
export class PausedRun extends Data.TaggedError("PausedRun")<{
  readonly message: string
  readonly state: unknown
}> {}

/**
 * The result of a run that is not final (SCHEDULED, PENDING, RUNNING,
 * CANCELLING) was requested: `Run is in RUNNING state, its result is not available.`
 *
 * @category errors
 * @since 0.1.0
 */
export class UnfinishedRun extends Data.TaggedError("UnfinishedRun")<{
  readonly message: string
}> {}

/**
 * Why a result is missing.
 *
 * - `"NoData"`: the state carries no data (Prefect's `MissingResult`, typical when
 *   result persistence is off and the state came from the API).
 * - `"NotFound"`: the state points at a record that storage does not have.
 *
 * @category models
 * @since 0.1.0
 */
export type MissingResultReason = "NoData" | "NotFound"

/**
 * A result could not be found: either the state carries no data, or storage
 * has nothing at the key. `reason` tells the two apart.
 *
 * @category errors
 * @since 0.1.0
 */
export class MissingResult extends Data.TaggedError("MissingResult")<{
  readonly message: string
  readonly reason: MissingResultReason
  readonly key?: string | undefined
  readonly cause?: unknown
}> {}

/**
 * Prefect's `ValueError` cases: conflicting constructor arguments, an unknown
 * state type, asking a COMPLETED state for its exception, a lock released by a
 * holder that does not hold it, a storage key outside the base path, ...
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidState extends Data.TaggedError("InvalidState")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * Prefect's `TypeError` case: a failed state whose result cannot be resolved
 * into an exception.
 *
 * @category errors
 * @since 0.1.0
 */
export class UnresolvableResult extends Data.TaggedError("UnresolvableResult")<{
  readonly message: string
  readonly result: unknown
}> {}

/**
 * A value could not be serialized or deserialized, or stored bytes are not a
 * record: `Failed to serialize object of type 'X' with serializer 'json'. ...`.
 *
 * @category errors
 * @since 0.1.0
 */
export class SerializationError extends Data.TaggedError("SerializationError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * The result store is not configured for what was asked, e.g. locking without
 * a lock manager.
 *
 * @category errors
 * @since 0.1.0
 */
export class ConfigurationError extends Data.TaggedError("ConfigurationError")<{
  readonly message: string
}> {}

/**
 * A storage backend failed (I/O error, connection lost, ...). The record that
 * was stored before the failure is left intact.
 *
 * @category errors
 * @since 0.1.0
 */
export class StorageError extends Data.TaggedError("StorageError")<{
  readonly message: string
  readonly key?: string | undefined
  readonly cause?: unknown
}> {}

/**
 * Any of the run-result errors a state's exception can be wrapped in.
 *
 * @category models
 * @since 0.1.0
 */
export type RunResultError = FailedRun | CrashedRun | CancelledRun

/**
 * Every error of this module.
 *
 * @category models
 * @since 0.1.0
 */
export type RunError =
  | FailedRun
  | CrashedRun
  | CancelledRun
  | PausedRun
  | UnfinishedRun
  | MissingResult
  | InvalidState
  | UnresolvableResult
  | SerializationError
  | ConfigurationError
  | StorageError

const tags: ReadonlySet<string> = new Set([
  "FailedRun",
  "CrashedRun",
  "CancelledRun",
  "PausedRun",
  "UnfinishedRun",
  "MissingResult",
  "InvalidState",
  "UnresolvableResult",
  "SerializationError",
  "ConfigurationError",
  "StorageError"
])

/**
 * Tells whether a value is one of this module's errors.
 *
 * @category guards
 * @since 0.1.0
 */
export const isRunError = (u: unknown): u is RunError =>
  u instanceof Error && Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag)
