/**
 * Prefect's task-run lifecycle as an Effect combinator. A `Task` is a name,
 * options and a function from the task's input to an effect; running it takes
 * the run through PENDING → RUNNING → … → a final state exactly as Prefect's
 * client task engine decides: retries (AwaitingRetry with a `scheduledTime`,
 * or straight to Retrying), timeouts (FAILED named `TimedOut`), caching
 * (COMPLETED named `Cached`, without running the effect), crashes on
 * interruption and signals, Prefect's log lines, a `taskRunId` (and the
 * enclosing flow run's `flowRunId`) on every state, timestamps that strictly
 * increase within a run, and Prefect's `run_count`. Every transition goes to
 * the `RunLog` service when one is provided.
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import { dual } from "effect/Function"
import * as Logger from "effect/Logger"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import * as Aggregate from "./Aggregate.ts"
import * as Failure from "./Failure.ts"
import { failedStateOf } from "./internal/failure.ts"
import { reprString } from "./internal/pyrepr.ts"
import { CurrentFlowRun, nextTaskRunName, randomIdFrom } from "./internal/runContext.ts"
import * as ResultRecord from "./ResultRecord.ts"
import { ResultStore, type ResultStoreShape } from "./ResultStore.ts"
import type { MissingResult, SerializationError, StorageError } from "./RunError.ts"
import { InvalidState } from "./RunError.ts"
import type * as Run from "./Run.ts"
import { RunLog, type RunLogShape } from "./RunLog.ts"
import * as Serializer from "./Serializer.ts"
import * as State from "./State.ts"
import * as StateDetails from "./StateDetails.ts"

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

/**
 * Task (or flow) options that cannot work: a negative or fractional number of
 * retries, a negative retry delay, an empty delay list, a jitter factor below
 * 0, a timeout that is not a positive number, an empty name. Raised when the
 * task is made, never while it runs.
 *
 * @category errors
 * @since 0.2.0
 */
export class InvalidTaskOptions extends Data.TaggedError("InvalidTaskOptions")<{
  readonly message: string
  /** The option at fault, e.g. `"retries"`. */
  readonly option: string
}> {}

/**
 * The error a task's attempt fails with when it exceeds `timeoutSeconds`
 * (Prefect's `TaskRunTimeoutError`): `Scope timed out after {n} second(s).`
 *
 * @category errors
 * @since 0.2.0
 */
export class TaskRunTimeoutError extends Data.TaggedError("TaskRunTimeoutError")<{
  readonly seconds: number
}> {
  /**
   * Prefect's text, e.g. `Scope timed out after 0.1 second(s).`
   *
   * @since 0.2.0
   */
  override get message(): string {
    return `Scope timed out after ${this.seconds} second(s).`
  }
}

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * Why an attempt failed, as a retry condition and a retry schedule see it:
 * the effect failed with its typed error (`Fail`), died (`Defect`), exceeded
 * its timeout (`Timeout`), or returned a FAILED state (`State`). `runCount`
 * is the attempt's number (1 for the first).
 *
 * @category models
 * @since 0.2.0
 */
export type TaskFailure<E> =
  | { readonly _tag: "Fail"; readonly error: E; readonly runCount: number }
  | { readonly _tag: "Defect"; readonly defect: unknown; readonly runCount: number }
  | { readonly _tag: "Timeout"; readonly error: TaskRunTimeoutError; readonly runCount: number }
  | { readonly _tag: "State"; readonly state: State.State<unknown>; readonly runCount: number }

/**
 * A task's cache key: one fixed key, or a function of the task's input.
 *
 * @category models
 * @since 0.2.0
 */
export type CacheKey<I> = string | ((input: I) => string)

/**
 * A task's options (Prefect's `@task` keyword arguments, camelCase).
 *
 * @category models
 * @since 0.2.0
 */
export interface TaskOptions<I = void, E = never> {
  /** The task's name; task runs are named `{name}-{n}` inside a flow run. */
  readonly name: string
  /** How many times a failed attempt is retried (a non-negative integer). Default 0. */
  readonly retries?: number | undefined
  /**
   * Seconds to wait before each retry: one number, or a list whose element
   * `min(retry - 1, length - 1)` is used (the last one repeats). Default: no
   * wait (Retrying at once, no AwaitingRetry).
   */
  readonly retryDelaySeconds?: number | ReadonlyArray<number> | undefined
  /**
   * Randomises each delay around its base as Prefect's server retry rule
   * does: a draw from an exponential distribution with the base as mean,
   * clamped to at most `base × (1 + factor)`. Prefect's client engine keeps
   * the option but waits the exact delay; runstate applies it in process.
   * At least 0.
   */
  readonly retryJitterFactor?: number | undefined
  /**
   * Whether a failure may be retried (Prefect's `retry_condition_fn`). A
   * condition that throws means "do not retry": the error is logged and the
   * task ends FAILED with the attempt's failure.
   */
  readonly retryCondition?: ((failure: TaskFailure<E>) => boolean) | undefined
  /**
   * Retries on any `Schedule` instead of `retries`/`retryDelaySeconds`: each
   * failure steps the schedule (input: the failure) and its delay is the wait
   * before the retry; when the schedule is done, retries are exhausted.
   * `retries`, when also given, caps the number of retries.
   */
  readonly retrySchedule?: Schedule.Schedule<unknown, TaskFailure<E>> | undefined
  /** Seconds an attempt may take before it fails with `TaskRunTimeoutError`. */
  readonly timeoutSeconds?: number | undefined
  /**
   * Caches the result under this key: a run whose key holds an unexpired
   * record does not run the effect and ends COMPLETED named `Cached`. A key
   * turns result persistence on. A key function that throws ends the run
   * FAILED.
   */
  readonly cacheKey?: CacheKey<I> | undefined
  /**
   * Where the result record of a successful run is written (Prefect's
   * `result_storage_key`): a fixed key or a function of the input. Unlike a
   * cache key, it never skips a run. Ignored when `cacheKey` is set (the
   * record goes under the cache key). Default: a random key.
   */
  readonly resultStorageKey?: CacheKey<I> | undefined
  /** How long a cached result stays valid. Default: forever. */
  readonly cacheExpiration?: Duration.Input | undefined
  /** Run even when the cache holds the key, and overwrite the record. */
  readonly refreshCache?: boolean | undefined
  /**
   * Write the final state's result record to the store (the value on
   * success, the error on failure). Default: `true` with a cache key, else
   * `false` (Prefect's `persist_result` default).
   */
  readonly persistResult?: boolean | undefined
  /**
   * The schema of the task's typed error (e.g. a `Schema.TaggedError` class):
   * a failure is written with it, so that a process reading the record back
   * gets the same error — class, `_tag` and fields — through
   * {@link getError}. Without it the error is written in Prefect's
   * `__exc_type__` shape.
   */
  readonly errorSchema?: Schema.Codec<E, any> | undefined
}

