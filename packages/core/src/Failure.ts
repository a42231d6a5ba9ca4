/**
 * How a run that did not simply return ends up as a state: Prefect's
 * `format_exception`, `exception_to_crashed_state` and
 * `exception_to_failed_state`, the signal and exit errors that crash a run
 * (`TerminationSignal`, `InterruptSignal`, `ProcessExit`), and the bridge from
 * an Effect `Exit` to a final state (`fromExit`, `run`).
 *
 * The rule is Prefect's: anything the user's code fails or dies with ends the
 * run FAILED (a timeout is FAILED named `TimedOut`); only what happens *to* the
 * run from outside — interruption, a signal, a process exit — ends it CRASHED.
 * Every message that lands in `state.message` is Prefect's, character for
 * character (except that "Python system exit call" reads "process exit call").
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Formatter from "effect/Formatter"
import * as UrlParams from "effect/http/UrlParams"
import * as Option from "effect/Option"
import * as Aggregate from "./Aggregate.ts"
import * as ResultRecord from "./ResultRecord.ts"
import { ResultStore, type ResultStoreShape } from "./ResultStore.ts"
import * as State from "./State.ts"
import * as StateDetails from "./StateDetails.ts"

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
export class TerminationSignal extends Data.TaggedError("TerminationSignal")<{
  readonly signal: number
}> {
  /**
   * The signal number as text, as Prefect's `str(TerminationSignal(15))`.
   *
   * @since 0.1.0
   */
  override get message(): string {
    return String(this.signal)
  }
}

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
export class InterruptSignal extends Data.TaggedError("InterruptSignal")<{}> {}

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
export class ProcessExit extends Data.TaggedError("ProcessExit")<{
  readonly code: number
}> {
  /**
   * The exit code as text.
   *
   * @since 0.1.0
   */
  override get message(): string {
    return String(this.code)
  }
}

// -----------------------------------------------------------------------------
// formatException
// -----------------------------------------------------------------------------

const interruptedText = "All fibers interrupted without error"
const unrenderable = "[unrenderable value]"

const safe = <A>(f: () => A, fallback: A): A => {
  try {
    return f()
  } catch {
    return fallback
  }
}

const isObjectLike = (u: unknown): u is object => (typeof u === "object" && u !== null) || typeof u === "function"

/** The error an interruption-only cause stands for, named as Effect's `Cause.pretty` names it. */
const interruptError = (cause: unknown): Error => {
  const error = new Error(interruptedText, { cause })
  error.name = "InterruptError"
  return error
}

type Unwrapped =
  | { readonly _tag: "Value"; readonly value: unknown }
  | { readonly _tag: "Interrupted"; readonly cause: unknown }

/**
 * The thrown value a `Cause` (or one of its reasons) stands for: the first
 * failure or defect in order; an interruption when there is nothing else.
 */
const unwrap = (u: unknown): Unwrapped => {
  for (let depth = 0; depth < 32; depth++) {
    if (!isObjectLike(u)) return { _tag: "Value", value: u }
    const current = u
    const next = safe((): Unwrapped | undefined => {
      if (Cause.isCause(current)) {
        for (const reason of current.reasons) {
          if (reason._tag === "Fail") return { _tag: "Value", value: reason.error }
          if (reason._tag === "Die") return { _tag: "Value", value: reason.defect }
        }
        return current.reasons.length > 0
          ? { _tag: "Interrupted", cause: current }
          : { _tag: "Value", value: new Error("Empty cause") }
      }
      if (Cause.isReason(current)) {
        if (current._tag === "Fail") return { _tag: "Value", value: current.error }
        if (current._tag === "Die") return { _tag: "Value", value: current.defect }
        return { _tag: "Interrupted", cause: current }
      }
      return undefined
    }, undefined)
    if (next === undefined) return { _tag: "Value", value: u }
    if (next._tag === "Interrupted") return next
    u = next.value
  }
  return { _tag: "Value", value: u }
}

const primitiveText = (u: unknown): string => typeof u === "string" ? u : safe(() => String(u), unrenderable)

