/**
 * Reading a run's result from its final state (Prefect's `get_state_result`,
 * `get_state_exception` and `raise_state_exception`):
 * paused and unfinished states fail, failed states fail with (or return) their
 * exception, result-record metadata is read through the {@link ResultStore} in
 * context — retried on a `Schedule`, because a result written by another
 * process may land a little after its state — and in-memory records and plain
 * data are returned as they are.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as EffectResult from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Aggregate from "./Aggregate.ts"
import { repr } from "./internal/pyrepr.ts"
import * as ResultRecord from "./ResultRecord.ts"
import { ResultStore } from "./ResultStore.ts"
import {
  CancelledRun,
  CrashedRun,
  FailedRun,
  InvalidState,
  MissingResult,
  PausedRun,
  type SerializationError,
  type StorageError,
  UnfinishedRun,
  UnresolvableResult
} from "./RunError.ts"
import * as State from "./State.ts"

// -----------------------------------------------------------------------------
// Models
// -----------------------------------------------------------------------------

/**
 * The exception of a FAILED, CRASHED or CANCELLED state: a run-result wrapper
 * (`FailedRun`, `CrashedRun`, `CancelledRun`) carrying the state's message, or
 * the user's own `Error` that the state carries as its result (as Prefect
 * raises the original exception). Because a user error can be any `Error`, the
 * type is honest about it: narrow with `Effect.catchTag` for the wrappers and
 * `instanceof` for your own errors.
 *
 * @category models
 * @since 0.1.0
 */
export type StateException = FailedRun | CrashedRun | CancelledRun | Error

/**
 * Why a state's exception cannot be computed: a non-failed state or an
 * iterable of states none of which failed (`InvalidState`), a result that is
 * no exception (`UnresolvableResult`), or a failed read of the result's record
 * (`MissingResult`, `SerializationError`, `StorageError`, and `InvalidState`
 * for metadata without a storage key).
 *
 * @category models
 * @since 0.1.0
 */
export type StateExceptionError =
  | InvalidState
  | UnresolvableResult
  | MissingResult
  | SerializationError
  | StorageError

/**
 * The errors of reading a record from result-record metadata: any of these
 * counts as a failed attempt and is retried.
 *
 * @category models
 * @since 0.1.0
 */
export type ReadError = MissingResult | SerializationError | StorageError | InvalidState

/**
 * Every error {@link getStateResult} can fail with: `PausedRun`,
 * `UnfinishedRun`, the state's exception ({@link StateException}, including a
 * user `Error` as is) and the errors of computing it or reading the record.
 *
 * @category models
 * @since 0.1.0
 */
export type GetStateResultError = PausedRun | UnfinishedRun | StateException | StateExceptionError

/**
 * The value {@link getStateResult} succeeds with for a state whose data has
 * type `A`: a record's result, `unknown` for metadata (read from storage), the
 * state's exception for no data (a failed state read with `raiseOnFailure:
 * false`), otherwise the data itself.
 *
 * @category models
 * @since 0.1.0
 */
export type Result<A> = A extends ResultRecord.ResultRecord<infer R> ? R
  : A extends ResultRecord.ResultRecordMetadata ? unknown
  : A extends null | undefined ? StateException
  : A

/**
 * The value a COMPLETED state holding data of type `A` reads back as: a
 * record's result, `unknown` for metadata (read from storage); no data is a
 * `MissingResult` failure, so it adds nothing.
 *
 * @category models
 * @since 0.2.0
 */
export type CompletedResult<A> = A extends ResultRecord.ResultRecord<infer R> ? R
  : A extends ResultRecord.ResultRecordMetadata ? unknown
  : A extends null | undefined ? never
  : A

/**
 * The value {@link getStateResult} succeeds with for a state of type `S`,
 * variant by variant: a COMPLETED state gives its {@link CompletedResult};
 * a FAILED, CRASHED or CANCELLED state fails when `RaiseOnFailure` is `true`
 * (the default) and otherwise gives its {@link Result}; any other state
 * always fails. So the state `Run.run` gives for an `Effect<A, E, R>` reads
 * back as `A`.
 *
 * @category models
 * @since 0.2.0
 */