/**
 * The final state of a task run whose effect succeeds with `A` and fails
 * with `E`: a `Run.RunState<A, E>`. On COMPLETED (also `Cached`) its data is
 * a result record of the value, which `StateResult.getStateResult` reads
 * back as an `A`; on FAILED (also `TimedOut`) and CRASHED it holds the error
 * (or a record of it), which `getStateResult` raises and {@link getError}
 * reads back. A task that returns states ends in their aggregate (see
 * `Aggregate.returnValueToState`).
 *
 * @category models
 * @since 0.2.0
 */
export type TaskState<A, E = never> = Run.RunState<A, E>

/**
 * @category type ids
 * @since 0.2.0
 */
export const TypeId: TypeId = "~@runstate/core/Task"

/**
 * @category type ids
 * @since 0.2.0
 */
export type TypeId = "~@runstate/core/Task"

/**
 * A task: its validated options and its body, a function from the input to
 * the effect one attempt runs. Make one with {@link make}, run it with
 * {@link run}.
 *
 * @category models
 * @since 0.2.0
 */
export interface Task<I, A, E = never, R = never> extends Pipeable {
  readonly [TypeId]: TypeId
  readonly name: string
  readonly options: TaskOptions<I, E>
  readonly body: (input: I) => Effect.Effect<A, E, R>
}

/**
 * A task made with an `errorSchema`: {@link getError} reads its FAILED
 * states' errors back as `E`, decoded with that schema.
 *
 * @category models
 * @since 0.2.0
 */
export interface WithErrorSchema<I, A, E = never, R = never> extends Task<I, A, E, R> {
  readonly options: TaskOptions<I, E> & { readonly errorSchema: Schema.Codec<E, any> }
}

/**
 * Tells whether a value is a {@link Task}.
 *
 * @category guards
 * @since 0.2.0
 */
export const isTask = (u: unknown): u is Task<unknown, unknown, unknown, unknown> => Predicate.hasProperty(u, TypeId)

// -----------------------------------------------------------------------------
// construction
// -----------------------------------------------------------------------------

const isNonNegativeNumber = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0

/** The first problem with `options`, or `undefined`. */
const validate = <I, E>(options: TaskOptions<I, E>): InvalidTaskOptions | undefined => {
  const bad = (option: string, rule: string, value: unknown) =>
    new InvalidTaskOptions({
      option,
      message: `Invalid option ${option} of task ${JSON.stringify(String(options?.name))}: ${rule}, got ${
        typeof value === "string" ? JSON.stringify(value) : String(value)
      }.`
    })
  if (typeof options !== "object" || options === null) {
    return new InvalidTaskOptions({ option: "options", message: "Task options must be an object." })
  }
  if (typeof options.name !== "string" || options.name === "") {
    return bad("name", "it must be a non-empty string", options.name)
  }
  const { retries, retryDelaySeconds: delay, retryJitterFactor: jitter, timeoutSeconds } = options
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) {
    return bad("retries", "it must be a non-negative integer", retries)
  }
  if (delay !== undefined) {
    if (Array.isArray(delay)) {
      if (delay.length === 0) return bad("retryDelaySeconds", "a list of delays must not be empty", "[]")
      for (const d of delay) {
        if (!isNonNegativeNumber(d)) return bad("retryDelaySeconds", "every delay must be a number ≥ 0", d)
      }
    } else if (!isNonNegativeNumber(delay)) {
      return bad("retryDelaySeconds", "it must be a number ≥ 0 or a list of them", delay)
    }
  }
  if (jitter !== undefined && !isNonNegativeNumber(jitter)) {
    return bad("retryJitterFactor", "it must be a number ≥ 0", jitter)
  }
  if (timeoutSeconds !== undefined && !(typeof timeoutSeconds === "number" && timeoutSeconds > 0)) {
    return bad("timeoutSeconds", "it must be a positive number", timeoutSeconds)
  }
  if (timeoutSeconds === Infinity) return bad("timeoutSeconds", "it must be finite", timeoutSeconds)
  if (
    options.cacheKey !== undefined && typeof options.cacheKey !== "string" && typeof options.cacheKey !== "function"
  ) {
    return bad("cacheKey", "it must be a string or a function", options.cacheKey)
  }
  if (
    options.resultStorageKey !== undefined && typeof options.resultStorageKey !== "string" &&
    typeof options.resultStorageKey !== "function"
  ) {
    return bad("resultStorageKey", "it must be a string or a function", options.resultStorageKey)
  }
  if (options.cacheExpiration !== undefined && Option.isNone(Duration.fromInput(options.cacheExpiration))) {
    return bad("cacheExpiration", "it must be a duration", options.cacheExpiration)
  }
  return undefined
}

const TaskProto = {
  [TypeId]: TypeId,
  pipe() {
    return pipeArguments(this, arguments)
  }
}

