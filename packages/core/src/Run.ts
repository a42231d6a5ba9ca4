/**
 * Running a user's effect to its final state: the bridge from an Effect
 * `Exit` to a Prefect state (`fromExit`) and the runner that always succeeds
 * with that state (`run`). The state is typed by the effect: `run` of an
 * `Effect<A, E, R>` succeeds with a `RunState<A, E>`, whose result
 * `StateResult.getStateResult` reads back as an `A`.
 *
 * The rule is Prefect's: a value the effect returns becomes COMPLETED (or the
 * aggregate of the states it returns); anything the user's code fails or dies
 * with ends the run FAILED (a timeout is FAILED named `TimedOut`); only what
 * happens *to* the run from outside — interruption, a signal, a process
 * exit — ends it CRASHED.
 *
 * @since 0.2.0
 */
import type * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Aggregate from "./Aggregate.ts"
import {
  classify,
  crashed,
  exceptionToCrashedState,
  type FailedOptions,
  failedStateOf,
  formatException,
  unwrap
} from "./internal/failure.ts"
import type * as ResultRecord from "./ResultRecord.ts"
import type { ResultStore } from "./ResultStore.ts"
import * as State from "./State.ts"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * @category type ids
 * @since 0.2.0
 */
export const ErrorTypeId: ErrorTypeId = "~@runstate/core/Run/Error"

/**
 * @category type ids
 * @since 0.2.0
 */
export type ErrorTypeId = "~@runstate/core/Run/Error"

/**
 * The FAILED state of a run whose effect failed with an `E` (or died). Its
 * `data` is the error — a typed failure `E`, or a defect, which can be any
 * value — or, with a `ResultStore` in context, a result record of it. `E`
 * rides along at the type level only (the optional `ErrorTypeId` member is
 * never set), so that {@link ErrorOf} can name it.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunFailed<out E> extends State.Failed<unknown> {
  readonly [ErrorTypeId]?: (_: never) => E
}

/**
 * The CRASHED state of a run stopped from outside (interruption, a signal, a
 * process exit, or a conversion that itself broke). Its `data` is the error
 * or a result record of it.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunCrashed<out E> extends State.Crashed<unknown> {
  readonly [ErrorTypeId]?: (_: never) => E
}

/**
 * The final state of running an `Effect<A, E, R>` (compare effect's
 * `Workflow.Result<A, E>`):
 *
 * - the value's state (`Aggregate.ReturnState<A>`): COMPLETED holding a
 *   `ResultRecord<A>` for plain values; for a returned state, that state
 *   (data swapped for a record) or its aggregate; for a returned collection
 *   of states, their aggregate (COMPLETED, FAILED, CANCELLED or PAUSED)
 *   holding a record of the collection;
 * - `RunFailed<E>` when the effect failed or died;
 * - `RunCrashed<E>` when the run was stopped from outside.
 *
 * `StateResult.getStateResult` of a `RunState<A, E>` succeeds with `A`.
 * `Nested` is `true` when the run aggregates states nested inside plain data
 * (`nested: true`), which can turn any value into an aggregate.
 *
 * @category models
 * @since 0.2.0
 */
export type RunState<A, E = never, Nested extends boolean = false> =
  | Aggregate.ReturnState<A, Nested>
  | RunFailed<E>
  | RunCrashed<E>

/**
 * The typed error `E` of a {@link RunState} (`never` for other states).
 *
 * @category models
 * @since 0.2.0
 */
export type ErrorOf<S> = S extends { readonly [ErrorTypeId]?: ((_: never) => infer E) | undefined } ? E : never

/**
 * Options of {@link fromExit}.
 *
 * @category models
 * @since 0.2.0
 */
export interface FromExitOptions {
  /**
   * Storage key of a success's result record (default: a random UUID4 hex).
   * It applies to successes only: the record of a failure's error always gets
   * a fresh random key, as in Prefect.
   */
  readonly key?: string | undefined
  /** Expiration of a success's result record. */
  readonly expiration?: ResultRecord.ResultRecordMetadata["expiration"] | undefined
  /** Persist the result record — of the value on success, of the error on failure. */
  readonly writeResult?: boolean | undefined
  /** Aggregate states nested in arrays and records (see `Aggregate.returnValueToState`). */
  readonly nested?: boolean | undefined
  /** Prefix of a FAILED state's message (see `Failure.exceptionToFailedState`). */
  readonly message?: string | undefined
}