const errorName = (u: object): string => {
  const name = safe(() => (u as { readonly name?: unknown }).name, undefined)
  const ctor = safe(() => (u as { readonly constructor?: { readonly name?: unknown } }).constructor?.name, undefined)
  const own = typeof name === "string" && name !== "" ? name : undefined
  if (own !== undefined && own !== "Error") return own
  const byClass = typeof ctor === "string" && ctor !== "" && ctor !== "Object" && ctor !== "Base" ? ctor : undefined
  return byClass ?? own ?? "Error"
}

interface Described {
  readonly name: string
  readonly message: string
}

const describeValue = (u: unknown): Described => {
  if (!isObjectLike(u)) return { name: "Error", message: primitiveText(u) }
  const tag = safe(() => (u as { readonly _tag?: unknown })._tag, undefined)
  const tagName = typeof tag === "string" && tag !== "" ? tag : undefined
  const message = safe(() => (u as { readonly message?: unknown }).message, undefined)
  const isError = safe(() => u instanceof Error, false)
  if (isError || typeof message === "string") {
    return {
      name: tagName ?? errorName(u),
      message: typeof message === "string"
        ? message
        : message === undefined
        ? ""
        : safe(() => Formatter.format(message), unrenderable)
    }
  }
  return { name: tagName ?? "Error", message: safe(() => Formatter.format(u), unrenderable) }
}

const describe = (u: unknown): Described => {
  const unwrapped = unwrap(u)
  return unwrapped._tag === "Interrupted"
    ? { name: "InterruptError", message: interruptedText }
    : describeValue(unwrapped.value)
}

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
export const formatException = (error: unknown): string => {
  const d = safe(() => describe(error), { name: "Error", message: unrenderable })
  return `${d.name}: ${d.message}`
}

/** Python's `str(exc)`: the message part of `formatException`. */
const errorText = (error: unknown): string => safe(() => describe(error).message, unrenderable)

// -----------------------------------------------------------------------------
// classification
// -----------------------------------------------------------------------------

const httpClientErrorTypeId = "~effect/http/HttpClientError"

/**
 * Error codes of Node system errors and undici (fetch) errors that mean the
 * server could not be reached or the connection broke: the counterparts of
 * httpx's `ConnectError` and `TimeoutException`.
 */
const networkCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "EAI_AGAIN",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET"
])

const get = (u: unknown, key: string): unknown => isObjectLike(u) ? (u as Record<string, unknown>)[key] : undefined

const requestUrl = (request: unknown): string | undefined => {
  const url = get(request, "url")
  return typeof url === "string" && url !== "" ? UrlParams.redactUrl(url) : undefined
}

/** Where a Node/undici network error was going: its `url`, else `address:port`, else `address` or `hostname`. */
const endpoint = (u: unknown): string | undefined => {
  const url = get(u, "url")
  if (typeof url === "string" && url !== "") return UrlParams.redactUrl(url)
  const address = get(u, "address")
  const port = get(u, "port")
  if (typeof address === "string" && address !== "") {
    const host = address.includes(":") ? `[${address}]` : address
    return typeof port === "number" || (typeof port === "string" && port !== "") ? `${host}:${port}` : address
  }
  const hostname = get(u, "hostname")
  return typeof hostname === "string" && hostname !== "" ? hostname : undefined
}

const hasNetworkCode = (u: unknown): boolean => {
  const code = get(u, "code")
  return typeof code === "string" && networkCodes.has(code)
}

/** The network error in a chain of `cause`s (fetch wraps the socket error). */
const networkCause = (u: unknown): unknown => {
  let current = get(u, "cause")
  for (let depth = 0; depth < 8 && isObjectLike(current); depth++) {
    if (hasNetworkCode(current)) return current
    current = get(current, "cause")
  }
  return undefined
}

type Network = { readonly url: string | undefined }