/**
 * Makes a task from its options and its body. Fails with
 * {@link InvalidTaskOptions} when the options cannot work (negative retries,
 * a jitter factor below 0, …), so a bad configuration is found before any
 * run.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Task } from "@runstate/core"
 *
 * const double = Task.make({ name: "double", retries: 2 }, (n: number) => Effect.succeed(n * 2))
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const make: {
  <I = void, A = never, E = never, R = never>(
    options: TaskOptions<NoInfer<I>, NoInfer<E>> & { readonly errorSchema: Schema.Codec<NoInfer<E>, any> },
    body: (input: I) => Effect.Effect<A, E, R>
  ): Effect.Effect<WithErrorSchema<I, A, E, R>, InvalidTaskOptions>
  <I = void, A = never, E = never, R = never>(
    options: TaskOptions<NoInfer<I>, NoInfer<E>>,
    body: (input: I) => Effect.Effect<A, E, R>
  ): Effect.Effect<Task<I, A, E, R>, InvalidTaskOptions>
} = (<I, A, E, R>(
  options: TaskOptions<I, E>,
  body: (input: I) => Effect.Effect<A, E, R>
): Effect.Effect<Task<I, A, E, R>, InvalidTaskOptions> =>
  Effect.suspend(() => {
    const error = validate(options)
    if (error !== undefined) return Effect.fail(error)
    const task = Object.create(TaskProto) as { -readonly [K in keyof Task<I, A, E, R>]: Task<I, A, E, R>[K] }
    task.name = options.name
    task.options = options
    task.body = body
    return Effect.succeed(task as Task<I, A, E, R>)
  })) as any

// -----------------------------------------------------------------------------
// texts
// -----------------------------------------------------------------------------

/** Python's `repr` of an exception: `ValueError('boom')`, `InterruptSignal()`. */
const exceptionRepr = (error: unknown): string => {
  const text = Failure.formatException(error)
  const at = text.indexOf(": ")
  const name = at < 0 ? text : text.slice(0, at)
  const message = at < 0 ? "" : text.slice(at + 2)
  return message === "" ? `${name}()` : `${name}(${reprString(message)})`
}

const failureText = (failure: TaskFailure<unknown>): string => {
  switch (failure._tag) {
    case "Fail":
      return `exception: ${exceptionRepr(failure.error)}`
    case "Defect":
      return `exception: ${exceptionRepr(failure.defect)}`
    case "Timeout":
      return `exception: ${exceptionRepr(failure.error)}`
    case "State":
      return `state: ${State.inspect(failure.state)}`
  }
}

/** Seconds as Python's `str` prints them. */
const secondsText = (seconds: number): string => String(seconds)

// -----------------------------------------------------------------------------
// the engine
// -----------------------------------------------------------------------------

/** A jittered delay: Prefect's clamped exponential draw around `base`. */
const jittered = (base: number, factor: number): Effect.Effect<number> =>
  factor <= 0 || base <= 0
    ? Effect.succeed(base)
    : Random.Random.useSync((random) => {
      const upper = 1 - Math.exp(-(1 + factor))
      const u = random.nextDoubleUnsafe() * upper
      return -Math.log(1 - u) * base
    })

const delayAt = (delays: number | ReadonlyArray<number> | undefined, retry: number): number => {
  if (delays === undefined) return 0
  if (typeof delays === "number") return delays
  return delays[Math.min(retry, delays.length - 1)]!
}

const isCrashSignal = (u: unknown): boolean =>
  u instanceof Failure.InterruptSignal || u instanceof Failure.TerminationSignal || u instanceof Failure.ProcessExit

/** What one attempt came to. */
type Outcome<A, E> =
  | { readonly _tag: "Success"; readonly value: A }
  | { readonly _tag: "Failure"; readonly failure: TaskFailure<E> }
  | { readonly _tag: "Crash"; readonly cause: Cause.Cause<unknown> }

const outcomeOf = <A, E>(exit: Exit.Exit<A, E | TaskRunTimeoutError>, runCount: number): Outcome<A, E> => {
  if (Exit.isSuccess(exit)) {
    const value = exit.value
    if (State.isState(value) && State.isFailed(value)) {
      return { _tag: "Failure", failure: { _tag: "State", state: value, runCount } }
    }
    return { _tag: "Success", value }
  }
  const cause = exit.cause
  for (const reason of cause.reasons) {
    if (reason._tag === "Fail") {
      const error = reason.error
      if (isCrashSignal(error)) return { _tag: "Crash", cause }
      if (error instanceof TaskRunTimeoutError) {
        return { _tag: "Failure", failure: { _tag: "Timeout", error, runCount } }
      }
      return { _tag: "Failure", failure: { _tag: "Fail", error: error as E, runCount } }
    }
    if (reason._tag === "Die") {
      if (isCrashSignal(reason.defect)) return { _tag: "Crash", cause }
      return { _tag: "Failure", failure: { _tag: "Defect", defect: reason.defect, runCount } }
    }
  }
  return { _tag: "Crash", cause }
}

/** The error of a failure, as the final FAILED state carries it. */
const errorOf = (failure: TaskFailure<unknown>): unknown => {
  switch (failure._tag) {
    case "Fail":
    case "Timeout":
      return failure.error
    case "Defect":
      return failure.defect
    case "State":
      return failure.state
  }
}

/** Everything one run needs, and the run's own counters. */
class TaskRun<I, A, E, R> {
  readonly task: Task<I, A, E, R>
  readonly input: I
  readonly store: ResultStoreShape
  readonly log: RunLogShape | undefined
  readonly taskRunId: string
  readonly flowRunId: string | undefined
  readonly runName: string
  readonly persist: boolean
  readonly details: StateDetails.StateDetails
  /** The run's current state (`undefined` before PENDING). */
  state: State.State<unknown> | undefined = undefined
  /** Prefect's `run_count`: +1 on every entry into RUNNING. */
  runCount = 0
  /** The last timestamp given to a state of this run, in epoch milliseconds. */
  last = -Infinity
  /** A final state the engine built already stamped (a cache hit), so `finish` takes it as it is. */
  stamped: State.State<unknown> | undefined = undefined
  readonly clock: Clock.Clock

