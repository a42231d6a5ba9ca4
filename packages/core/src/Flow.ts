/**
 * Prefect's flow-run lifecycle as an Effect combinator. A flow runs a program
 * — any Effect, with any concurrency — whose tasks (`Task.run`) become the
 * flow run's task runs: they carry its `flowRunId` and are named
 * `{task name}-{n}`. The flow run goes PENDING → RUNNING → its final state:
 * the program's return value through `Aggregate.returnValueToState` (which
 * aggregates the task states the program returns), FAILED when the program
 * fails, CRASHED when it is interrupted or a signal stops it. Every transition
 * goes to the `RunLog` service when one is provided.
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Aggregate from "./Aggregate.ts"
import * as Failure from "./Failure.ts"
import { failedStateOf } from "./internal/failure.ts"
import { CurrentFlowRun, type FlowRunContext, randomId } from "./internal/runContext.ts"
import type { ResultStore } from "./ResultStore.ts"
import type * as Run from "./Run.ts"
import { RunLog, type RunLogShape } from "./RunLog.ts"
import * as State from "./State.ts"
import * as StateDetails from "./StateDetails.ts"

/**
 * Flow options that cannot work: an empty name, a timeout that is not a
 * positive finite number.
 *
 * @category errors
 * @since 0.2.0
 */
export class InvalidFlowOptions extends Data.TaggedError("InvalidFlowOptions")<{
  readonly message: string
  /** The option at fault, e.g. `"timeoutSeconds"`. */
  readonly option: string
}> {}

/**
 * The error a flow's program fails with when it exceeds `timeoutSeconds`
 * (Prefect's `FlowRunTimeoutError`): `Flow run exceeded timeout of {n} second(s)`.
 *
 * @category errors
 * @since 0.2.0
 */
export class FlowRunTimeoutError extends Data.TaggedError("FlowRunTimeoutError")<{
  readonly seconds: number
}> {
  /**
   * Prefect's text, e.g. `Flow run exceeded timeout of 5 second(s)`.
   *
   * @since 0.2.0
   */
  override get message(): string {
    return `Flow run exceeded timeout of ${this.seconds} second(s)`
  }
}

/**
 * A flow's options.
 *
 * @category models
 * @since 0.2.0
 */
export interface FlowOptions {
  /** The flow's name. */
  readonly name: string
  /** The flow run's name. Default: `{name}-{first 8 hex digits of the flow run id}`. */
  readonly flowRunName?: string | undefined
  /** Seconds the program may run before the flow ends FAILED named `TimedOut`. */
  readonly timeoutSeconds?: number | undefined
  /** Write the final state's result record (the return value, or the error). Default `false`. */
  readonly persistResult?: boolean | undefined
  /** Storage key of the final state's result record. Default: the store's key function. */
  readonly resultKey?: string | undefined
  /**
   * The flow run's id (a UUID). Default: a new random one. A durable engine
   * passes the id of the execution it replays, so that a flow run replayed
   * on another machine stays one flow run.
   */
  readonly flowRunId?: string | undefined
}

/**
 * The final state of a flow run whose program succeeds with `A` and fails
 * with `E`: a `Run.RunState<A, E>`. On COMPLETED its data is a result record
 * of the return value, which `StateResult.getStateResult` reads back as an
 * `A`; a program that returns task states ends in their aggregate, whose
 * data is a record of the returned value too; FAILED (also `TimedOut`) and
 * CRASHED hold the error.
 *
 * @category models
 * @since 0.2.0
 */
export type FlowState<A, E = never> = Run.RunState<A, E>

const validate = (options: FlowOptions): InvalidFlowOptions | undefined => {
  if (typeof options !== "object" || options === null) {
    return new InvalidFlowOptions({ option: "options", message: "Flow options must be an object." })
  }
  if (typeof options.name !== "string" || options.name === "") {
    return new InvalidFlowOptions({
      option: "name",
      message: `Invalid option name of a flow: it must be a non-empty string, got ${String(options.name)}.`
    })
  }
  const t = options.timeoutSeconds
  if (t !== undefined && !(typeof t === "number" && t > 0 && Number.isFinite(t))) {
    return new InvalidFlowOptions({
      option: "timeoutSeconds",
      message: `Invalid option timeoutSeconds of flow ${
        JSON.stringify(options.name)
      }: it must be a positive number, got ${String(t)}.`
    })
  }
  return undefined
}

