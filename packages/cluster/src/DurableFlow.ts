/**
 * Flows that survive the loss of a machine: a runstate flow run as a durable
 * workflow of `effect/workflow`, and each of its task runs as a workflow
 * activity. The same flow code runs on the in-process workflow engine (the
 * embedded default: no servers) and on Effect's cluster engine (runners that
 * share PostgreSQL): only the layers differ. On the cluster, a flow whose
 * runner dies is picked up by another runner, which replays it: every task
 * run that already reached a final state returns that state from the
 * workflow's journal and is not run again; a task run cut off mid-attempt
 * starts over as the same task run (`Rerunning`), so its history keeps one
 * final state. States, texts and results stay Prefect's: the flow run's final
 * state is `Flow.run`'s, each task's lifecycle is `Task.run`'s.
 *
 * @since 0.2.0
 */
import { createHash } from "node:crypto"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Activity from "effect/workflow/Activity"
import * as Workflow from "effect/workflow/Workflow"
import { WorkflowEngine, WorkflowInstance } from "effect/workflow/WorkflowEngine"
import * as Flow from "@runstate/core/Flow"
import { ResultStore, type ResultStoreShape } from "@runstate/core/ResultStore"
import { RunLog, type RunLogShape } from "@runstate/core/RunLog"
import * as State from "@runstate/core/State"
import * as Task from "@runstate/core/Task"
import { fromJournal, toJournal } from "./internal/journal.ts"

// -----------------------------------------------------------------------------
// states in the journal
// -----------------------------------------------------------------------------

/**
 * Turns a flow run id (a UUID) into the workflow execution id it stands for
 * (32 hex digits), and back.
 */
const executionIdOf = (flowRunId: string): string => flowRunId.replaceAll("-", "").toLowerCase()

/**
 * The flow run id of a workflow execution: its id as a UUID, so that Prefect
 * reads it.
 *
 * @category getters
 * @since 0.2.0
 */
export const flowRunIdOf = (executionId: string): string => {
  const hex = executionId.toLowerCase().padEnd(32, "0").slice(0, 32)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

// -----------------------------------------------------------------------------
// tasks
// -----------------------------------------------------------------------------

/**
 * Options of {@link task}.
 *
 * @category models
 * @since 0.2.0
 */
export interface TaskOptions {
  /**
   * What tells this task call apart from other calls of the same task in the
   * flow (default: the input's JSON text). Two calls of one task with one key
   * are one task run: the second gets the first's final state.
   */
  readonly key?: string | undefined
}

const stableJson = (value: unknown): string => {
  try {
    return JSON.stringify(value, (_, v: unknown) =>
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        )
        : typeof v === "bigint"
        ? `${v}n`
        : v) ?? "undefined"
  } catch {
    return String(value)
  }
}

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