  constructor(
    clock: Clock.Clock,
    task: Task<I, A, E, R>,
    input: I,
    store: ResultStoreShape,
    log: RunLogShape | undefined,
    taskRunId: string,
    flowRunId: string | undefined,
    runName: string,
    traceparent: string | null
  ) {
    this.clock = clock
    this.task = task
    this.input = input
    this.store = store
    this.log = log
    this.taskRunId = taskRunId
    this.flowRunId = flowRunId
    this.runName = runName
    this.persist = task.options.persistResult ?? task.options.cacheKey !== undefined
    this.details = StateDetails.make({ taskRunId, flowRunId: flowRunId ?? null, traceparent })
  }

  /** The next timestamp: now, or 1 ms after the previous one when the clock has not moved past it. */
  nextTimestamp(): number {
    const now = this.clock.currentTimeMillisUnsafe()
    const ms = now > this.last ? now : this.last + 1
    this.last = ms
    return ms
  }

  /** `to` with the run's ids and the next timestamp. */
  stamp(to: State.State<unknown>): State.State<unknown> {
    const ms = this.nextTimestamp()
    const details = to.stateDetails === StateDetails.empty
      ? this.details
      : StateDetails.update(to.stateDetails, { taskRunId: this.taskRunId, flowRunId: this.flowRunId ?? null })
    return State.update(to, { timestamp: new Date(ms), stateDetails: details })
  }

  /** Builds a constructor state at the next timestamp and enters it. */
  enterNew(build: (timestamp: Date, details: StateDetails.StateDetails) => State.State<unknown>): Effect.Effect<void> {
    return this.enter(build(new Date(this.nextTimestamp()), this.details))
  }

  enter(to: State.State<unknown>): Effect.Effect<void> {
    const from = this.state
    this.state = to
    if (to.type === "RUNNING") this.runCount++
    const log = this.log
    if (log === undefined) return Effect.void
    return Effect.catchCause(
      log.record({
        runId: this.taskRunId,
        kind: "task",
        name: this.runName,
        flowRunId: this.flowRunId,
        runCount: this.runCount,
        from,
        to
      }),
      (cause) =>
        Effect.logWarning(
          `Failed to record the transition of task run '${this.runName}' to ${to.name}: ${
            Failure.formatException(cause)
          }`
        )
    )
  }

  logLine(level: "Info" | "Error", message: string): Effect.Effect<void> {
    return level === "Info" ? Effect.logInfo(message) : Effect.logError(message)
  }
}

const cachedState = (
  record: ResultRecord.ResultRecord<unknown>,
  timestamp: Date,
  details: StateDetails.StateDetails
): State.State<unknown> => State.Completed<unknown>({ name: "Cached", data: record, timestamp, stateDetails: details })

/** The result record of a failure written with the task's error schema. */
const schemaRecord = (
  store: ResultStoreShape,
  error: unknown,
  schema: Schema.Codec<any, any>
): Effect.Effect<ResultRecord.ResultRecord<unknown>, InvalidState> =>
  Effect.map(store.createResultRecord(error), (record) =>
    ResultRecord.make({
      metadata: ResultRecord.makeMetadata({
        storageKey: record.metadata.storageKey,
        serializer: Serializer.schema(schema as Schema.Codec<unknown, unknown>),
        expiration: record.metadata.expiration,
        prefectVersion: record.metadata.prefectVersion,
        storageBlockId: record.metadata.storageBlockId
      }),
      result: error
    }))

const failedState = <I, A, E, R>(
  run: TaskRun<I, A, E, R>,
  failure: TaskFailure<E>
): Effect.Effect<State.State<unknown>, never, ResultStore> => {
  switch (failure._tag) {
    case "State":
      // A returned FAILED state is the final state, its data made a record.
      return Aggregate.returnValueToState(failure.state, { writeResult: run.persist })
    case "Timeout": {
      const message = `Task run exceeded timeout of ${secondsText(failure.error.seconds)} second(s)`
      return Effect.as(
        run.logLine("Error", message),
        State.Failed<unknown>({ name: "TimedOut", message, data: failure.error })
      )
    }
    default: {
      const error = errorOf(failure)
      const schema = run.task.options.errorSchema
      if (schema === undefined || failure._tag !== "Fail") {
        return failedStateOf(error, {
          message: "Task run encountered an exception",
          writeResult: run.persist
        })
      }
      return Effect.flatMap(failedStateOf(error, { message: "Task run encountered an exception" }), (
        state
      ) =>
        Effect.catchCause(
          Effect.flatMap(schemaRecord(run.store, error, schema), (record) =>
            run.persist
              ? Effect.map(
                run.store.persistResultRecord(record),
                (persisted) => State.update(state, { data: persisted }) as State.State<unknown>
              )
              : Effect.succeed(State.update(state, { data: record }) as State.State<unknown>)),
          (cause) =>
            Effect.as(
              Effect.logWarning(
                `Failed to write result: ${
                  Failure.formatException(cause)
                } Execution will continue, but the result has not been written`
              ),
              state
            )
        ))
    }
  }
}

/** The retry plan of a run: whether (and after how long) the next retry happens. */
type RetryDecision =
  | { readonly _tag: "Retry"; readonly delaySeconds: number; readonly retry: number; readonly of: number | undefined }
  | { readonly _tag: "Exhausted" }
  | { readonly _tag: "Refused" }

/** Runs the task's retry condition; a condition that throws refuses the retry and is logged. */
const conditionAllows = <I, A, E, R>(run: TaskRun<I, A, E, R>, failure: TaskFailure<E>): Effect.Effect<boolean> => {
  const condition = run.task.options.retryCondition
  if (condition === undefined) return Effect.succeed(true)
  return Effect.suspend(() => {
    let allowed: boolean
    try {
      allowed = condition(failure) === true
    } catch (error) {
      return Effect.as(
        run.logLine(
          "Error",
          `An error was encountered while running the retry condition check for task '${run.task.name}': ${
            Failure.formatException(error)
          }`
        ),
        false
      )
    }
    return Effect.succeed(allowed)
  })
}