const network = (u: unknown): Network | undefined => {
  if (!isObjectLike(u)) return undefined
  if (httpClientErrorTypeId in u) {
    const reason = get(u, "reason")
    return get(reason, "_tag") === "TransportError" ? { url: requestUrl(get(reason, "request")) } : undefined
  }
  if (get(u, "_tag") === "TransportError" && isObjectLike(get(u, "request"))) {
    return { url: requestUrl(get(u, "request")) }
  }
  if (u instanceof TypeError && u.message === "fetch failed") {
    const cause = networkCause(u)
    return cause === undefined ? undefined : { url: endpoint(cause) }
  }
  if (hasNetworkCode(u)) return { url: endpoint(u) }
  return undefined
}

type Kind =
  | { readonly _tag: "Cancelled" }
  | { readonly _tag: "InterruptSignal" }
  | { readonly _tag: "TerminationSignal" }
  | { readonly _tag: "ProcessExit" }
  | { readonly _tag: "Network"; readonly url: string | undefined }
  | { readonly _tag: "Timeout" }
  | { readonly _tag: "Other" }

const other: Kind = { _tag: "Other" }

const classifyUnsafe = (u: unknown): Kind => {
  if (!isObjectLike(u)) return other
  if (u instanceof InterruptSignal) return { _tag: "InterruptSignal" }
  if (u instanceof TerminationSignal) return { _tag: "TerminationSignal" }
  if (u instanceof ProcessExit) return { _tag: "ProcessExit" }
  if (Cause.isTimeoutError(u)) return { _tag: "Timeout" }
  if (get(u, "name") === "AbortError") return { _tag: "Cancelled" }
  const net = network(u)
  return net === undefined ? other : { _tag: "Network", url: net.url }
}

const classify = (u: unknown): Kind => safe(() => classifyUnsafe(u), other)

// -----------------------------------------------------------------------------
// exceptionToCrashedState
// -----------------------------------------------------------------------------

/**
 * Options of {@link exceptionToCrashedState}.
 *
 * @category models
 * @since 0.1.0
 */
export interface CrashedOptions {
  readonly name?: string | undefined
  readonly stateDetails?: StateDetails.Input | StateDetails.StateDetails | undefined
}

/**
 * The crash messages of Prefect's `exception_to_crashed_state`, in branch order.
 *
 * @category constants
 * @since 0.1.0
 */
export const crashMessages = {
  cancelled: "Execution was cancelled by the runtime environment.",
  interruptSignal: "Execution was aborted by an interrupt signal.",
  terminationSignal: "Execution was aborted by a termination signal.",
  processExit: "Execution was aborted by a process exit call."
} as const

const crashMessage = (kind: Kind, error: unknown): string => {
  switch (kind._tag) {
    case "Cancelled":
      return crashMessages.cancelled
    case "InterruptSignal":
      return crashMessages.interruptSignal
    case "TerminationSignal":
      return crashMessages.terminationSignal
    case "ProcessExit":
      return crashMessages.processExit
    case "Network":
      return kind.url === undefined
        ? `Request failed while attempting to contact the server: ${formatException(error)}`
        : `Request to ${kind.url} failed: ${formatException(error)}.`
    default:
      return `Execution was interrupted by an unexpected exception: ${formatException(error)}`
  }
}

/**
 * Builds a state around an error. The state constructors look into their data
 * (Prefect's "unpersisted" check); an error whose inspection throws (a hostile
 * proxy) is attached wrapped in an `Error` whose `cause` is the original.
 */
const buildWith = <S>(build: (data: unknown) => S, data: unknown): Effect.Effect<S> =>
  Effect.catch(
    Effect.try(() => build(data)),
    () => Effect.sync(() => build(new Error(formatException(data), { cause: data })))
  )

const now = Effect.map(Clock.currentTimeMillis, (millis) => DateTime.makeUnsafe(millis))

/**
 * A new record of the error; if the store cannot even create one (its key
 * resolver refused the key), the error itself, with a warning.
 */
const recordOf = (store: ResultStoreShape, error: unknown): Effect.Effect<unknown> =>
  Effect.catchCause(store.createResultRecord(error), (cause) =>
    Effect.as(
      Effect.logWarning(
        `Failed to create a result record: ${errorText(cause)} The error is attached to the state instead`
      ),
      error
    ))