export type ResultOf<S, RaiseOnFailure extends boolean = true> = S extends State.Proto<infer T, infer A>
  ? T extends "COMPLETED" ? CompletedResult<A>
  : T extends "FAILED" | "CRASHED" | "CANCELLED" ? RaiseOnFailure extends true ? never : Result<A>
  : never
  : never

/**
 * Options of {@link getStateResult}.
 *
 * @category models
 * @since 0.1.0
 */
export interface GetStateResultOptions {
  /** Fail with the exception of a FAILED/CRASHED/CANCELLED state (default `true`). */
  readonly raiseOnFailure?: boolean | undefined
  /** Retry failed reads of result-record metadata on `retrySchedule` (default `true`; `false` = one attempt). */
  readonly retryResultFailure?: boolean | undefined
  /** When to retry a failed read; its input is the read error. Default {@link defaultRetrySchedule}. */
  readonly retrySchedule?: Schedule.Schedule<unknown, ReadError> | undefined
}

// -----------------------------------------------------------------------------
// Schedules
// -----------------------------------------------------------------------------

/** Prefect's give-up time: 9 waits of 0.25 s. */
const totalWaitMillis = 2250

/** Each wait is a fifth of the time waited so far, at least 5 ms and at most 250 ms, until 2.25 s in total. */
const defaultDelays: ReadonlyArray<number> = (() => {
  const delays: Array<number> = []
  let elapsed = 0
  while (elapsed < totalWaitMillis) {
    const delay = Math.min(Math.max(5, Math.min(250, Math.round(elapsed / 5))), totalWaitMillis - elapsed)
    delays.push(delay)
    elapsed += delay
  }
  return delays
})()

const prefectDelays: ReadonlyArray<number> = Array.from({ length: 9 }, () => 250)

const fromDelays = (delays: ReadonlyArray<number>): Schedule.Schedule<Duration.Duration> =>
  Schedule.fromStepWithMetadata(Effect.succeed((meta: Schedule.InputMetadata<unknown>) => {
    const delay = delays[meta.attempt - 1]
    if (delay === undefined) return Cause.done(Duration.zero)
    const duration = Duration.millis(delay)
    return Effect.succeed([duration, duration] as [Duration.Duration, Duration.Duration])
  }))

/**
 * The default retry schedule of result reads. The contract, pinned by tests:
 *
 * - **Prefect's patience**: it gives up after the same total waiting as
 *   Prefect (2.25 s);
 * - **fast first retries**: the first retries come within ~10 ms (the first
 *   six waits are 5 ms), so a result that lands `d` ms late is read within
 *   about `d + max(5 ms, d / 5)` ms — each wait is a fifth of the time waited
 *   so far, at least 5 ms and at most 250 ms — not up to 250 ms late;
 * - **the true attempt count**: up to **32 attempts** (31 retries), where
 *   Prefect makes up to 10 attempts 250 ms apart. Reads of a missing key are
 *   cheap, so the default trades attempts for latency; use
 *   {@link prefectRetrySchedule} for Prefect's exact 10.
 *
 * The waits, in milliseconds:
 *
 * ```text
 * 5, 5, 5, 5, 5, 5, 6, 7, 9, 10, 12, 15, 18, 21, 26, 31, 37, 44, 53, 64,
 * 77, 92, 110, 132, 159, 191, 229, 250, 250, 250, 127        (sum 2250)
 * ```
 *
 * @category schedules
 * @since 0.1.0
 */
export const defaultRetrySchedule: Schedule.Schedule<Duration.Duration> = fromDelays(defaultDelays)

/**
 * Prefect's own retry schedule: 10 attempts, 250 ms apart (9 waits, 2.25 s).
 *
 * @category schedules
 * @since 0.1.0
 */
export const prefectRetrySchedule: Schedule.Schedule<Duration.Duration> = fromDelays(prefectDelays)

// -----------------------------------------------------------------------------
// Exceptions
// -----------------------------------------------------------------------------

const isExceptionType = (type: string): boolean => type === "FAILED" || type === "CRASHED" || type === "CANCELLED"