/**
 * The final state of a run whose engine itself broke (a store that rejects a
 * key outright, a defect in a layer): CRASHED, as for any error raised
 * outside the user's code, never a failed `Task.run`.
 */
const orCrashed = <R>(
  final: Effect.Effect<State.State<unknown>, never, R>
): Effect.Effect<State.State<unknown>, never, R> =>
  Effect.catchCause(final, (cause) => Failure.exceptionToCrashedState(cause))

/**
 * Logs Prefect's last line, `Finished in state …`, and succeeds with the
 * state. The line is formatted only when a logger is installed: with none,
 * Effect's `log` drops it unread, so building its text would be wasted.
 */
const finishedLine = (entered: State.State<unknown>): Effect.Effect<State.State<unknown>> =>
  Effect.withFiber((fiber) => {
    if (fiber.getRef(Logger.CurrentLoggers).size === 0) return Effect.succeed(entered)
    const message = `Finished in state ${State.format(entered)}`
    return Effect.as(State.isCompleted(entered) ? Effect.logInfo(message) : Effect.logError(message), entered)
  })

/**
 * Enters the final state and logs Prefect's last line. Called when the final
 * state is known (inside a continuation), so the stamp is taken then.
 */
const finish = <I, A, E, R>(
  run: TaskRun<I, A, E, R>,
  final: State.State<unknown>
): Effect.Effect<State.State<unknown>> => {
  const entered = final === run.stamped ? final : run.stamp(final)
  return run.log === undefined ? finishedLine(entered) : Effect.andThen(run.enter(entered), finishedLine(entered))
}

/**
 * Options of {@link runWith}: who the task run is, for callers that must give
 * a run a stable identity (a durable engine replaying a flow on another
 * machine).
 *
 * @category models
 * @since 0.2.0
 */
export interface RunOptions {
  /** The task run's id; default: a new random UUID. */
  readonly taskRunId?: string | undefined
  /** The task run's name; default: `{task name}-{n}` inside a flow, `{task name}-{id prefix}` outside. */
  readonly taskRunName?: string | undefined
  /**
   * Continue the task run's recorded history instead of starting a new one
   * (needs a `RunLog`): a run whose history already ends in a final state is
   * not run again — that state is returned; a run whose history stops short
   * of a final state (its process died) enters RUNNING again, named
   * `Rerunning` as Prefect names a run that starts over (`Retrying` after
   * `AwaitingRetry`), and goes on from there; a run with no history starts as
   * usual.
   */
  readonly resume?: boolean | undefined
}

const runImpl = <I, A, E, R>(
  self: Task<I, A, E, R>,
  input: I,
  runOptions?: RunOptions
): Effect.Effect<TaskState<A, E>, never, R | ResultStore> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.withFiber((fiber) => {
      // Prefect stamps every state it builds with the current span's traceparent.
      if (Context.getOrUndefined(fiber.context, Tracer.ParentSpan) === undefined) {
        return start(fiber, self, input, restore, null, runOptions)
      }
      return Effect.flatMap(
        State.withTraceparent(State.Pending()),
        (probe) => start(fiber, self, input, restore, probe.stateDetails.traceparent, runOptions)
      )
    })
  )

/**
 * Picks a run's recorded history up: its last state (or `undefined` when it
 * has none), with the run's counters and clock set from the history. A
 * history that cannot be read counts as none, with a warning.
 */
const resume = <I, A, E, R>(
  run: TaskRun<I, A, E, R>,
  log: RunLogShape
): Effect.Effect<State.State<unknown> | undefined> =>
  Effect.map(
    Effect.catchCause(log.history(run.taskRunId), (cause) =>
      Effect.as(
        Effect.logWarning(
          `Could not read the history of task run '${run.runName}', starting it anew: ${Failure.formatException(cause)}`
        ),
        []
      )),
    (history) => {
      const last = history[history.length - 1]
      if (last === undefined) return undefined
      run.state = last.to
      run.runCount = last.runCount
      for (const t of history) run.last = Math.max(run.last, t.to.timestamp.epochMilliseconds)
      return last.to
    }
  )

const start = <I, A, E, R>(
  fiber: Fiber.Fiber<unknown, unknown>,
  self: Task<I, A, E, R>,
  input: I,
  restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
  traceparent: string | null,
  runOptions: RunOptions | undefined
): Effect.Effect<TaskState<A, E>, never, R | ResultStore> => {
  const context = fiber.context as Context.Context<ResultStore | RunLog>
  const store = Context.get(context, ResultStore)
  const log = Context.getOrUndefined(context, RunLog)
  const flow = fiber.getRef(CurrentFlowRun)
  const taskRunId = runOptions?.taskRunId ?? randomIdFrom(fiber.getRef(Random.Random))
  const runName = runOptions?.taskRunName ??
    (flow === undefined ? `${self.name}-${taskRunId.slice(0, 8)}` : nextTaskRunName(flow, self.name))
  const run = new TaskRun(
    fiber.getRef(Clock.Clock),
    self,
    input,
    store,
    log,
    taskRunId,
    flow?.flowRunId,
    runName,
    traceparent
  )
  const started = Effect.andThen(
    run.enterNew((timestamp, stateDetails) => State.Pending({ timestamp, stateDetails })),
    run.enterNew((timestamp, stateDetails) => State.Running({ timestamp, stateDetails }))
  )
  const options = self.options
  if (runOptions?.resume === true && run.log !== undefined) {
    return Effect.flatMap(resume(run, run.log), (resumed) => {
      if (resumed !== undefined && State.isFinal(resumed)) return Effect.succeed(resumed)
      const begin = resumed === undefined ?
        started :
        run.enterNew((timestamp, stateDetails) =>
          State.Running({ timestamp, stateDetails, name: resumed.name === "AwaitingRetry" ? "Retrying" : "Rerunning" })
        )
      return Effect.andThen(begin, Effect.flatMap(orCrashed(lifecycle(run, restore)), (final) => finish(run, final)))
    }) as Effect.Effect<TaskState<A, E>, never, R | ResultStore>
  }
  if (
    options.cacheKey !== undefined || options.timeoutSeconds !== undefined ||
    options.resultStorageKey !== undefined
  ) {
    return Effect.andThen(
      started,
      Effect.flatMap(orCrashed(lifecycle(run, restore)), (final) => finish(run, final))
    ) as Effect.Effect<TaskState<A, E>, never, R | ResultStore>
  }
  // No cache and no timeout: one attempt, and the general path only when it fails.
  const slow = (first: Exit.Exit<A, E>) =>
    Effect.flatMap(orCrashed(attempts(run, restore, undefined, first)), (final) => finish(run, final))
  const returnOptions = { writeResult: run.persist }
  return Effect.andThen(
    started,
    Effect.matchCauseEffect(restore(Effect.suspend(() => self.body(input))), {
      onSuccess: (value) =>
        State.isState(value) && State.isFailed(value)
          ? slow(Exit.succeed(value))
          : Effect.flatMap(
            orCrashed(Aggregate.returnValueToState(value, returnOptions)),
            (final) => finish(run, final)
          ),
      onFailure: (cause) => slow(Exit.failCause(cause))
    })
  ) as Effect.Effect<TaskState<A, E>, never, R | ResultStore>
}

