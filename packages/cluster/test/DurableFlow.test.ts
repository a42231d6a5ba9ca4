import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Schedule, Schema } from "effect"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as WorkflowEngine from "effect/workflow/WorkflowEngine"
import { type ResultRecord, ResultStore, RunLog, State, StateResult, Task } from "@runstate/core"
import { FaultInjection } from "@runstate/core/testing"
import { ClusterLayer, DurableFlow } from "@runstate/cluster"

/** Counts how often each task body ran, per test. */
const counter = () => {
  const runs = new Map<string, number>()
  return {
    runs,
    hit: (key: string) => Effect.sync(() => runs.set(key, (runs.get(key) ?? 0) + 1))
  }
}

const makeFlow = (name: string, hits: ReturnType<typeof counter>) =>
  DurableFlow.make(name, {
    name,
    parameters: { n: Schema.Number, failAt: Schema.Number },
    run: ({ failAt, n }) =>
      Effect.gen(function*() {
        const square = yield* Task.make(
          { name: "square", retries: 1 },
          (i: number) =>
            Effect.andThen(
              hits.hit(`square-${i}`),
              i === failAt ? Effect.fail(new Error(`no ${i}`)) : Effect.succeed(i * i)
            )
        )
        return yield* Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          (i) => DurableFlow.task(square, i, { key: String(i) }),
          { concurrency: 4 }
        )
      })
  })