/**
 * Options of {@link run}.
 *
 * @category models
 * @since 0.2.0
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

// -----------------------------------------------------------------------------
// fromExit
// -----------------------------------------------------------------------------

const returnOptions = (options: FromExitOptions | undefined): Aggregate.ReturnValueOptions | undefined => {
  if (options === undefined) return undefined
  const out: {
    key?: string
    expiration?: ResultRecord.ResultRecordMetadata["expiration"]
    writeResult?: boolean
    nested?: boolean
  } = {}
  if (options.key !== undefined) out.key = options.key
  if (options.expiration !== undefined) out.expiration = options.expiration
  if (options.writeResult !== undefined) out.writeResult = options.writeResult
  if (options.nested !== undefined) out.nested = options.nested
  return out
}

const failedOptions = (options: FromExitOptions | undefined, name?: string): FailedOptions | undefined =>
  options === undefined && name === undefined ? undefined : {
    ...(options?.message === undefined ? {} : { message: options.message }),
    ...(options?.writeResult === undefined ? {} : { writeResult: options.writeResult }),
    ...(name === undefined ? {} : { name })
  }

const fromCause = (
  cause: Cause.Cause<unknown>,
  options: FromExitOptions | undefined
): Effect.Effect<State.State<unknown>> => {
  const unwrapped = unwrap(cause)
  if (unwrapped._tag === "Interrupted") return exceptionToCrashedState(cause)
  const error = unwrapped.value
  switch (classify(error)._tag) {
    case "InterruptSignal":
    case "TerminationSignal":
    case "ProcessExit":
      return exceptionToCrashedState(error)
    case "Timeout":
      return failedStateOf(error, failedOptions(options, "TimedOut"))
    default:
      // Not `exceptionToFailedState`: a run that fails with `undefined` still ends FAILED.
      return failedStateOf(error, failedOptions(options))
  }
}

const fromExitImpl = (
  exit: Exit.Exit<unknown, unknown>,
  options: FromExitOptions | undefined
): Effect.Effect<State.State<unknown>, never, ResultStore> =>
  Exit.isSuccess(exit)
    ? Aggregate.returnValueToState(exit.value, returnOptions(options)) as Effect.Effect<
      State.State<unknown>,
      never,
      ResultStore
    >
    : fromCause(exit.cause, options)

/**
 * The final state of a run from its `Exit` (the Exit → State decision):
 *
 * - `Success(a)` → `Aggregate.returnValueToState(a, { key, expiration, writeResult, nested })`
 *   (COMPLETED with a result record, a returned state, or an aggregate);
 * - the first failure or defect of the cause is `Failure.TerminationSignal`,
 *   `Failure.InterruptSignal` or `Failure.ProcessExit` → CRASHED with
 *   Prefect's signal / exit message (`Failure.exceptionToCrashedState`);
 * - it is an `Effect.timeout` `TimeoutError` → FAILED named `TimedOut`
 *   (message `TimeoutError: Operation timed out after '…'`, prefixed by
 *   `message`), as Prefect names timed-out runs;
 * - any other typed failure or defect → FAILED as
 *   `Failure.exceptionToFailedState` builds it (`retriable: false`, message
 *   prefixed by `message`) — also a failure with `undefined` or `null`
 *   (`Error: undefined`), which `exceptionToFailedState` itself refuses;
 * - a cause of interruptions only → CRASHED,
 *   `Execution was cancelled by the runtime environment.`
 *
 * `key` and `expiration` apply to a success's record only. Data-first
 * (`fromExit(exit, options?)`) or data-last (`exit.pipe(Run.fromExit(options?))`).
 *
 * @example
 * ```ts
 * import { Effect, Exit } from "effect"
 * import { ResultStore, Run, StateResult } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const state = yield* Exit.succeed(42).pipe(Run.fromExit({ key: "answer" }))
 *   const value: number = yield* StateResult.getStateResult(state)
 *   return value // 42
 * }).pipe(Effect.provide(ResultStore.layerMemory))
 * ```
 *
 * @category conversions
 * @since 0.2.0
 */
export const fromExit: {
  <A, E>(
    exit: Exit.Exit<A, E>,
    options: FromExitOptions & { readonly nested: true }
  ): Effect.Effect<RunState<A, E, true>, never, ResultStore>
  <A, E>(exit: Exit.Exit<A, E>, options?: FromExitOptions): Effect.Effect<RunState<A, E>, never, ResultStore>
  (
    options: FromExitOptions & { readonly nested: true }
  ): <A, E>(exit: Exit.Exit<A, E>) => Effect.Effect<RunState<A, E, true>, never, ResultStore>
  (options?: FromExitOptions): <A, E>(exit: Exit.Exit<A, E>) => Effect.Effect<RunState<A, E>, never, ResultStore>
} = dual(
  (args: IArguments) => Exit.isExit(args[0]),
  fromExitImpl
) as any