const dataFor = (error: unknown): Effect.Effect<unknown> =>
  Effect.flatMap(
    Effect.serviceOption(ResultStore),
    (store) => Option.isSome(store) ? recordOf(store.value, error) : Effect.succeed(error)
  )

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
export const exceptionToCrashedState = (
  error: unknown,
  options?: CrashedOptions
): Effect.Effect<State.Crashed<unknown>> => crashed(error, true, options)

const crashed = (
  error: unknown,
  useStore: boolean,
  options?: CrashedOptions
): Effect.Effect<State.Crashed<unknown>> =>
  Effect.suspend(() => {
    const unwrapped = unwrap(error)
    const value = unwrapped._tag === "Interrupted" ? interruptError(unwrapped.cause) : unwrapped.value
    const kind: Kind = unwrapped._tag === "Interrupted" ? { _tag: "Cancelled" } : classify(value)
    const message = crashMessage(kind, value)
    return Effect.flatMap(
      Effect.all([useStore ? dataFor(value) : Effect.succeed(value), now]),
      ([data, timestamp]) =>
        Effect.flatMap(
          buildWith((data) =>
            State.Crashed<unknown>({
              message,
              data,
              timestamp,
              ...(options?.name === undefined ? {} : { name: options.name }),
              ...(options?.stateDetails === undefined ? {} : { stateDetails: options.stateDetails })
            }), data),
          State.withTraceparent
        )
    )
  })

// -----------------------------------------------------------------------------
// exceptionToFailedState
// -----------------------------------------------------------------------------

/**
 * Options of {@link exceptionToFailedState}.
 *
 * @category models
 * @since 0.1.0
 */
export interface FailedOptions {
  /** Prefix of the message; a space is added when it does not end with one. Default empty. */
  readonly message?: string | undefined
  /** Persist the error's result record (needs a `ResultStore`); failures are logged, never raised. */
  readonly writeResult?: boolean | undefined
  readonly name?: string | undefined
  readonly stateDetails?: StateDetails.Input | StateDetails.StateDetails | undefined
}

const persistOrWarn = (record: unknown, persist: Effect.Effect<unknown, unknown>): Effect.Effect<unknown> =>
  Effect.catchCause(persist, (cause) =>
    Effect.as(
      Effect.logWarning(
        `Failed to write result: ${errorText(cause)} Execution will continue, but the result has not been written`
      ),
      record
    ))

/**
 * Prefect's `exception_to_failed_state`: the FAILED state of a run whose own
 * code failed.
 *
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
export const exceptionToFailedState = (
  error: unknown,
  options?: FailedOptions
): Effect.Effect<State.Failed<unknown>> =>
  Effect.suspend(() => {
    const prefix = options?.message ?? ""
    const message = (prefix !== "" && !prefix.endsWith(" ") ? prefix + " " : prefix) + formatException(error)
    const stateDetails = StateDetails.update(StateDetails.make(options?.stateDetails), { retriable: false })
    const data = Effect.flatMap(Effect.serviceOption(ResultStore), (store) => {
      if (Option.isNone(store)) return Effect.succeed<unknown>(error)
      return Effect.flatMap(
        recordOf(store.value, error),
        (record) =>
          options?.writeResult === true && ResultRecord.isResultRecord(record)
            ? persistOrWarn(record, store.value.persistResultRecord(record))
            : Effect.succeed(record)
      )
    })
    return Effect.flatMap(
      Effect.all([data, now]),
      ([data, timestamp]) =>
        Effect.flatMap(
          buildWith((data) =>
            State.Failed<unknown>({
              message,
              data,
              timestamp,
              stateDetails,
              ...(options?.name === undefined ? {} : { name: options.name })
            }), data),
          State.withTraceparent
        )
    )
  })

// -----------------------------------------------------------------------------
// fromExit / run
// -----------------------------------------------------------------------------

/**
 * Options of {@link fromExit}.
 *
 * @category models
 * @since 0.1.0
 */
