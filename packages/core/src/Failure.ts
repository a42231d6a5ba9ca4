/**
 * How a run that did not simply return ends up as a state: Prefect's
 * `format_exception`, `exception_to_crashed_state` and
 * `exception_to_failed_state`, and the signal and exit errors that crash a
 * run (`TerminationSignal`, `InterruptSignal`, `ProcessExit`). Running an
 * effect to its state (`run`, `fromExit`) lives in `Run`.
 *
 * The rule is Prefect's: anything the user's code fails or dies with ends the
 * run FAILED (a timeout is FAILED named `TimedOut`); only what happens *to* the
 * run from outside — interruption, a signal, a process exit — ends it CRASHED.
 * Every message that lands in `state.message` is Prefect's, character for
 * character (except that "Python system exit call" reads "process exit call").
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as internal from "./internal/failure.ts"
import type { InvalidState } from "./RunError.ts"
import * as Run from "./Run.ts"
import type * as State from "./State.ts"

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

/**
 * The process received a termination signal (SIGTERM and friends): Prefect's
 * `TerminationSignal`. `signal` is the signal number (15 for SIGTERM); as in
 * Prefect, the error's text is that number, so
 * `formatException(new TerminationSignal({ signal: 15 }))` is
 * `TerminationSignal: 15`.
 *
 * A run that fails or dies with it ends CRASHED with
 * `Execution was aborted by a termination signal.`
 *
 * @category errors
 * @since 0.1.0
 */
export const TerminationSignal: typeof internal.TerminationSignal = internal.TerminationSignal

/**
 * The type of {@link TerminationSignal} errors.
 *
 * @category errors
 * @since 0.1.0
 */
export type TerminationSignal = internal.TerminationSignal

/**
 * The process received an interrupt signal (SIGINT, Ctrl+C): Prefect's
 * `KeyboardInterrupt`. Its text is empty, so `formatException` gives
 * `InterruptSignal: ` (with the trailing space).
 *
 * A run that fails or dies with it ends CRASHED with
 * `Execution was aborted by an interrupt signal.`
 *
 * @category errors
 * @since 0.1.0
 */
export const InterruptSignal: typeof internal.InterruptSignal = internal.InterruptSignal

/**
 * The type of {@link InterruptSignal} errors.
 *
 * @category errors
 * @since 0.1.0
 */
export type InterruptSignal = internal.InterruptSignal

/**
 * The process is exiting on request (`process.exit(code)`): Prefect's
 * `SystemExit`. The text is the exit code, as `str(SystemExit(1))` is `1`.
 *
 * A run that fails or dies with it ends CRASHED with
 * `Execution was aborted by a process exit call.`
 *
 * @category errors
 * @since 0.1.0
 */
export const ProcessExit: typeof internal.ProcessExit = internal.ProcessExit

/**
 * The type of {@link ProcessExit} errors.
 *
 * @category errors
 * @since 0.1.0
 */
export type ProcessExit = internal.ProcessExit

// -----------------------------------------------------------------------------
// formatException
// -----------------------------------------------------------------------------

/**
 * Prefect's `format_exception(exc)` without a traceback: `${name}: ${message}`.
 * Never throws, whatever it is given.
 *
 * - **Errors** (and error-like objects with a string `message`): the name is
 *   the `_tag` of tagged errors (`Data.TaggedError`, `Schema.TaggedError`,
 *   Effect's own errors), otherwise the error's `name` (a subclass that keeps
 *   the inherited `"Error"` is named by its class), and the message is its
 *   `message`. An empty message keeps the trailing space: `InterruptSignal: `.
 * - **Causes**: the first failure or defect in the cause, formatted as above;
 *   a cause of interruptions only is
 *   `InterruptError: All fibers interrupted without error` (Effect's
 *   `Cause.pretty` text).
 * - **Non-errors** render as JavaScript's `new Error(String(value))` would:
 *   `Error: ` followed by the value's text — a string as it is
 *   (`"boom"` → `Error: boom`), other primitives through `String`
 *   (`Error: 42`, `Error: null`, `Error: undefined`), objects through their
 *   own `toString` when they define one, else a compact cycle-safe rendering
 *   (`Error: {"a":1}`); an object with a string `_tag` is named by it. Values
 *   whose inspection throws render as `[unrenderable value]` or
 *   `[inspection threw]` instead of throwing.
 *
 * @example
 * ```ts
 * import { Failure } from "@runstate/core"
 *
 * Failure.formatException(new TypeError("bad")) // "TypeError: bad"
 * Failure.formatException(new Failure.InterruptSignal()) // "InterruptSignal: "
 * Failure.formatException("boom") // "Error: boom"
 * ```
 *
 * @category formatting
 * @since 0.1.0
 */
export const formatException: (error: unknown) => string = internal.formatException

// -----------------------------------------------------------------------------
// exceptionToCrashedState
// -----------------------------------------------------------------------------

/**
 * Options of {@link exceptionToCrashedState}.
 *
 * @category models
 * @since 0.1.0
 */
export interface CrashedOptions extends internal.CrashedOptions {}

/**
 * The crash messages of Prefect's `exception_to_crashed_state`, in branch order.
 *
 * @category constants
 * @since 0.1.0
 */
export const crashMessages: typeof internal.crashMessages = internal.crashMessages