// -----------------------------------------------------------------------------
// run
// -----------------------------------------------------------------------------

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
const finish = (
  conversion: Effect.Effect<State.State<unknown>, never, ResultStore>,
  options: RunOptions<unknown> | undefined
): Effect.Effect<State.State<unknown>, never, unknown> => {
  const state = Effect.catchCause(conversion, conversionCrash)
  const onState = options?.onState
  if (onState === undefined) return state
  return Effect.tap(state, (s) =>
    Effect.catchCause(
      onState(s),
      (cause) => Effect.logWarning(`Run.run: onState failed: ${formatException(cause)}`)
    ))
}

/** What `run` does with the outcome of the user's effect. */
interface Handlers {
  readonly onSuccess: (value: unknown) => Effect.Effect<State.State<unknown>, never, unknown>
  readonly onFailure: (cause: Cause.Cause<unknown>) => Effect.Effect<State.State<unknown>, never, unknown>
}

const handlersFor = (options: RunOptions<unknown> | undefined): Handlers => {
  const returnValueOptions = returnOptions(options)
  return {
    onSuccess: (value: unknown) =>
      finish(
        Aggregate.returnValueToState(value, returnValueOptions) as Effect.Effect<
          State.State<unknown>,
          never,
          ResultStore
        >,
        options
      ),
    onFailure: (cause: Cause.Cause<unknown>) => finish(fromCause(cause, options), options)
  }
}

/** The handlers of a run without options, made once rather than per run (machinery, no user data). */
const defaultHandlers: Handlers = handlersFor(undefined)

// An engine-chosen span's call-site stack trace would always point into the
// engine that calls `run`, and capturing it costs more than a trivial run.
const spanOptions = { captureStackTrace: false } as const

const runImpl = (
  effect: Effect.Effect<unknown, unknown, unknown>,
  options: RunOptions<unknown> | undefined
): Effect.Effect<State.State<unknown>, never, unknown> => {
  const handlers = options === undefined ? defaultHandlers : handlersFor(options)
  const program = Effect.uninterruptibleMask((restore) => Effect.matchCauseEffect(restore(effect), handlers))
  const span = options?.span
  return span === undefined ? program : Effect.withSpan(program, span, spanOptions)
}

/**
 * Runs a user's effect and always succeeds with its final state, typed by the
 * effect: `run(effect: Effect<A, E, R>)` succeeds with a
 * `RunState<A, E>`, and `StateResult.getStateResult` of that state
 * succeeds with an `A` — no casts. See {@link fromExit} for the Exit → State
 * decision.
 *
 * Nothing the effect does — failing with any value, dying, throwing inside a
 * sync callback, interrupting itself, timing out — makes `run` fail or hang.
 * States it builds carry the `traceparent` of the caller's current span
 * (`null` when there is none), as Prefect's `_traced` stamps whatever span is
 * active; `run` opens no span of its own unless given `span: "name"`, and then
 * its states carry that span's traceparent. States the user's effect returns
 * are kept as they are.
 *
 * `key` and `expiration` name the result record of a *success* only; the
 * record of a failure's error always gets a fresh random key (Prefect's rule).
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
 * Data-first (`Run.run(effect, options?)`) or data-last
 * (`effect.pipe(Run.run(options?))`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResultStore, Run, StateResult } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const state = yield* Effect.succeed(21).pipe(Effect.map((n) => n * 2), Run.run({ key: "answer" }))
 *   const answer: number = yield* StateResult.getStateResult(state)
 *   const failed = yield* Run.run(Effect.fail("boom"))
 *   return [answer, failed.message] // [42, "Error: boom"]
 * }).pipe(Effect.provide(ResultStore.layerMemory))
 * ```
 *
 * @category running
 * @since 0.2.0
 */
export const run: {
  <A, E, R, R2 = never>(
    effect: Effect.Effect<A, E, R>,
    options: RunOptions<R2> & { readonly nested: true }
  ): Effect.Effect<RunState<A, E, true>, never, R | R2 | ResultStore>
  <A, E, R, R2 = never>(
    effect: Effect.Effect<A, E, R>,
    options?: RunOptions<R2>
  ): Effect.Effect<RunState<A, E>, never, R | R2 | ResultStore>
  <R2 = never>(
    options: RunOptions<R2> & { readonly nested: true }
  ): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<RunState<A, E, true>, never, R | R2 | ResultStore>
  <R2 = never>(
    options?: RunOptions<R2>
  ): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<RunState<A, E>, never, R | R2 | ResultStore>
} = dual(
  (args: IArguments) => Effect.isEffect(args[0]),
  runImpl
) as any