/** A task run id fixed by the execution and the activity: the same on every replay. */
const taskRunIdOf = (executionId: string, activity: string): string => {
  const hex = sha256(`${executionId}/${activity}`)
  // Shaped as a UUIDv4 (version and variant bits set), which Prefect accepts.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${
    ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  }${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/**
 * How many task runs of durable flows one process runs at a time (Prefect's
 * worker concurrency limit): a runner given slots takes no more task
 * activities at once, whichever flows they belong to, so that the work of
 * many flows spreads over the cluster's runners instead of piling up on one.
 * Absent, a process runs any number at once.
 *
 * @category services
 * @since 0.2.0
 */
export class TaskSlots extends Context.Service<TaskSlots, Semaphore.Semaphore>()("@runstate/cluster/TaskSlots") {}

/**
 * A layer limiting this process to `slots` task runs at a time (see {@link TaskSlots}).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerTaskSlots = (slots: number): Layer.Layer<TaskSlots> =>
  Layer.sync(TaskSlots, () => Semaphore.makeUnsafe(Math.max(1, Math.floor(slots))))

/**
 * How a durable task's result write waits for a store that is unreachable
 * (a database restarting): again after 100 ms, doubling to at most 2 s
 * apart, 20 times (about half a minute) before the write is given up.
 */
const resultWriteRetry = Schedule.max([
  Schedule.min([Schedule.exponential("100 millis"), Schedule.spaced("2 seconds")]),
  Schedule.recurs(20)
])

/**
 * The result store a durable task's activity writes through: a result write
 * that fails for want of storage is tried again (see `resultWriteRetry`)
 * before the task gives up on it. The activity's outcome is journaled, so a
 * task whose result write was given up on during an outage would keep a
 * final state whose result no process can read.
 */
const persistPatiently = (store: ResultStoreShape): ResultStoreShape => ({
  ...store,
  persistResultRecord: (record, options) =>
    store.persistResultRecord(record, options).pipe(
      Effect.retry({ schedule: resultWriteRetry, while: (error) => error._tag === "StorageError" })
    )
})

/**
 * Runs a task inside a durable flow as one workflow activity. The task's
 * lifecycle is `Task.run`'s (retries, timeouts, caching, history), with a
 * task run id fixed by the flow run and the call's key, and its result
 * always written to the result store (other processes read it there). The
 * activity's journaled outcome is the task run's final state, so when the
 * flow is replayed — on this runner or another — a task run that reached a
 * final state is not run again; one cut off by the loss of its runner runs
 * again as the same task run, picking its history up (`Rerunning`).
 *
 * Outside a durable flow it is `Task.run`.
 *
 * @category running
 * @since 0.2.0
 */
export const task = <I, A, E, R>(
  self: Task.Task<I, A, E, R>,
  input: I,
  options?: TaskOptions
): Effect.Effect<State.State<unknown>, never, R | ResultStore> =>
  Effect.flatMap(Effect.serviceOption(WorkflowInstance), (instance) => {
    if (Option.isNone(instance)) {
      return Task.runWith(self, input, {}) as Effect.Effect<State.State<unknown>, never, R | ResultStore>
    }
    const key = options?.key ?? sha256(stableJson(input)).slice(0, 16)
    const name = `${self.name}-${key}`
    const taskRunId = taskRunIdOf(instance.value.executionId, name)
    const persisted: Task.Task<I, A, E, R> = Object.assign(Object.create(Object.getPrototypeOf(self)), self, {
      options: { ...self.options, persistResult: true }
    })
    const activity = Activity.make({
      name: `runstate/task/${name}`,
      success: Schema.Json,
      execute: Effect.flatMap(Effect.serviceOption(TaskSlots), (slots) => {
        const run = Effect.flatMap(
          Task.runWith(persisted, input, { taskRunId, taskRunName: name, resume: true }).pipe(
            Effect.updateService(ResultStore, persistPatiently)
          ),
          (state) => toJournal(state as State.State<unknown>)
        )
        return Option.isSome(slots) ? slots.value.withPermit(run) : run
      })
    })
    return Effect.flatMap(activity, (json) => fromJournal(json, taskRunId)) as Effect.Effect<
      State.State<unknown>,
      never,
      R | ResultStore
    >
  })

// -----------------------------------------------------------------------------
// flows
// -----------------------------------------------------------------------------

/**
 * Fails {@link DurableFlow.await}: the flow run did not reach a final state
 * within the wait's bound.
 *
 * @category errors
 * @since 0.2.0
 */
export class FlowRunWaitTimeout extends Data.TaggedError("FlowRunWaitTimeout")<{
  readonly flowRunId: string
  readonly message: string
}> {}

/**
 * Options of {@link make}: `Flow.run`'s options (the flow run id comes from
 * the workflow execution) and the flow's parameters.
 *
 * @category models
 * @since 0.2.0
 */
export interface MakeOptions<P extends Schema.Struct.Fields, A, E, R> extends Omit<Flow.FlowOptions, "flowRunId"> {
  /** The schemas of the flow's parameters (they travel through the workflow engine). */
  readonly parameters: P
  /** The flow's program. */
  readonly run: (parameters: Schema.Struct.Type<P>) => Effect.Effect<A, E, R>
}

/**
 * Options of {@link DurableFlow.start} and {@link DurableFlow.run}.
 *
 * @category models
 * @since 0.2.0
 */
export interface StartOptions {
  /**
   * The run's idempotency key: starting the flow again with the same key
   * attaches to the same flow run (running or finished) instead of starting
   * another. Default: a new random key, so each start is a new flow run.
   */
  readonly key?: string | undefined
}

/**
 * Options of {@link DurableFlow.await}.
 *
 * @category models
 * @since 0.2.0
 */
export interface AwaitOptions {
  /** How long to wait for the final state (default 1 hour). */
  readonly timeout?: Duration.Input | undefined
  /** How often to poll (default 250 ms). */
  readonly interval?: Duration.Input | undefined
}

/**
 * A durable flow: its workflow, the layer that registers it on the engine,
 * and the operations any process with the engine can call.
 *
 * @category models
 * @since 0.2.0
 */
export interface DurableFlow<Name extends string, P extends Schema.Struct.Fields, R> {
  readonly name: Name
  /** The underlying workflow (payload: the idempotency key and the parameters; success: the final state's JSON). */
  readonly workflow: Workflow.Workflow<
    Name,
    Schema.Struct<{ readonly key: Schema.String; readonly parameters: Schema.Struct<P> }>,
    Schema.Codec<Schema.Json>,
    Schema.Never
  >
  /** Registers the flow on the workflow engine (add it to each runner's layers). */
  readonly layer: Layer.Layer<never, never, WorkflowEngine | R | ResultStore | RunLog>
  /** Starts a flow run and returns its flow run id at once. */
  readonly start: (
    parameters: Schema.Struct.Type<P>,
    options?: StartOptions
  ) => Effect.Effect<string, never, WorkflowEngine>
  /** Starts a flow run (or attaches to the one with the same key) and waits for its final state. */
  readonly run: (
    parameters: Schema.Struct.Type<P>,
    options?: StartOptions
  ) => Effect.Effect<State.State<unknown>, never, WorkflowEngine>
  /** The final state of a flow run, if it has one yet. */
  readonly poll: (flowRunId: string) => Effect.Effect<Option.Option<State.State<unknown>>, never, WorkflowEngine>
  /** Waits for a flow run's final state, polling, within a bound. */
  readonly await: (
    flowRunId: string,
    options?: AwaitOptions
  ) => Effect.Effect<State.State<unknown>, FlowRunWaitTimeout, WorkflowEngine>
  /**
   * Cancels a flow run as Prefect does: records CANCELLING, then stops the
   * run; it ends CANCELLED (a copy of the CANCELLING state named
   * `Cancelled`). A run already final is left as it is.
   */
  readonly cancel: (flowRunId: string) => Effect.Effect<void, never, WorkflowEngine | RunLog>
}

/**
 * Makes a durable flow from `Flow.run`'s options, the flow's parameter
 * schemas and its program. Inside the program, run tasks with {@link task}.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Task } from "@runstate/core"
 * import { DurableFlow } from "@runstate/cluster"
 *
 * const double = Task.make({ name: "double" }, (n: number) => Effect.succeed(n * 2))
 *
 * export const Doubles = DurableFlow.make("doubles", {
 *   name: "doubles",
 *   parameters: { n: Schema.Number },
 *   run: ({ n }) =>
 *     Effect.flatMap(double, (task) =>
 *       Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => DurableFlow.task(task, i, { key: String(i) })))
 * })
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = <const Name extends string, P extends Schema.Struct.Fields, A, E, R>(
  name: Name,
  options: MakeOptions<P, A, E, R>
): DurableFlow<Name, P, R> => {
  const workflow = Workflow.make(name, {
    payload: { key: Schema.String, parameters: Schema.Struct(options.parameters) },
    success: Schema.Json,
    idempotencyKey: ({ key }) => key
  })
  const { parameters: _parameters, run: program, ...flowOptions } = options

  const layer = workflow.toLayer((payload, executionId) =>
    Effect.gen(function*() {
      const flowRunId = flowRunIdOf(executionId)
      const log = yield* RunLog
      const engine = yield* Effect.context<WorkflowEngine | WorkflowInstance>()
      // A run replayed after it was stopped (cancelled) keeps the final state it recorded.
      const previous = yield* Effect.orElseSucceed(log.history(flowRunId), () => [])
      const last = previous[previous.length - 1]?.to
      if (last !== undefined && State.isCancelled(last)) return yield* toJournal(last)
      // The flow run's own transitions are journaled, one activity each, so a
      // replay does not record them twice; task transitions are recorded by
      // the task activities themselves.
      let ordinal = 0
      const journaled: RunLogShape = {
        ...log,
        // A cancellation is recorded directly: the engine runs no new activity
        // once a run is being stopped, and a stopped run is not replayed.
        record: (transition) =>
          transition.kind === "flow" && transition.runId === flowRunId && !State.isCancelled(transition.to)
            // Interruptible although `Flow.run` records states uninterruptibly:
            // the activity is served by this workflow's own entity, so a run
            // the engine stops (its runner lost its shard lock, or hands the
            // shard to another runner) would otherwise wait for an activity
            // the stopping entity never serves, and the runner could never
            // release the shard. A stopped run records nothing here (not
            // CRASHED either: it is not over, the engine replays it).
            ? Effect.interruptible(Effect.provideContext(
              Activity.make({
                name: `runstate/flow-state/${ordinal++}`,
                // One attempt, never retried: a write that fails leaves the
                // transition with the run history, which writes it with its
                // next record (recording it again would write it twice). An
                // activity cannot be interrupted, so waiting out an outage
                // here would also hold up the runner's handover of its shards.
                execute: Effect.catchCause(
                  log.record(transition),
                  (cause) =>
                    Effect.logWarning(
                      `Could not record the flow run's state ${transition.to.name}; it is written with the next record`,
                      cause
                    )
                )
              }),
              engine
            ))
            : log.record(transition)
      }
      const final = yield* Flow.run(program(payload.parameters as Schema.Struct.Type<P>), {
        ...flowOptions,
        flowRunId
      }).pipe(Effect.provideService(RunLog, journaled), Effect.orDie)
      return yield* toJournal(final as State.State<unknown>)
    })
  ) as unknown as DurableFlow<Name, P, R>["layer"]

  const randomKey = Effect.sync(() => globalThis.crypto.randomUUID())

  const start: DurableFlow<Name, P, R>["start"] = (parameters, startOptions) =>
    Effect.gen(function*() {
      const key = startOptions?.key ?? (yield* randomKey)
      const executionId = yield* workflow.execute({ key, parameters } as never, { discard: true })
      return flowRunIdOf(executionId)
    }) as Effect.Effect<string, never, WorkflowEngine>

  const run: DurableFlow<Name, P, R>["run"] = (parameters, startOptions) =>
    Effect.gen(function*() {
      const key = startOptions?.key ?? (yield* randomKey)
      const json = yield* workflow.execute({ key, parameters } as never)
      return yield* fromJournal(json, flowRunIdOf(yield* workflow.executionId({ key, parameters } as never)))
    }) as Effect.Effect<State.State<unknown>, never, WorkflowEngine>

  /** The final state the history holds for a run whose workflow ended without one (a cancelled run). */
  const recordedFinal = (flowRunId: string) =>
    Effect.gen(function*() {
      const log = yield* Effect.serviceOption(RunLog)
      if (Option.isNone(log)) return Option.none<State.State<unknown>>()
      const history = yield* Effect.orElseSucceed(log.value.history(flowRunId), () => [])
      const last = history[history.length - 1]?.to
      return last !== undefined && State.isFinal(last) ? Option.some(last) : Option.none<State.State<unknown>>()
    })

  const poll: DurableFlow<Name, P, R>["poll"] = (flowRunId) =>
    Effect.catchDefect(
      Effect.flatMap(workflow.poll(executionIdOf(flowRunId)), (result) => {
        if (Option.isNone(result) || result.value._tag !== "Complete") return Effect.succeed(Option.none())
        const exit = result.value.exit
        if (exit._tag === "Success") return Effect.map(fromJournal(exit.value, flowRunId), Option.some)
        return recordedFinal(flowRunId)
      }),
      () => recordedFinal(flowRunId)
    ) as Effect.Effect<Option.Option<State.State<unknown>>, never, WorkflowEngine>

  const awaitFinal: DurableFlow<Name, P, R>["await"] = (flowRunId, awaitOptions) => {
    const timeout = awaitOptions?.timeout ?? "1 hour"
    const interval = awaitOptions?.interval ?? "250 millis"
    const loop: Effect.Effect<State.State<unknown>, never, WorkflowEngine> = Effect.flatMap(
      poll(flowRunId),
      (found) => Option.isSome(found) ? Effect.succeed(found.value) : Effect.andThen(Effect.sleep(interval), loop)
    )
    return Effect.timeoutOrElse(loop, {
      duration: timeout,
      orElse: () =>
        Effect.fail(
          new FlowRunWaitTimeout({
            flowRunId,
            message: `Flow run ${flowRunId} did not reach a final state within ${
              Duration.format(Duration.fromInputUnsafe(timeout))
            }`
          })
        )
    })
  }

  const cancel: DurableFlow<Name, P, R>["cancel"] = (flowRunId) =>
    Effect.gen(function*() {
      const log = yield* RunLog
      const history = yield* Effect.orElseSucceed(log.history(flowRunId), () => [])
      const last = history[history.length - 1]
      if (last !== undefined && State.isFinal(last.to)) return
      if (last !== undefined && !State.isCancelling(last.to)) {
        yield* Effect.ignore(log.record({
          runId: flowRunId,
          kind: "flow",
          name: last.name,
          runCount: last.runCount,
          from: last.to,
          to: State.Cancelling({ stateDetails: last.to.stateDetails })
        }))
      }
      const engine = yield* WorkflowEngine
      // Prefect stops a cancelled run's infrastructure; the engine's hard
      // interrupt stops the running workflow (a soft one waits for it to suspend).
      yield* engine.interruptUnsafe(workflow, executionIdOf(flowRunId))
    })

  return { name, workflow, layer, start, run, poll, await: awaitFinal, cancel } as DurableFlow<Name, P, R>
}