const isCrashSignal = (u: unknown): boolean =>
  u instanceof Failure.InterruptSignal || u instanceof Failure.TerminationSignal || u instanceof Failure.ProcessExit

/** The flow run's recorder: stamps ids and strictly increasing timestamps, records transitions. */
class FlowRun {
  readonly flowRunId: string
  readonly runName: string
  readonly log: RunLogShape | undefined
  readonly details: StateDetails.StateDetails
  state: State.State<unknown> | undefined = undefined
  runCount = 0
  last = -Infinity

  constructor(flowRunId: string, runName: string, log: RunLogShape | undefined, traceparent: string | null) {
    this.flowRunId = flowRunId
    this.runName = runName
    this.log = log
    this.details = StateDetails.make({ flowRunId, traceparent })
  }

  enter(to: State.State<unknown>): Effect.Effect<State.State<unknown>> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const ms = now > this.last ? now : this.last + 1
      this.last = ms
      const details = to.stateDetails === StateDetails.empty
        ? this.details
        : StateDetails.update(to.stateDetails, { flowRunId: this.flowRunId })
      const stamped = State.update(to, { timestamp: new Date(ms), stateDetails: details }) as State.State<unknown>
      const from = this.state
      this.state = stamped
      if (stamped.type === "RUNNING") this.runCount++
      const log = this.log
      if (log === undefined) return Effect.succeed(stamped)
      return Effect.as(
        Effect.catchCause(
          log.record({
            runId: this.flowRunId,
            kind: "flow",
            name: this.runName,
            runCount: this.runCount,
            from,
            to: stamped
          }),
          (cause) =>
            Effect.logWarning(
              `Failed to record the transition of flow run '${this.runName}' to ${stamped.name}: ${
                Failure.formatException(cause)
              }`
            )
        ),
        stamped
      )
    })
  }

  logLine(level: "Info" | "Error", message: string): Effect.Effect<void> {
    return level === "Info" ? Effect.logInfo(message) : Effect.logError(message)
  }
}

/**
 * The CANCELLING state recorded for the run by someone who asked to cancel
 * it (Prefect's `flow-run cancel` proposes CANCELLING; the infrastructure is
 * then stopped), or `undefined`. The run's own view of its state is moved to
 * it, so that the final transition leaves CANCELLING.
 */
const cancellationRequested = (
  run: FlowRun,
  log: RunLogShape
): Effect.Effect<State.State<unknown> | undefined> =>
  Effect.map(Effect.orElseSucceed(log.history(run.flowRunId), () => []), (history) => {
    const last = history[history.length - 1]?.to
    if (last === undefined || !State.isCancelling(last)) return undefined
    run.state = last
    return last
  })

const finalState = <A, E>(
  run: FlowRun,
  exit: Exit.Exit<A, E | FlowRunTimeoutError>,
  options: FlowOptions
): Effect.Effect<State.State<unknown>, never, ResultStore> => {
  const persist = options.persistResult === true
  if (Exit.isSuccess(exit)) {
    return Aggregate.returnValueToState(exit.value, { writeResult: persist, key: options.resultKey })
  }
  const cause = exit.cause
  let error: unknown = undefined
  let found = false
  for (const reason of cause.reasons) {
    if (reason._tag === "Fail") {
      error = reason.error
      found = true
      break
    }
    if (reason._tag === "Die") {
      error = reason.defect
      found = true
      break
    }
  }
  if (!found && run.log !== undefined && Cause.hasInterruptsOnly(cause)) {
    return Effect.flatMap(
      cancellationRequested(run, run.log),
      (cancelling): Effect.Effect<State.State<unknown>> =>
        cancelling === undefined
          ? Effect.tap(
            Failure.exceptionToCrashedState(cause),
            (state) => run.logLine("Error", `Crash detected! ${state.message}`)
          )
          : Effect.succeed(State.Cancelled<unknown>({ message: cancelling.message, data: cancelling.data }))
    )
  }
  if (!found || isCrashSignal(error)) {
    return Effect.tap(
      Failure.exceptionToCrashedState(found ? error : cause),
      (state) => run.logLine("Error", `Crash detected! ${state.message}`)
    )
  }
  if (error instanceof FlowRunTimeoutError) {
    return Effect.as(
      run.logLine("Error", error.message),
      State.Failed<unknown>({ name: "TimedOut", message: error.message, data: error })
    )
  }
  return Effect.andThen(
    run.logLine("Error", `Encountered exception during execution: ${Failure.formatException(error)}`),
    failedStateOf(error, { message: "Flow run encountered an exception:", writeResult: persist })
  )
}