/**
 * Prefect's `exception_to_crashed_state`: the CRASHED state of a run stopped
 * from outside its own code. The message follows the first matching branch:
 *
 * | error | message |
 * |---|---|
 * | Effect interruption (a `Cause` of interruptions only) or an `AbortError` | `Execution was cancelled by the runtime environment.` |
 * | {@link InterruptSignal} | `Execution was aborted by an interrupt signal.` |
 * | {@link TerminationSignal} | `Execution was aborted by a termination signal.` |
 * | {@link ProcessExit} | `Execution was aborted by a process exit call.` |
 * | network failure, URL known | `Request to {url} failed: {formatException(e)}.` |
 * | network failure, URL unknown | `Request failed while attempting to contact the server: {formatException(e)}` |
 * | anything else | `Execution was interrupted by an unexpected exception: {formatException(e)}` |
 *
 * A network failure is an `HttpClientError` whose reason is a
 * `TransportError` (URL: the request's, with credentials redacted as Effect
 * redacts them), fetch's `TypeError("fetch failed")` whose `cause` chain holds
 * a network error, or a Node/undici error whose `code` is one of
 * `ECONNREFUSED`, `ECONNRESET`, `ECONNABORTED`, `ETIMEDOUT`, `ENOTFOUND`,
 * `EHOSTUNREACH`, `ENETUNREACH`, `ENETDOWN`, `EHOSTDOWN`, `EAI_AGAIN`,
 * `EPIPE`, `UND_ERR_CONNECT_TIMEOUT`, `UND_ERR_HEADERS_TIMEOUT`,
 * `UND_ERR_BODY_TIMEOUT`, `UND_ERR_SOCKET` (URL: the error's `url`, else
 * `address:port`, else `address` or `hostname`, else unknown).
 *
 * A `Cause` stands for its first failure or defect; a cause of interruptions
 * only stands for an `InterruptError` (`All fibers interrupted without error`).
 *
 * Data: with a `ResultStore` in context, a new unpersisted result record of the
 * error under a random key; otherwise the error itself. The timestamp comes
 * from `Clock` and `traceparent` from the current span.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Failure } from "@runstate/core"
 *
 * const state = Effect.runSync(Failure.exceptionToCrashedState(new Failure.TerminationSignal({ signal: 15 })))
 * state.message // "Execution was aborted by a termination signal."
 * ```
 *
 * @category conversions
 * @since 0.1.0
 */
export const exceptionToCrashedState: (
  error: unknown,
  options?: CrashedOptions
) => Effect.Effect<State.Crashed<unknown>> = internal.exceptionToCrashedState

// -----------------------------------------------------------------------------
// exceptionToFailedState
// -----------------------------------------------------------------------------

/**
 * Options of {@link exceptionToFailedState}.
 *
 * @category models
 * @since 0.1.0
 */
export interface FailedOptions extends internal.FailedOptions {}

/**
 * Prefect's `exception_to_failed_state`: the FAILED state of a run whose own
 * code failed.
 *
 * - No error: `undefined` or `null` fails with `InvalidState`
 *   `Exception was not passed and no active exception could be found.`
 *   (Prefect's `ValueError`; there is no "exception being handled" to fall
 *   back on). The type says so: an argument whose type excludes `null` and
 *   `undefined` cannot fail.
 * - Message: `options.message` (default empty) gets a trailing space when it
 *   is not empty and does not already end with one, then
 *   `formatException(error)` follows: `{ message: "Context:" }` →
 *   `Context: ValueError: test error`.
 * - `stateDetails.retriable` is forced to `false` (the server must not
 *   auto-retry such a proposal; engines retry in process).
 * - Data: with a `ResultStore` in context, a new result record of the error
 *   under a random key, persisted when `writeResult` is set — a failed write
 *   logs the warning
 *   `Failed to write result: {error} Execution will continue, but the result has not been written`
 *   and the state keeps the unpersisted record. Without a store, the error itself.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Failure } from "@runstate/core"
 *
 * const state = Effect.runSync(Failure.exceptionToFailedState(new RangeError("bad"), { message: "Context:" }))
 * state.message // "Context: RangeError: bad"
 * ```
 *
 * @category conversions
 * @since 0.1.0
 */
export const exceptionToFailedState: {
  (error: {}, options?: FailedOptions): Effect.Effect<State.Failed<unknown>>
  (error: unknown, options?: FailedOptions): Effect.Effect<State.Failed<unknown>, InvalidState>
} = internal.exceptionToFailedState as {
  (error: {}, options?: FailedOptions): Effect.Effect<State.Failed<unknown>>
  (error: unknown, options?: FailedOptions): Effect.Effect<State.Failed<unknown>, InvalidState>
}

// -----------------------------------------------------------------------------
// deprecated: fromExit / run moved to Run
// -----------------------------------------------------------------------------

/**
 * Options of {@link fromExit}.
 *
 * @deprecated Use `Run.FromExitOptions`; this alias goes in the next release.
 * @category models
 * @since 0.1.0
 */
export type FromExitOptions = Run.FromExitOptions

/**
 * Options of {@link run}.
 *
 * @deprecated Use `Run.RunOptions`; this alias goes in the next release.
 * @category models
 * @since 0.1.0
 */
export type RunOptions<R = never> = Run.RunOptions<R>

/**
 * The final state of a run from its `Exit`.
 *
 * @deprecated Moved to `Run.fromExit` (typed, dual); this alias goes in the next release.
 * @category conversions
 * @since 0.1.0
 */
export const fromExit: typeof Run.fromExit = Run.fromExit

/**
 * Runs a user's effect and always succeeds with its final state.
 *
 * @deprecated Moved to `Run.run` (typed, dual); this alias goes in the next release.
 * @category running
 * @since 0.1.0
 */
export const run: typeof Run.run = Run.run