const wrap = (type: string, message: string | null): FailedRun | CrashedRun | CancelledRun => {
  switch (type) {
    case "CRASHED":
      return new CrashedRun({ message: message ?? "Run crashed." })
    case "CANCELLED":
      return new CancelledRun({ message: message ?? "Run cancelled." })
    default:
      return new FailedRun({ message: message ?? "Run failed." })
  }
}

/** Python's type name of a JS value, for Prefect's TypeError text. */
const pythonTypeName = (u: unknown): string => {
  if (u === null || u === undefined) return "NoneType"
  switch (typeof u) {
    case "number":
      return Number.isInteger(u) ? "int" : "float"
    case "bigint":
      return "int"
    case "boolean":
      return "bool"
    case "string":
      return "str"
    case "symbol":
      return "symbol"
    case "function":
      return "function"
  }
  if (Array.isArray(u)) return "list"
  if (u instanceof Set) return "set"
  const proto = Object.getPrototypeOf(u)
  if (proto === null || proto === Object.prototype) return "dict"
  const name = (proto as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === "string" && name !== "" ? name : "object"
}

const reprResult = (u: unknown): string => repr(u, (v) => (State.isState(v) ? State.inspect(v) : undefined))

/** Reads a record from metadata once (Prefect's `_from_metadata` + `aread`). */
const readFromMetadata = (
  store: ResultStore["Service"],
  metadata: ResultRecord.ResultRecordMetadata
): Effect.Effect<unknown, ReadError> => {
  const key = metadata.storageKey
  if (key === null) {
    return Effect.fail(
      new InvalidState({ message: "storage_key is required to hydrate a result record from metadata" })
    )
  }
  return Effect.map(store.read(key, { serializer: metadata.serializer }), (record) => record.result)
}

const exceptionOf = (state: State.State<unknown>): Effect.Effect<StateException, StateExceptionError, ResultStore> => {
  if (!isExceptionType(state.type)) {
    return Effect.fail(
      new InvalidState({ message: `Expected failed or crashed state got ${State.inspect(state)}.` })
    )
  }
  const data: unknown = state.data
  const resolved: Effect.Effect<unknown, StateExceptionError, ResultStore> = ResultRecord.isResultRecord(data)
    ? Effect.succeed(data.result)
    : ResultRecord.isResultRecordMetadata(data)
    ? Effect.flatMap(Effect.service(ResultStore), (store) => readFromMetadata(store, data))
    : Effect.succeed(data)
  return Effect.flatMap(resolved, (result): Effect.Effect<StateException, StateExceptionError, ResultStore> => {
    if (result === null || result === undefined) {
      return Effect.succeed(wrap(state.type, state.message === null || state.message === "" ? null : state.message))
    }
    if (result instanceof Error) return Effect.succeed(result)
    if (typeof result === "string") return Effect.succeed(wrap(state.type, result))
    if (State.isState(result)) return exceptionOf(result)
    if (Aggregate.isStateIterable(result)) {
      for (const inner of result) {
        if (isExceptionType(inner.type)) return exceptionOf(inner)
      }
      return Effect.fail(
        new InvalidState({ message: "Failed state result was an iterable of states but none were failed." })
      )
    }
    return Effect.fail(
      new UnresolvableResult({
        message: `Unexpected result for failed state: ${reprResult(result)} \u2014\u2014 ${
          pythonTypeName(result)
        } cannot be resolved into an exception`,
        result
      })
    )
  })
}

/**
 * The exception of a FAILED, CRASHED or CANCELLED state (Prefect's
 * `get_state_exception`). The state's result — a record's result,
 * or read once (no retries) from storage for result-record metadata — becomes:
 *
 * - nothing → the wrapper for the type (`FailedRun` / `CrashedRun` /
 *   `CancelledRun`) with the state's message or `Run failed.` / `Run crashed.`
 *   / `Run cancelled.`;
 * - an `Error` → that error itself;
 * - a string → the wrapper with that text (even empty);
 * - a state → its exception (recursively);
 * - a non-empty array or Set of states → the exception of the first FAILED,
 *   CRASHED or CANCELLED one, else `InvalidState`
 *   `Failed state result was an iterable of states but none were failed.`;
 * - anything else → `UnresolvableResult`
 *   `Unexpected result for failed state: {repr} —— {TypeName} cannot be resolved into an exception`.
 *
 * Any other state type fails with `InvalidState`
 * `Expected failed or crashed state got {repr(state)}.`
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResultStore, State, StateResult } from "@runstate/core"
 *
 * const program = StateResult.getStateException(State.Failed({ message: "boom" }))
 * // succeeds with FailedRun({ message: "boom" })
 * Effect.runPromise(program.pipe(Effect.provide(ResultStore.layerMemory)))
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const getStateException: (
  state: State.State<unknown>
) => Effect.Effect<StateException, StateExceptionError, ResultStore> = Effect.fn("StateResult.getStateException")(
  function*(state: State.State<unknown>) {
    return yield* exceptionOf(state)
  }
)

/**
 * Fails with the exception of a FAILED, CRASHED or CANCELLED state (see
 * {@link getStateException}); succeeds with nothing for any other state
 * (Prefect's `raise_state_exception`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const raiseStateException: (
  state: State.State<unknown>
) => Effect.Effect<void, StateException | StateExceptionError, ResultStore> = Effect.fn(
  "StateResult.raiseStateException"
)(function*(state: State.State<unknown>) {
  if (!isExceptionType(state.type)) return
  const exception = yield* exceptionOf(state)
  return yield* Effect.fail(exception)
})

// -----------------------------------------------------------------------------
// Results
// -----------------------------------------------------------------------------

/**
 * The number of attempts a schedule allows (its retries plus the first
 * attempt), found by stepping a fresh copy of it with simulated time, as if
 * every attempt failed instantly with `input`; `?` past 1,000.
 */
const attemptsOf = (
  schedule: Schedule.Schedule<unknown, ReadError>,
  input: ReadError
): Effect.Effect<string> =>
  Effect.flatMap(Schedule.toStep(schedule), (step) =>
    Effect.gen(function*() {
      let now = 0
      for (let attempts = 1; attempts <= 1000; attempts++) {
        const next = yield* Effect.result(step(now, input))
        if (EffectResult.isFailure(next)) return String(attempts)
        now += Duration.toMillis(next.success[1])
      }
      return "?"
    }))

const formatSeconds = (millis: number): string => String(Math.round(millis * 1000) / 1_000_000)

/**
 * Reads the record named by `metadata`, retried with `Effect.retry` on
 * `schedule` (Prefect's retry loop). The DEBUG line of each retry comes from
 * the schedule's own metadata (`Schedule.tap`: the attempt number, the failed
 * attempt's error as input, the delay); the maximum is counted once per read,
 * at the first retry.
 */
const readWithRetries = (
  metadata: ResultRecord.ResultRecordMetadata,
  schedule: Schedule.Schedule<unknown, ReadError> | undefined
): Effect.Effect<unknown, ReadError, ResultStore> =>
  ResultStore.use((store) => {
    const attempt = readFromMetadata(store, metadata)
    if (schedule === undefined) return attempt
    return Effect.suspend(() => {
      let max: string | undefined
      const logged = Schedule.tap(schedule, (meta) =>
        Effect.flatMap(
          max === undefined ? attemptsOf(schedule, meta.input) : Effect.succeed(max),
          (n) => {
            max = n
            return Effect.logDebug(
              `Exception ${repr(meta.input)} while reading result, retry ${meta.attempt}/${n} in ${
                formatSeconds(Duration.toMillis(meta.duration))
              }s...`
            )
          }
        ))
      return Effect.retry(attempt, logged)
    })
  })

const getStateResultImpl = Effect.fn("StateResult.getStateResult")(function*(
  state: State.State<unknown>,
  options: GetStateResultOptions | undefined
) {
  if (state.type === "PAUSED") {
    return yield* new PausedRun({ message: "Run is paused, its result is not available.", state })
  }
  if (!State.isFinal(state)) {
    return yield* new UnfinishedRun({ message: `Run is in ${state.type} state, its result is not available.` })
  }
  if (options?.raiseOnFailure !== false && isExceptionType(state.type)) {
    const exception = yield* exceptionOf(state)
    return yield* Effect.fail(exception)
  }
  const data: unknown = state.data
  if (ResultRecord.isResultRecordMetadata(data)) {
    const schedule = options?.retryResultFailure === false ? undefined : options?.retrySchedule ?? defaultRetrySchedule
    return yield* readWithRetries(data, schedule)
  }
  if (ResultRecord.isResultRecord(data)) return data.result
  if (data === null || data === undefined) {
    if (isExceptionType(state.type)) return yield* exceptionOf(state)
    return yield* new MissingResult({
      message:
        "State data is missing. Typically, this occurs when result persistence is disabled and the state has been retrieved from the API.",
      reason: "NoData"
    })
  }
  return data
})

/**
 * A final state's result (Prefect's `get_state_result`):
 *
 * 1. PAUSED → `PausedRun` `Run is paused, its result is not available.` (with
 *    the state);
 * 2. not final → `UnfinishedRun` `Run is in {TYPE} state, its result is not available.`;
 * 3. FAILED/CRASHED/CANCELLED with `raiseOnFailure` (default) → fails with the
 *    state's exception ({@link getStateException}, no read retries) — a user
 *    `Error` the state carries is failed with as is;
 * 4. otherwise by data: result-record metadata → the record read through the
 *    {@link ResultStore} in context, retried on `retrySchedule` (default
 *    {@link defaultRetrySchedule}; `retryResultFailure: false` = one attempt;
 *    metadata without a storage key fails each attempt with `InvalidState`
 *    `storage_key is required to hydrate a result record from metadata`); a
 *    record → its result; no data → the exception of a failed state (returned,
 *    not failed), else `MissingResult` (reason `"NoData"`)
 *    `State data is missing. Typically, this occurs when result persistence is disabled and the state has been retrieved from the API.`;
 *    anything else → the data as is.
 *
 * Each failed read that will be retried logs at DEBUG Prefect's line
 * `Exception {repr(error)} while reading result, retry {n}/{max} in {delay}s...`
 * (`n` and the delay come from the schedule's own metadata; `max` is the
 * number of attempts the schedule allows — 32 for the default, see
 * {@link defaultRetrySchedule}); when the schedule gives up, the last
 * attempt's error is the one reported.
 *
 * Typed: the value is the {@link ResultOf} the state's type — a
 * `Run.RunState<A, E>` reads back as `A`, a state holding a
 * `ResultRecord<A>` as `A`, metadata as `unknown`. Data-first
 * (`getStateResult(state, options?)`) or data-last
 * (`state.pipe(StateResult.getStateResult(options?))`,
 * `Effect.flatMap(StateResult.getStateResult())`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResultStore, State, StateResult } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* ResultStore.ResultStore
 *   const record = yield* store.persistResultRecord(yield* store.createResultRecord(42))
 *   const state = State.Completed({ data: record.metadata })
 *   return yield* StateResult.getStateResult(state) // 42
 * }).pipe(Effect.provide(ResultStore.layerMemory))
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const getStateResult: {
  <S extends State.State<any>>(
    self: S,
    options: GetStateResultOptions & { readonly raiseOnFailure: false }
  ): Effect.Effect<ResultOf<S, false>, GetStateResultError, ResultStore>
  <S extends State.State<any>>(
    self: S,
    options?: GetStateResultOptions & { readonly raiseOnFailure?: true | undefined }
  ): Effect.Effect<ResultOf<S>, GetStateResultError, ResultStore>
  <S extends State.State<any>>(
    self: S,
    options: GetStateResultOptions
  ): Effect.Effect<ResultOf<S, boolean>, GetStateResultError, ResultStore>
  (
    options: GetStateResultOptions & { readonly raiseOnFailure: false }
  ): <S extends State.State<any>>(self: S) => Effect.Effect<ResultOf<S, false>, GetStateResultError, ResultStore>
  (
    options?: GetStateResultOptions & { readonly raiseOnFailure?: true | undefined }
  ): <S extends State.State<any>>(self: S) => Effect.Effect<ResultOf<S>, GetStateResultError, ResultStore>
  (
    options: GetStateResultOptions
  ): <S extends State.State<any>>(
    self: S
  ) => Effect.Effect<ResultOf<S, boolean>, GetStateResultError, ResultStore>
} = dual(
  (args: IArguments) => State.isState(args[0]),
  getStateResultImpl
) as any