export interface FromExitOptions {
  /** Storage key of a success's result record (default: a random UUID4 hex). */
  readonly key?: string | undefined
  /** Expiration of a success's result record. */
  readonly expiration?: DateTime.Utc | null | undefined
  /** Persist the result record — of the value on success, of the error on failure. */
  readonly writeResult?: boolean | undefined
  /** Aggregate states nested in arrays and records (see `Aggregate.returnValueToState`). */
  readonly nested?: boolean | undefined
  /** Prefix of a FAILED state's message (see {@link exceptionToFailedState}). */
  readonly message?: string | undefined
}

/**
 * Options of {@link run}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RunOptions<R = never> extends FromExitOptions {
  /**
   * Called with the final state before `run` returns it, uninterruptibly —
   * also when the fiber running `run` is interrupted from outside, where the
   * state cannot be returned (see {@link run}). Its failures are logged.
   */
  readonly onState?: ((state: State.State<unknown>) => Effect.Effect<unknown, unknown, R>) | undefined
  /**
   * Run inside a new span of this name (no call-site stack trace), so that the
   * states built carry its traceparent. Default: no span of its own — states
   * carry the caller's current span's traceparent, or `null`.
   */
  readonly span?: string | undefined
}

type ReturnValueOptions = NonNullable<Parameters<typeof Aggregate.returnValueToState>[1]>

const returnOptions = (options: FromExitOptions | undefined): ReturnValueOptions | undefined => {
  if (options === undefined) return undefined
  const out: {
    key?: string
    expiration?: DateTime.Utc | null
    writeResult?: boolean
    nested?: boolean
  } = {}
  if (options.key !== undefined) out.key = options.key
  if (options.expiration !== undefined) out.expiration = options.expiration
  if (options.writeResult !== undefined) out.writeResult = options.writeResult
  if (options.nested !== undefined) out.nested = options.nested
  return out
}

const failedOptions = (options: FromExitOptions | undefined, name?: string): FailedOptions => ({
  ...(options?.message === undefined ? {} : { message: options.message }),
  ...(options?.writeResult === undefined ? {} : { writeResult: options.writeResult }),
  ...(name === undefined ? {} : { name })
})

const fromCause = <E>(cause: Cause.Cause<E>, options: FromExitOptions | undefined): Effect.Effect<State.State> => {
  const unwrapped = unwrap(cause)
  if (unwrapped._tag === "Interrupted") return exceptionToCrashedState(cause)
  const error = unwrapped.value
  switch (classify(error)._tag) {
    case "InterruptSignal":
    case "TerminationSignal":
    case "ProcessExit":
      return exceptionToCrashedState(error)
    case "Timeout":
      return exceptionToFailedState(error, failedOptions(options, "TimedOut"))
    default:
      return exceptionToFailedState(error, failedOptions(options))
  }
}

/**
 * The final state of a run from its `Exit` (the Exit → State decision):
 *
 * - `Success(a)` → `Aggregate.returnValueToState(a, { key, expiration, writeResult, nested })`
 *   (COMPLETED with a result record, a returned state, or an aggregate);
 * - the first failure or defect of the cause is {@link TerminationSignal},
 *   {@link InterruptSignal} or {@link ProcessExit} → CRASHED with Prefect's
 *   signal / exit message ({@link exceptionToCrashedState});
 * - it is an `Effect.timeout` `TimeoutError` → FAILED named `TimedOut`
 *   (message `TimeoutError: Operation timed out after '…'`, prefixed by
 *   `message`), as Prefect names timed-out runs;
 * - any other typed failure or defect → {@link exceptionToFailedState}
 *   (FAILED, `retriable: false`, message prefixed by `message`);
 * - a cause of interruptions only → CRASHED,
 *   `Execution was cancelled by the runtime environment.`
 *
 * @category conversions
 * @since 0.1.0
 */
export const fromExit = <A, E>(
  exit: Exit.Exit<A, E>,
  options?: FromExitOptions
): Effect.Effect<State.State<unknown>, never, ResultStore> =>
  Exit.isSuccess(exit)
    ? Aggregate.returnValueToState(exit.value, returnOptions(options))
    : fromCause(exit.cause, options)

