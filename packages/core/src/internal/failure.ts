/**
 * The implementation of exception → state conversion behind `Failure` (and
 * used by `Run`): Prefect's `format_exception`, the crash classification, and
 * `exception_to_crashed_state` / `exception_to_failed_state`. The public
 * documentation lives on the `Failure` exports.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Formatter from "effect/Formatter"
import * as UrlParams from "effect/http/UrlParams"
import * as Context from "effect/Context"
import * as Option from "effect/Option"
import * as ResultRecord from "../ResultRecord.ts"
import { ResultStore, type ResultStoreShape } from "../ResultStore.ts"
import { InvalidState } from "../RunError.ts"
import * as State from "../State.ts"
import * as StateDetails from "../StateDetails.ts"
import { traceparentOf } from "./trace.ts"

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

/** See `Failure.TerminationSignal`. */
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

/** See `Failure.InterruptSignal`. */
export class InterruptSignal extends Data.TaggedError("InterruptSignal")<{}> {}

/** See `Failure.ProcessExit`. */
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

export type Unwrapped =
  | { readonly _tag: "Value"; readonly value: unknown }
  | { readonly _tag: "Interrupted"; readonly cause: unknown }

/**
 * The thrown value a `Cause` (or one of its reasons) stands for: the first
 * failure or defect in order; an interruption when there is nothing else.
 */
export const unwrap = (u: unknown): Unwrapped => {
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

/** See `Failure.formatException`. */
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

export type Kind =
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

export const classify = (u: unknown): Kind => safe(() => classifyUnsafe(u), other)

// -----------------------------------------------------------------------------
// exceptionToCrashedState
// -----------------------------------------------------------------------------

/** See `Failure.CrashedOptions`. */
export interface CrashedOptions {
  readonly name?: string | undefined
  readonly stateDetails?: StateDetails.Input | StateDetails.StateDetails | undefined
}

/** See `Failure.crashMessages`. */
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

/** See `Failure.exceptionToCrashedState`. */
export const exceptionToCrashedState = (
  error: unknown,
  options?: CrashedOptions
): Effect.Effect<State.Crashed<unknown>> => crashed(error, true, options)

export const crashed = (
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

/** See `Failure.FailedOptions`. */
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

/** Prefect's `ValueError` text when `exception_to_failed_state` is given no exception. */
export const missingExceptionText = "Exception was not passed and no active exception could be found."

/** The details of a FAILED state without options or span: only `retriable: false` (machinery, no user data). */
const notRetriable = StateDetails.make({ retriable: false })

const failedDetails = (options: FailedOptions | undefined, traceparent: string | null): StateDetails.StateDetails =>
  options?.stateDetails === undefined && traceparent === null
    ? notRetriable
    : StateDetails.update(StateDetails.make(options?.stateDetails), { retriable: false, traceparent })

/**
 * The FAILED state itself (a plain function: constructors may throw on hostile
 * data, which is then attached wrapped in an `Error`, see {@link buildWith}).
 */
const buildFailed = (
  data: unknown,
  message: string,
  stateDetails: StateDetails.StateDetails,
  timestamp: number,
  name: string | undefined
): State.Failed<unknown> => {
  const options: State.Options<unknown> = { message, data, timestamp: new Date(timestamp), stateDetails, name }
  try {
    return State.Failed(options)
  } catch {
    return State.Failed({ ...options, data: new Error(formatException(data), { cause: data }) })
  }
}

const failedData = (
  store: ResultStoreShape,
  error: unknown,
  options: FailedOptions | undefined
): Effect.Effect<unknown> =>
  Effect.flatMap(
    recordOf(store, error),
    (record) =>
      options?.writeResult === true && ResultRecord.isResultRecord(record)
        ? persistOrWarn(record, store.persistResultRecord(record))
        : Effect.succeed(record)
  )

/**
 * `exceptionToFailedState` without Prefect's check for a missing exception:
 * a run that fails with `undefined` still ends FAILED (`Error: undefined`).
 * Without a store it is one step: message, details, clock and span are read
 * straight from the fiber.
 */
export const failedStateOf = (error: unknown, options?: FailedOptions): Effect.Effect<State.Failed<unknown>> =>
  Effect.withFiber((fiber) => {
    const prefix = options?.message ?? ""
    const message = (prefix !== "" && !prefix.endsWith(" ") ? prefix + " " : prefix) + formatException(error)
    const details = failedDetails(options, traceparentOf(fiber))
    const store = Context.getOrUndefined(fiber.context, ResultStore)
    if (store === undefined) {
      const millis = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
      return Effect.succeed(buildFailed(error, message, details, millis, options?.name))
    }
    return Effect.flatMap(
      failedData(store, error, options),
      (data) =>
        Effect.clockWith((clock) =>
          Effect.succeed(buildFailed(data, message, details, clock.currentTimeMillisUnsafe(), options?.name))
        )
    )
  })

/** See `Failure.exceptionToFailedState`. */
export const exceptionToFailedState = (
  error: unknown,
  options?: FailedOptions
): Effect.Effect<State.Failed<unknown>, InvalidState> =>
  error === undefined || error === null
    ? Effect.fail(new InvalidState({ message: missingExceptionText }))
    : failedStateOf(error, options)