/**
 * A key from the task's option: the fixed string, or the function's value
 * for the run's input; a function that throws or returns a non-string gives
 * the FAILED state (`{ failed }`).
 */
const keyOf = <I, A, E, R>(
  run: TaskRun<I, A, E, R>,
  option: CacheKey<I> | undefined,
  what: string
): string | undefined | { readonly failed: Effect.Effect<State.State<unknown>> } => {
  if (option === undefined || typeof option === "string") return option
  try {
    const key = option(run.input)
    if (typeof key !== "string") throw new TypeError(`the ${what} function returned ${typeof key}, not a string`)
    return key
  } catch (error) {
    return { failed: failedStateOf(error, { message: `Task run failed to compute its ${what}:` }) }
  }
}

/** Everything between the first RUNNING and the final state. */
const lifecycle = <I, A, E, R>(
  run: TaskRun<I, A, E, R>,
  restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>
): Effect.Effect<State.State<unknown>, never, R | ResultStore> =>
  Effect.suspend(() => {
    const options = run.task.options
    const key = keyOf(run, options.cacheKey, "cache key")
    if (typeof key === "object") return key.failed
    if (key === undefined) {
      const resultKey = keyOf(run, options.resultStorageKey, "result storage key")
      if (typeof resultKey === "object") return resultKey.failed
      return attempts(run, restore, undefined, undefined, resultKey)
    }
    return Effect.flatMap(
      Effect.orElseSucceed(run.store.supportsIsolationLevel("SERIALIZABLE"), () => false),
      (serializable) => serializable ? lockedCachedOrRun(run, restore, key) : cachedOrRun(run, restore, key)
    )
  })

/** SERIALIZABLE: one run per key at a time; the others wait, then find the record. */
const lockedCachedOrRun = <I, A, E, R>(
  run: TaskRun<I, A, E, R>,
  restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
  cacheKey: string
): Effect.Effect<State.State<unknown>, never, R | ResultStore> =>
  Effect.flatMap(Effect.exit(restore(run.store.acquireLock(cacheKey))), (locked) => {
    if (Exit.isSuccess(locked)) {
      return Effect.ensuring(cachedOrRun(run, restore, cacheKey), Effect.ignore(run.store.releaseLock(cacheKey)))
    }
    if (Cause.hasInterruptsOnly(locked.cause)) return Failure.exceptionToCrashedState(locked.cause)
    return Effect.andThen(
      Effect.logWarning(
        `Could not lock cache key ${JSON.stringify(cacheKey)} of task run '${run.runName}': ${
          Failure.formatException(locked.cause)
        }; running without the lock`
      ),
      cachedOrRun(run, restore, cacheKey)
    )
  })

const cachedOrRun = <I, A, E, R>(
  run: TaskRun<I, A, E, R>,
  restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
  key: string
): Effect.Effect<State.State<unknown>, never, R | ResultStore> => {
  if (run.task.options.refreshCache === true) return attempts(run, restore, key)
  // One read (from the store's cache when it holds the key); expiration judged by `Clock`.
  return Effect.matchEffect(run.store.read(key), {
    onFailure: () => attempts(run, restore, key),
    onSuccess: (record) => {
      const now = run.clock.currentTimeMillisUnsafe()
      const expiration = record.metadata.expiration
      if (expiration !== null && expiration.epochMilliseconds <= now) return attempts(run, restore, key)
      // The final state, stamped here: nothing can come between the hit and its entry.
      const hit = cachedState(record, new Date(run.nextTimestamp()), run.details)
      run.stamped = hit
      return Effect.succeed(hit)
    }
  })
}