/** Last resort when converting itself broke (a defect in a store, say): a crash carrying the error itself. */
const conversionCrash = (cause: Cause.Cause<unknown>): Effect.Effect<State.State<unknown>> =>
  Effect.catchCause(
    crashed(cause, false),
    () =>
      Effect.sync(() =>
        State.Crashed<unknown>({
          message: `Execution was interrupted by an unexpected exception: ${formatException(cause)}`,
          data: null
        })
      )
  )

/** Adds the last-resort crash and `onState` to the conversion of a run's outcome. */
const finish = <R>(
  conversion: Effect.Effect<State.State<unknown>, never, ResultStore>,
  options: RunOptions<R> | undefined
): Effect.Effect<State.State<unknown>, never, ResultStore | R> => {
  const state = Effect.catchCause(conversion, conversionCrash)
  const onState = options?.onState
  if (onState === undefined) return state
  return Effect.tap(state, (s) =>
    Effect.catchCause(
      onState(s),
      (cause) => Effect.logWarning(`Failure.run: onState failed: ${formatException(cause)}`)
    ))
}

/** What `run` does with the outcome of the user's effect. */
interface Handlers<R> {
  readonly onSuccess: (value: unknown) => Effect.Effect<State.State<unknown>, never, ResultStore | R>
  readonly onFailure: (cause: Cause.Cause<unknown>) => Effect.Effect<State.State<unknown>, never, ResultStore | R>
}

const handlersFor = <R>(options: RunOptions<R> | undefined): Handlers<R> => {
  const returnValueOptions = returnOptions(options)
  return {
    onSuccess: (value: unknown) => finish(Aggregate.returnValueToState(value, returnValueOptions), options),
    onFailure: (cause: Cause.Cause<unknown>) => finish(fromCause(cause, options), options)
  }
}

/** The handlers of a run without options, made once rather than per run. */
const defaultHandlers: Handlers<never> = handlersFor(undefined)

// An engine-chosen span's call-site stack trace would always point into the
// engine that calls `run`, and capturing it costs more than a trivial run.
const spanOptions = { captureStackTrace: false } as const

/**
 * Runs a user's effect and always succeeds with its final state (see
 * {@link fromExit} for the Exit → State decision). Nothing the effect does —
 * failing with any value, dying, throwing inside a sync callback, interrupting
 * itself, timing out — makes `run` fail or hang. States it builds carry the
 * `traceparent` of the caller's current span (`null` when there is none), as
 * Prefect's `_traced` stamps whatever span is active; `run` opens no span of
 * its own unless given `span: "name"`, and then its states carry that span's
 * traceparent. States the user's effect returns are kept as they are.
 *
 * Interruption: only the user's effect is interruptible; the conversion is
 * not. When the fiber running `run` is interrupted from outside, the user's
 * effect is interrupted (its finalizers run), `run` still builds the CRASHED
 * state (`Execution was cancelled by the runtime environment.`) and hands it
 * to `onState`, and then the interruption goes on: an interrupted fiber
 * cannot return a value, so pass `onState` to persist or report the state in
 * that case. To cancel a run and *get* its state, interrupt the user's effect
 * instead (e.g. race it, as `@runstate/node`'s signal handling does).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Failure, ResultStore } from "@runstate/core"
 *
 * const states = Effect.forEach(
 *   [Effect.succeed(1), Effect.fail("boom"), Effect.die(new Error("bug"))],
 *   (task) => Failure.run(task)
 * ).pipe(Effect.provide(ResultStore.layerMemory))
 * // COMPLETED, FAILED "Error: boom", FAILED "Error: bug"
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const run = <A, E, R, R2 = never>(
  effect: Effect.Effect<A, E, R>,
  options?: RunOptions<R2>
): Effect.Effect<State.State<unknown>, never, R | R2 | ResultStore> => {
  const handlers: Handlers<R2> = options === undefined ? defaultHandlers : handlersFor(options)
  const program = Effect.uninterruptibleMask((restore) => Effect.matchCauseEffect(restore(effect), handlers))
  const span = options?.span
  return span === undefined ? program : Effect.withSpan(program, span, spanOptions)
}
