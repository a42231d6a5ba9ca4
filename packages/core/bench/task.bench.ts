/**
 * `task.trivial`: `Task.run` of a task around `Effect.succeed(i)` (no
 * retries, memory store, a fresh memory history per round), 100,000 runs in
 * one `Effect.forEach`, against `Failure.run` of the same effects; goal: time
 * ratio ≤ 2.5. `floorRatio`: the same baseline against `Failure.run` plus
 * what a task run must add whatever the engine, written by hand: a task run
 * id (`crypto.randomUUID`, the cheapest UUIDv4), its state details, two more
 * states (Pending, Running), the final state stamped with the run's details
 * and a timestamp, and the three transitions recorded in the memory `RunLog`
 * (a fresh one per round, as for the subject) — the price of Prefect's
 * lifecycle before any engine code. `arrayFloorRatio`: the same with the
 * three transitions pushed to an array instead of the `RunLog` (the cost of
 * the states alone). `noHistoryRatio`: the task runs without a `RunLog` in the
 * context, against the same baseline — how much of the time is the history's.
 *
 * `task.cached`: a cache hit (`Task.run` of a task whose key holds a record in
 * the memory store: Pending, Running, Cached, three history entries) against
 * `store.read` of the same key, 100,000 times; goal ≤ 3. `floorRatio`: the
 * baseline against `store.read` plus the least a hit must add: a task run id,
 * its details, the three states and the three transitions recorded in the
 * memory `RunLog`. `arrayFloorRatio`: the same with an array for history.
 *
 * `flow.fanout`: a flow of 10,000 trivial tasks run with concurrency 16
 * against `Effect.forEach` of `Failure.run` over the same effects with the
 * same concurrency; goal ≤ 3.
 *
 * Logging: the runtime has no loggers, so no run formats its
 * `Finished in state …` line (the engine skips the text when no logger would
 * receive it; with a logger the line is written as always).
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Failure from "../src/Failure.ts"
import * as Flow from "../src/Flow.ts"
import * as ResultStore from "../src/ResultStore.ts"
import * as RunLog from "../src/RunLog.ts"
import * as State from "../src/State.ts"
import * as StateDetails from "../src/StateDetails.ts"
import * as Task from "../src/Task.ts"
import { type Benchmark, compare, round } from "../../../scripts/benchmark.ts"

const N = 100_000
const FANOUT = 10_000

const inputs: ReadonlyArray<number> = Array.from({ length: N }, (_, i) => i)
const effects: ReadonlyArray<Effect.Effect<number>> = inputs.map((i) => Effect.succeed(i))

const runtime = ManagedRuntime.make(Layer.mergeAll(ResultStore.layerMemory, Logger.layer([])))

const trivial = Effect.runSync(Task.make({ name: "trivial" }, (i: number) => effects[i]!))
const cached = Effect.runSync(Task.make({ name: "cached", cacheKey: "bench-cached" }, () => Effect.succeed(1)))

/** A fresh memory history for each round, so rounds do not grow one history. */
const withHistory = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideServiceEffect(effect, RunLog.RunLog, RunLog.makeMemory)

const taskTrivial = withHistory(Effect.forEach(inputs, (i) => Task.run(trivial, i), { discard: true }))
const taskTrivialNoHistory = Effect.forEach(inputs, (i) => Task.run(trivial, i), { discard: true })
const runTrivial = Effect.forEach(effects, (effect) => Failure.run(effect), { discard: true })
/**
 * The three transitions of a task run, recorded in `log` one after the other
 * (as any engine must: the history's `record` is an effect per transition).
 */
const recordThree = (
  log: RunLog.RunLogShape,
  taskRunId: string,
  pending: State.State<unknown>,
  running: State.State<unknown>,
  final: State.State<unknown>
) => {
  const name = `task-${taskRunId.slice(0, 8)}`
  return Effect.andThen(
    Effect.andThen(
      log.record({
        runId: taskRunId,
        kind: "task",
        name,
        flowRunId: undefined,
        runCount: 0,
        from: undefined,
        to: pending
      }),
      log.record({
        runId: taskRunId,
        kind: "task",
        name,
        flowRunId: undefined,
        runCount: 1,
        from: pending,
        to: running
      })
    ),
    log.record({ runId: taskRunId, kind: "task", name, flowRunId: undefined, runCount: 1, from: running, to: final })
  )
}

/** The states any task run needs around its final one: details with a fresh id, Pending, Running. */
const lifecycleStates = () => {
  const taskRunId = crypto.randomUUID()
  const stateDetails = StateDetails.make({ taskRunId })
  const now = Date.now()
  return {
    taskRunId,
    stateDetails,
    pending: State.Pending({ stateDetails, timestamp: new Date(now) }),
    running: State.Running({ stateDetails, timestamp: new Date(now + 1) }),
    next: now + 2
  }
}

const floorTrivial = Effect.flatMap(
  Effect.service(RunLog.RunLog),
  (log) =>
    Effect.forEach(effects, (effect) =>
      Effect.flatMap(Failure.run(effect), (final) => {
        const { next, pending, running, stateDetails, taskRunId } = lifecycleStates()
        const stamped = State.update(final, { timestamp: new Date(next), stateDetails })
        return recordThree(log, taskRunId, pending, running, stamped)
      }), { discard: true })
).pipe(withHistory)
const arrayFloorTrivial = Effect.suspend(() => {
  const history: Array<unknown> = []
  return Effect.forEach(effects, (effect) =>
    Effect.map(Failure.run(effect), (final) => {
      const { next, pending, running, stateDetails } = lifecycleStates()
      const stamped = State.update(final, { timestamp: new Date(next), stateDetails })
      history.push({ to: pending }, { from: pending, to: running }, { from: running, to: stamped })
    }), { discard: true })
})