/** Runs attempts until one does not fail or retries are over; returns the final state (not yet entered). */
const attempts = <I, A, E, R>(
  run: TaskRun<I, A, E, R>,
  restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
  key: string | undefined,
  first?: Exit.Exit<A, E>,
  resultKey?: string
): Effect.Effect<State.State<unknown>, never, R | ResultStore> =>
  Effect.gen(function*() {
    const options = run.task.options
    const retries = options.retries ?? (options.retrySchedule === undefined ? 0 : undefined)
    const step = options.retrySchedule === undefined ? undefined : yield* Schedule.toStep(options.retrySchedule)
    const timeout = options.timeoutSeconds
    let retried = 0
    let firstExit: Exit.Exit<A, E | TaskRunTimeoutError> | undefined = first
    while (true) {
      let attempt: Effect.Effect<A, E | TaskRunTimeoutError, R> = Effect.suspend(() => run.task.body(run.input))
      if (timeout !== undefined) {
        attempt = Effect.timeoutOrElse(attempt, {
          duration: Duration.millis(timeout * 1000),
          orElse: () => Effect.fail(new TaskRunTimeoutError({ seconds: timeout }))
        })
      }
      const exit = firstExit ?? (yield* Effect.exit(restore(attempt)))
      firstExit = undefined
      const outcome = outcomeOf(exit, run.runCount)
      if (outcome._tag === "Success") {
        const storageKey = key ?? resultKey
        const expiration = key === undefined || options.cacheExpiration === undefined
          ? undefined
          : DateTime.makeUnsafe((yield* Clock.currentTimeMillis) + Duration.toMillis(options.cacheExpiration))
        return yield* Aggregate.returnValueToState(outcome.value, {
          key: storageKey,
          expiration,
          writeResult: run.persist
        })
      }
      if (outcome._tag === "Crash") {
        const crashed = yield* Failure.exceptionToCrashedState(outcome.cause)
        yield* run.logLine("Error", `Crash detected! ${crashed.message}`)
        return crashed
      }
      const failure = outcome.failure
      const decision = yield* decide(run, failure, retries, step, retried)
      if (decision._tag === "Retry") {
        const delay = decision.delaySeconds
        yield* run.logLine(
          "Info",
          `Task run failed with ${failureText(failure)} - Retry ${decision.retry}${
            decision.of === undefined ? "" : `/${decision.of}`
          } will start ${delay > 0 ? `${secondsText(delay)} second(s) from now` : "immediately"}`
        )
        if (delay > 0) {
          yield* run.enterNew((timestamp, stateDetails) =>
            State.AwaitingRetry({
              timestamp,
              stateDetails,
              scheduledTime: new Date(timestamp.getTime() + Math.round(delay * 1000))
            })
          )
          const slept = yield* Effect.exit(restore(Effect.sleep(Duration.millis(delay * 1000))))
          if (Exit.isFailure(slept)) {
            return yield* Failure.exceptionToCrashedState(slept.cause)
          }
        }
        yield* run.enterNew((timestamp, stateDetails) => State.Retrying({ timestamp, stateDetails }))
        retried++
        continue
      }
      if (decision._tag === "Exhausted") {
        yield* run.logLine(
          "Error",
          `Task run failed with ${failureText(failure)}${
            retried > 0 || (retries ?? 1) > 0 ? " - Retries are exhausted" : ""
          }`
        )
      }
      return yield* failedState(run, failure)
    }
  })

const decide = <I, A, E, R>(
  run: TaskRun<I, A, E, R>,
  failure: TaskFailure<E>,
  retries: number | undefined,
  step:
    | ((now: number, input: TaskFailure<E>) => Effect.Effect<[unknown, Duration.Duration], unknown>)
    | undefined,
  retried: number
): Effect.Effect<RetryDecision> =>
  Effect.gen(function*() {
    if (retries !== undefined && retried >= retries) return { _tag: "Exhausted" } as const
    if (!(yield* conditionAllows(run, failure))) return { _tag: "Refused" } as const
    let delaySeconds: number
    if (step !== undefined) {
      const now = yield* Clock.currentTimeMillis
      const next = yield* Effect.exit(step(now, failure))
      if (Exit.isFailure(next)) return { _tag: "Exhausted" } as const
      delaySeconds = Duration.toMillis(next.value[1]) / 1000
    } else {
      delaySeconds = delayAt(run.task.options.retryDelaySeconds, retried)
    }
    const jitter = run.task.options.retryJitterFactor
    if (jitter !== undefined) delaySeconds = yield* jittered(delaySeconds, jitter)
    return { _tag: "Retry", delaySeconds, retry: retried + 1, of: retries } as const
  })

// -----------------------------------------------------------------------------
// running
// -----------------------------------------------------------------------------

/**
 * Runs a task on an input and always succeeds with the run's final state
 * (Prefect's client task engine):
 *
 * - **states**: PENDING, RUNNING, then the final state; each state carries
 *   `taskRunId` (a UUID), `flowRunId` inside a flow, the current span's
 *   `traceparent` (`null` outside a span), and a timestamp from
 *   `Clock` strictly later than the previous one (a tie is moved 1 ms on, the
 *   finest step a `DateTime.Utc` holds). `runCount` counts entries into
 *   RUNNING. Every transition is recorded in the `RunLog` when one is in the
 *   context; a failing history is logged at WARNING and never loses the state.
 * - **success**: `Aggregate.returnValueToState` of the value (a record under
 *   the cache key when there is one, persisted when `persistResult`); a
 *   returned state is kept, a returned FAILED state counts as a failure.
 * - **failure with retries left** (and the retry condition allowing it):
 *   INFO `Task run failed with exception: ValueError('boom') - Retry 1/2 will start 0.2 second(s) from now`
 *   (`will start immediately` without a delay; `with state: Failed(...)` for
 *   a returned state), then AwaitingRetry with `scheduledTime` = its timestamp
 *   + the delay and a wait, or nothing when there is no delay, then RUNNING
 *   named `Retrying`. Retried attempts write nothing.
 * - **retries exhausted**: ERROR `Task run failed with exception: … - Retries are exhausted`
 *   (no suffix without retries; no line when the retry condition said no),
 *   then FAILED from `Failure.exceptionToFailedState` with the message
 *   `Task run encountered an exception {Name}: {message}` and
 *   `retriable: false`, its record written when `persistResult`.
 * - **timeout**: the attempt fails with {@link TaskRunTimeoutError} (retried
 *   like any failure); at the end, ERROR and FAILED named `TimedOut`,
 *   `Task run exceeded timeout of {n} second(s)`, holding the bare error.
 * - **interruption, signals, process exit**: CRASHED with Prefect's texts
 *   (`Failure.exceptionToCrashedState`), logged `Crash detected! {message}`.
 *   When the fiber running `run` is interrupted, the CRASHED state is still
 *   entered and recorded before the interruption goes on.
 * - **cache**: with a cache key whose record exists unexpired (and no
 *   `refreshCache`), the body does not run: COMPLETED named `Cached` carrying
 *   the stored record. With a store whose lock manager supports SERIALIZABLE
 *   isolation, runs of one key take its lock, so concurrent runs run the
 *   body once and the others end `Cached`.
 * - last, `Finished in state {State.format(final)}` at INFO when COMPLETED,
 *   ERROR otherwise.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResultStore, StateResult, Task } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const double = yield* Task.make({ name: "double" }, (n: number) => Effect.succeed(n * 2))
 *   const state = yield* Task.run(double, 21)
 *   return yield* StateResult.getStateResult(state) // 42, typed number
 * }).pipe(Effect.provide(ResultStore.layerMemory))
 * ```
 *
 * @category running
 * @since 0.2.0
 */