const runImpl = <A, E, R>(
  program: Effect.Effect<A, E, R>,
  options: FlowOptions
): Effect.Effect<FlowState<A, E>, InvalidFlowOptions, R | ResultStore> =>
  Effect.suspend(() => {
    const invalid = validate(options)
    if (invalid !== undefined) return Effect.fail(invalid)
    return Effect.uninterruptibleMask((restore) =>
      Effect.withFiber((fiber) => {
        const log = Context.getOption(fiber.context as Context.Context<RunLog>, RunLog)
        const id = options.flowRunId === undefined ? randomId : Effect.succeed(options.flowRunId)
        return Effect.flatMap(Effect.zip(id, State.withTraceparent(State.Pending())), ([flowRunId, probe]) => {
          const runName = options.flowRunName ?? `${options.name}-${flowRunId.slice(0, 8)}`
          const run = new FlowRun(
            flowRunId,
            runName,
            log._tag === "Some" ? log.value : undefined,
            probe.stateDetails.traceparent
          )
          const context: FlowRunContext = { flowRunId, flowName: options.name, taskRunCounts: new Map() }
          let body: Effect.Effect<A, E | FlowRunTimeoutError, R> = Effect.provideService(
            program,
            CurrentFlowRun,
            context
          )
          const timeout = options.timeoutSeconds
          if (timeout !== undefined) {
            body = Effect.timeoutOrElse(body, {
              duration: Duration.millis(timeout * 1000),
              orElse: () => Effect.fail(new FlowRunTimeoutError({ seconds: timeout }))
            })
          }
          return Effect.gen(function*() {
            yield* run.enter(State.Pending())
            yield* run.enter(State.Running())
            const exit = yield* Effect.exit(restore(body))
            const final = yield* run.enter(
              yield* Effect.catchCause(
                finalState(run, exit, options),
                (cause) => Failure.exceptionToCrashedState(cause)
              )
            )
            yield* run.logLine(
              State.isCompleted(final) ? "Info" : "Error",
              `Finished in state ${State.format(final)}`
            )
            return final as FlowState<A, E>
          })
        })
      })
    )
  })

/**
 * Runs a program as a flow and succeeds with the flow run's final state
 * (Prefect's flow engine): PENDING, RUNNING, then
 *
 * - the program succeeds → `Aggregate.returnValueToState` of its value: a
 *   program returning task states (one, or a list) ends in their aggregate
 *   (`All states completed.`, `1/3 states failed.`, …); other values end
 *   COMPLETED with a result record;
 * - it fails or dies → FAILED, `Flow run encountered an exception: {Name}: {message}`
 *   (logged `Encountered exception during execution: …`);
 * - it exceeds `timeoutSeconds` → FAILED named `TimedOut`,
 *   `Flow run exceeded timeout of {n} second(s)`;
 * - it is interrupted, or a signal or process exit stops it → CRASHED with
 *   Prefect's texts (`Failure.exceptionToCrashedState`).
 *
 * Every task run inside the program — in any fiber it forks — carries the
 * flow run's `flowRunId` and is named `{task name}-{n}`. The flow's states
 * carry `flowRunId`, strictly increasing timestamps, and are recorded in the
 * `RunLog` when one is provided; `Finished in state …` is logged last. Fails
 * only with {@link InvalidFlowOptions}, before anything runs.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Flow, ResultStore, Task } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const double = yield* Task.make({ name: "double" }, (n: number) => Effect.succeed(n * 2))
 *   return yield* Effect.forEach([1, 2, 3], (n) => Task.run(double, n), { concurrency: 3 })
 * })
 * const state = program.pipe(Flow.run({ name: "doubles" }), Effect.provide(ResultStore.layerMemory))
 * // Completed('All states completed.')
 * ```
 *
 * @category running
 * @since 0.2.0
 */
export const run: {
  (
    options: FlowOptions
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<FlowState<A, E>, InvalidFlowOptions, R | ResultStore>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    options: FlowOptions
  ): Effect.Effect<FlowState<A, E>, InvalidFlowOptions, R | ResultStore>
} = dual(2, runImpl)

/**
 * The id of the flow run the current fiber is part of, if any.
 *
 * @category getters
 * @since 0.2.0
 */
export const currentFlowRunId: Effect.Effect<string | undefined> = Effect.map(
  Effect.service(CurrentFlowRun),
  (flow) => flow?.flowRunId
)