const taskCached = withHistory(Effect.forEach(inputs, () => Task.run(cached), { discard: true }))
const readCached = Effect.flatMap(
  Effect.service(ResultStore.ResultStore),
  (store) => Effect.forEach(inputs, () => store.read("bench-cached"), { discard: true })
)
const floorCached = Effect.flatMap(
  Effect.all([Effect.service(ResultStore.ResultStore), Effect.service(RunLog.RunLog)]),
  ([store, log]) =>
    Effect.forEach(inputs, () =>
      Effect.flatMap(store.read("bench-cached"), (record) => {
        const { next, pending, running, stateDetails, taskRunId } = lifecycleStates()
        const cachedState = State.Completed({ name: "Cached", data: record, stateDetails, timestamp: new Date(next) })
        return recordThree(log, taskRunId, pending, running, cachedState)
      }), { discard: true })
).pipe(withHistory)
const arrayFloorCached = Effect.flatMap(
  Effect.service(ResultStore.ResultStore),
  (store) =>
    Effect.suspend(() => {
      const history: Array<unknown> = []
      return Effect.forEach(inputs, () =>
        Effect.map(store.read("bench-cached"), (record) => {
          const { next, pending, running, stateDetails } = lifecycleStates()
          const cachedState = State.Completed({ name: "Cached", data: record, stateDetails, timestamp: new Date(next) })
          history.push({ to: pending }, { from: pending, to: running }, { from: running, to: cachedState })
        }), { discard: true })
    })
)

const fanoutInputs = inputs.slice(0, FANOUT)
const flowFanout = withHistory(
  Flow.run(Effect.forEach(fanoutInputs, (i) => Task.run(trivial, i), { concurrency: 16 }), { name: "fanout" })
)
const forEachRun = Effect.forEach(fanoutInputs, (i) => Failure.run(effects[i]!), { concurrency: 16 })

const benchmarks: ReadonlyArray<Benchmark> = [
  {
    name: "task.trivial",
    goal: "time ratio ≤ 2.5 (Task.run vs Failure.run, 100,000 trivial tasks, memory store and history)",
    run: async () => {
      const check = await runtime.runPromise(withHistory(Task.run(trivial, 1)))
      if (check.type !== "COMPLETED") throw new Error(`unexpected state ${check.type}`)
      const timing = await compare({
        subject: () => runtime.runPromise(taskTrivial),
        baseline: () => runtime.runPromise(runTrivial),
        rounds: 7,
        warmup: 2
      })
      const floor = await compare({
        subject: () => runtime.runPromise(floorTrivial),
        baseline: () => runtime.runPromise(runTrivial),
        rounds: 5,
        warmup: 1
      })
      const arrayFloor = await compare({
        subject: () => runtime.runPromise(arrayFloorTrivial),
        baseline: () => runtime.runPromise(runTrivial),
        rounds: 5,
        warmup: 1
      })
      const noHistory = await compare({
        subject: () => runtime.runPromise(taskTrivialNoHistory),
        baseline: () => runtime.runPromise(runTrivial),
        rounds: 5,
        warmup: 1
      })
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= 2.5,
        subjectMs: timing.subjectMs,
        baselineMs: timing.baselineMs,
        perTaskMicros: round((timing.subjectMs / N) * 1000),
        floorRatio: round(floor.ratio),
        arrayFloorRatio: round(arrayFloor.ratio),
        noHistoryRatio: round(noHistory.ratio)
      }
    }
  },
  {
    name: "task.cached",
    goal: "time ratio ≤ 3 (a Cached task run vs store.read of the same key, 100,000 runs)",
    run: async () => {
      const first = await runtime.runPromise(withHistory(Task.run(cached)))
      const second = await runtime.runPromise(withHistory(Task.run(cached)))
      if (first.name !== "Completed" || second.name !== "Cached") {
        throw new Error(`unexpected states ${first.name}, ${second.name}`)
      }
      const timing = await compare({
        subject: () => runtime.runPromise(taskCached),
        baseline: () => runtime.runPromise(readCached),
        rounds: 7,
        warmup: 2
      })
      const floor = await compare({
        subject: () => runtime.runPromise(floorCached),
        baseline: () => runtime.runPromise(readCached),
        rounds: 5,
        warmup: 1
      })
      const arrayFloor = await compare({
        subject: () => runtime.runPromise(arrayFloorCached),
        baseline: () => runtime.runPromise(readCached),
        rounds: 5,
        warmup: 1
      })
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= 3,
        subjectMs: timing.subjectMs,
        baselineMs: timing.baselineMs,
        perHitMicros: round((timing.subjectMs / N) * 1000),
        floorRatio: round(floor.ratio),
        arrayFloorRatio: round(arrayFloor.ratio)
      }
    }
  },
  {
    name: "flow.fanout",
    goal: "time ratio ≤ 3 (a flow of 10,000 trivial tasks, concurrency 16, vs Effect.forEach of Failure.run)",
    run: async () => {
      const check = await runtime.runPromise(flowFanout)
      if (check.type !== "COMPLETED") throw new Error(`unexpected flow state ${check.type}`)
      const timing = await compare({
        subject: () => runtime.runPromise(flowFanout),
        baseline: () => runtime.runPromise(forEachRun),
        rounds: 7,
        warmup: 2
      })
      await runtime.dispose()
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= 3,
        subjectMs: timing.subjectMs,
        baselineMs: timing.baselineMs,
        tasks: FANOUT
      }
    }
  }
]

export default benchmarks