export const run: {
  <I, A, E, R>(
    self: Task<I, A, E, R>,
    ...input: [I] extends [void] ? [] | [input: I] : [input: I]
  ): Effect.Effect<TaskState<A, E>, never, R | ResultStore>
  <I>(input: I): <A, E, R>(self: Task<I, A, E, R>) => Effect.Effect<TaskState<A, E>, never, R | ResultStore>
} = dual(
  (args) => isTask(args[0]),
  <I, A, E, R>(self: Task<I, A, E, R>, input: I): Effect.Effect<TaskState<A, E>, never, R | ResultStore> =>
    runImpl(self, input)
)

/**
 * Runs a task with a given identity: {@link run}, with the task run's id and
 * name chosen by the caller and, with `resume`, its recorded history picked
 * up instead of started anew (see {@link RunOptions}). Durable engines use it
 * so that a task run replayed on another machine stays one task run with one
 * final state.
 *
 * @category running
 * @since 0.2.0
 */
export const runWith = <I, A, E, R>(
  self: Task<I, A, E, R>,
  input: I,
  options: RunOptions
): Effect.Effect<TaskState<A, E>, never, R | ResultStore> => runImpl(self, input, options)

/**
 * Runs one effect as a task of the given options (the effect is the body of
 * every attempt): `effect.pipe(Task.task({ name: "fetch", retries: 2 }))`.
 * Fails only with {@link InvalidTaskOptions}, before anything runs; see
 * {@link run} for the lifecycle.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResultStore, Task } from "@runstate/core"
 *
 * const state = Effect.succeed(1).pipe(Task.task({ name: "one" }), Effect.provide(ResultStore.layerMemory))
 * ```
 *
 * @category running
 * @since 0.2.0
 */
export const task: {
  <E>(
    options: TaskOptions<void, NoInfer<E>>
  ): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<TaskState<A, E>, InvalidTaskOptions, R | ResultStore>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options: TaskOptions<void, NoInfer<E>>
  ): Effect.Effect<TaskState<A, E>, InvalidTaskOptions, R | ResultStore>
} = dual(
  2,
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options: TaskOptions<void, E>
  ): Effect.Effect<TaskState<A, E>, InvalidTaskOptions, R | ResultStore> =>
    Effect.flatMap(make<void, A, E, R>(options, () => self), (t) => runImpl(t, undefined))
)

// -----------------------------------------------------------------------------
// reading errors back
// -----------------------------------------------------------------------------

/**
 * The ways {@link getError} can fail: the record is missing or unreadable,
 * or the stored value does not match the task's `errorSchema`.
 *
 * @category errors
 * @since 0.2.0
 */
export type GetErrorError = MissingResult | SerializationError | StorageError | InvalidState

/**
 * What {@link getError} reads back for a task: its error `E` when it was
 * made with an `errorSchema` ({@link WithErrorSchema}), else `unknown`.
 *
 * @category models
 * @since 0.2.0
 */
export type DecodedError<T> = T extends { readonly options: { readonly errorSchema: Schema.Codec<infer E, any> } } ? E
  : unknown

/**
 * The error a task run's FAILED state holds, decoded with the task's
 * `errorSchema`: from the record on the state, or — for a state that carries
 * only the record's metadata, as one read back from Prefect's API or another
 * process does — read from the store. The result is an instance of the
 * schema's class with its `_tag` and fields. Without an `errorSchema`, the
 * stored value is returned as it is, typed `unknown`: a record written
 * without a schema holds Prefect's exception shape, not the original `E`.
 *
 * @category getters
 * @since 0.2.0
 */
export const getError: {
  (state: State.State<unknown>): <T extends Task<any, any, any, any>>(
    self: T
  ) => Effect.Effect<DecodedError<T>, GetErrorError, ResultStore>
  <T extends Task<any, any, any, any>>(
    self: T,
    state: State.State<unknown>
  ): Effect.Effect<DecodedError<T>, GetErrorError, ResultStore>
} = dual(
  2,
  <I, A, E, R>(
    self: Task<I, A, E, R>,
    state: State.State<unknown>
  ): Effect.Effect<unknown, GetErrorError, ResultStore> =>
    Effect.gen(function*() {
      const data = state.data
      let value: unknown
      if (ResultRecord.isResultRecord(data)) value = data.result
      else if (ResultRecord.isResultRecordMetadata(data)) {
        if (data.storageKey === null) {
          return yield* new InvalidState({
            message: "storage_key is required to hydrate a result record from metadata"
          })
        }
        const store = yield* ResultStore
        value = (yield* store.read(data.storageKey, { serializer: data.serializer })).result
      } else value = data
      const schema = self.options.errorSchema
      if (schema === undefined || Schema.is(schema as Schema.Codec<unknown, unknown>)(value)) return value
      return yield* Effect.mapError(
        Schema.decodeUnknownEffect(schema as Schema.Codec<unknown, unknown>)(value),
        (cause) =>
          new InvalidState({ message: `The stored error does not match the task's error schema: ${cause.message}` })
      )
    })
)