describe("DurableFlow on the in-process engine", () => {
  it.effect("runs a flow of tasks to Prefect's aggregate final state, with results in the store", () => {
    const hits = counter()
    const flow = makeFlow("squares", hits)
    return Effect.gen(function*() {
      const final = yield* flow.run({ n: 5, failAt: -1 })
      expect(State.format(final)).toBe("Completed('All states completed.')")
      const log = yield* RunLog.RunLog
      const tasks = yield* log.runs({ kind: "task", flowRunId: final.stateDetails.flowRunId! })
      expect(tasks.map((t) => t.name).sort()).toEqual(["square-0", "square-1", "square-2", "square-3", "square-4"])
      for (const t of tasks) {
        const history = yield* log.history(t.runId)
        expect(history.map((h) => h.to.name)).toEqual(["Pending", "Running", "Completed"])
        const value = yield* StateResult.getStateResult(t.state)
        expect(value).toBe(Number(t.name.slice(7)) ** 2)
      }
      expect([...hits.runs.values()]).toEqual([1, 1, 1, 1, 1])
    }).pipe(Effect.provide(Layer.fresh(flow.layer).pipe(Layer.provideMerge(ClusterLayer.layerInProcess))))
  })

  it.effect("a failing task retries as Prefect's task engine does and the flow ends FAILED", () => {
    const hits = counter()
    const flow = makeFlow("squares-failing", hits)
    return Effect.gen(function*() {
      const final = yield* flow.run({ n: 3, failAt: 1 })
      expect(State.format(final)).toBe("Failed('1/3 states failed.')")
      expect(hits.runs.get("square-1")).toBe(2)
      const log = yield* RunLog.RunLog
      const flowHistory = yield* log.history(final.stateDetails.flowRunId!)
      expect(flowHistory.map((h) => h.to.name)).toEqual(["Pending", "Running", "Failed"])
    }).pipe(Effect.provide(flow.layer.pipe(Layer.provideMerge(ClusterLayer.layerInProcess))))
  })

  it.effect("starting twice with one key attaches to the same flow run; tasks run once", () => {
    const hits = counter()
    const flow = makeFlow("squares-idempotent", hits)
    return Effect.gen(function*() {
      const a = yield* flow.start({ n: 2, failAt: -1 }, { key: "nightly-2026-11-30" })
      const b = yield* flow.start({ n: 2, failAt: -1 }, { key: "nightly-2026-11-30" })
      expect(a).toBe(b)
      expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      const final = yield* flow.await(a, { timeout: "5 seconds", interval: "5 millis" })
      expect(final.stateDetails.flowRunId).toBe(a)
      expect(Option.isSome(yield* flow.poll(a))).toBe(true)
      expect([...hits.runs.values()]).toEqual([1, 1])
    }).pipe(Effect.provide(flow.layer.pipe(Layer.provideMerge(ClusterLayer.layerInProcess))))
  })

  it.live("cancel: CANCELLING is recorded, the run stops, and it ends CANCELLED as Prefect marks it", () => {
    const flow = DurableFlow.make("sleepy", {
      name: "sleepy",
      parameters: {},
      run: () =>
        Effect.flatMap(
          Task.make({ name: "nap" }, () => Effect.sleep("1 minute")),
          (nap) => DurableFlow.task(nap, undefined, { key: "only" })
        )
    })
    return Effect.gen(function*() {
      const id = yield* flow.start({})
      const log = yield* RunLog.RunLog
      // Wait until the task is running.
      yield* Effect.gen(function*() {
        const tasks = yield* log.runs({ kind: "task", flowRunId: id })
        if (tasks[0]?.state.type !== "RUNNING") return yield* Effect.fail("not yet")
      }).pipe(Effect.retry({ times: 200, schedule: Schedule.spaced("10 millis") }))
      yield* flow.cancel(id)
      const final = yield* flow.await(id, { timeout: "10 seconds", interval: "10 millis" })
      expect(final.type).toBe("CANCELLED")
      expect(final.name).toBe("Cancelled")
      const history = yield* log.history(id)
      expect(history.map((h) => h.to.name)).toEqual(["Pending", "Running", "Cancelling", "Cancelled"])
      expect(history.at(-1)!.from?.name).toBe("Cancelling")
    }).pipe(Effect.provide(flow.layer.pipe(Layer.provideMerge(ClusterLayer.layerInProcess))))
  })

  it.live("a flow state whose write fails is written once, with the next record, not once per attempt", () => {
    const hits = counter()
    const flow = makeFlow("squares-history-outage", hits)
    // The run history on a store whose next operations fail (a database restarting).
    const history = RunLog.layerKeyValueStore().pipe(
      Layer.provideMerge(FaultInjection.layer()),
      Layer.provide(KeyValueStore.layerMemory)
    )
    return Effect.gen(function*() {
      const faults = yield* FaultInjection.FaultController
      // The flow's first read of its history, then its PENDING record, fail.
      yield* faults.failNext(3)
      const final = yield* flow.run({ n: 3, failAt: -1 })
      expect(State.format(final)).toBe("Completed('All states completed.')")
      const log = yield* RunLog.RunLog
      const flowHistory = yield* log.history(final.stateDetails.flowRunId!)
      expect(flowHistory.map((h) => h.to.name)).toEqual(["Pending", "Running", "Completed"])
      expect((yield* faults.stats).failures).toBe(3)
    }).pipe(Effect.provide(
      flow.layer.pipe(
        Layer.provideMerge(Layer.mergeAll(WorkflowEngine.layerMemory, ResultStore.layerMemory, history))
      )
    ))
  })

  it.live("a task's result write that fails while the store is down is tried again: the result is readable", () => {
    const hits = counter()
    const flow = makeFlow("squares-results-outage", hits)
    const results = ResultStore.layer().pipe(
      Layer.provideMerge(FaultInjection.layer({ operations: ["set"] })),
      Layer.provide(KeyValueStore.layerMemory)
    )
    return Effect.gen(function*() {
      const faults = yield* FaultInjection.FaultController
      // The first result writes fail, as while the database restarts.
      yield* faults.failNext(3)
      const final = yield* flow.run({ n: 3, failAt: -1 })
      expect(State.format(final)).toBe("Completed('All states completed.')")
      expect((yield* faults.stats).failures).toBe(3)
      const log = yield* RunLog.RunLog
      const tasks = yield* log.runs({ kind: "task", flowRunId: final.stateDetails.flowRunId! })
      expect(tasks).toHaveLength(3)
      // Read back from the store itself, as another process would.
      const store = yield* ResultStore.ResultStore
      for (const t of tasks) {
        const record = t.state.data as ResultRecord.ResultRecord<number>
        expect(record.metadata.storageKey).toEqual(expect.any(String))
        const stored = yield* store.read(record.metadata.storageKey!)
        expect(stored.result).toBe(Number(t.name.slice("square-".length)) ** 2)
      }
      expect([...hits.runs.values()]).toEqual([1, 1, 1])
    }).pipe(Effect.provide(
      flow.layer.pipe(
        Layer.provideMerge(Layer.mergeAll(WorkflowEngine.layerMemory, results, RunLog.layerMemory))
      )
    ))
  })
})
