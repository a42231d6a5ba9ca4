import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Failure, Flow, ResultStore, RunLog, type State, StateResult, Task } from "@runstate/core"
import { captureLogs } from "./support.ts"

const setup = () => {
  const logs = captureLogs()
  return { logs, layer: Layer.mergeAll(ResultStore.layerMemory, RunLog.layerMemory, logs.layer) }
}

const withSetup = <A, E>(
  f: (logs: Array<string>) => Effect.Effect<A, E, ResultStore.ResultStore | RunLog.RunLog>
) => {
  const { logs, layer } = setup()
  return Effect.provide(f(logs.messages), layer)
}

const names = (history: ReadonlyArray<RunLog.Transition>) => history.map((t) => `${t.to.name}:${t.to.type}`)

const flowHistory = (state: State.State<unknown>) =>
  Effect.flatMap(Effect.service(RunLog.RunLog), (log) => log.history(state.stateDetails.flowRunId!))

describe("Flow", () => {
  it.effect("tracks its tasks under any concurrency: flowRunId on every task state, names, aggregate of returned states", () =>
    withSetup((logs) =>
      Effect.gen(function*() {
        const fetch = yield* Task.make({ name: "fetch" }, (n: number) => Effect.as(Effect.yieldNow, n))
        const square = yield* Task.make({ name: "square" }, (n: number) => Effect.succeed(n * n))
        const program = Effect.forEach(
          [1, 2, 3],
          (n) => Effect.zip(Task.run(fetch, n), Task.run(square, n), { concurrent: true }),
          { concurrency: 3 }
        ).pipe(Effect.map((pairs) => pairs.flat()))
        const state = yield* Flow.run(program, { name: "etl" })
        assert.strictEqual(state.type, "COMPLETED")
        assert.strictEqual(state.message, "All states completed.")
        const flowRunId = state.stateDetails.flowRunId!
        assert.match(flowRunId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        assert.deepStrictEqual(names(yield* flowHistory(state)), [
          "Pending:PENDING",
          "Running:RUNNING",
          "Completed:COMPLETED"
        ])
        const log = yield* RunLog.RunLog
        const taskRuns = yield* log.runs({ flowRunId })
        assert.strictEqual(taskRuns.length, 6)
        assert.deepStrictEqual(taskRuns.map((r) => r.name).sort(), [
          "fetch-0",
          "fetch-1",
          "fetch-2",
          "square-0",
          "square-1",
          "square-2"
        ])
        for (const run of taskRuns) {
          for (const t of yield* log.history(run.runId)) {
            assert.strictEqual(t.to.stateDetails.flowRunId, flowRunId)
            assert.strictEqual(t.flowRunId, flowRunId)
          }
        }
        const flows = yield* log.runs({ kind: "flow" })
        assert.strictEqual(flows.length, 1)
        assert.strictEqual(flows[0]!.state, state)
        assert.include(logs, "Info: Finished in state Completed('All states completed.')")
      })
    ))

  it.effect("a returned failed task state makes the flow FAILED with Prefect's aggregate message", () =>
    withSetup(() =>
      Effect.gen(function*() {
        const ok = yield* Task.make({ name: "ok" }, () => Effect.succeed(1))
        const bad = yield* Task.make({ name: "bad" }, () => Effect.fail("nope"))
        const state = yield* Effect.all([Task.run(ok), Task.run(bad), Task.run(ok)]).pipe(Flow.run({ name: "f" }))
        assert.strictEqual(state.type, "FAILED")
        assert.strictEqual(state.message, "1/3 states failed.")
      })
    ))

  it.effect("a plain return value: COMPLETED with a record of it, typed", () =>
    withSetup(() =>
      Effect.gen(function*() {
        const state = yield* Flow.run(Effect.succeed({ rows: 3 }), { name: "f", persistResult: true })
        const value = yield* StateResult.getStateResult(state)
        expectTypeOf(value).toEqualTypeOf<{ rows: number }>()
        assert.deepStrictEqual(value, { rows: 3 })
      })
    ))

  it.effect("a failing program: FAILED `Flow run encountered an exception: …`", () =>
    withSetup((logs) =>
      Effect.gen(function*() {
        const state = yield* Flow.run(Effect.fail(new RangeError("boom")), { name: "f" })
        assert.strictEqual(state.type, "FAILED")
        assert.strictEqual(state.message, "Flow run encountered an exception: RangeError: boom")
        assert.deepStrictEqual(names(yield* flowHistory(state)), [
          "Pending:PENDING",
          "Running:RUNNING",
          "Failed:FAILED"
        ])
        assert.include(logs, "Error: Encountered exception during execution: RangeError: boom")
        assert.include(logs, "Error: Finished in state Failed('Flow run encountered an exception: RangeError: boom')")
      })
    ))

  it.effect("interruption: the flow and its running task end CRASHED, both recorded", () =>
    withSetup(() =>
      Effect.gen(function*() {
        const slow = yield* Task.make({ name: "slow" }, () => Effect.never)
        const fiber = yield* Effect.forkChild(Flow.run(Task.run(slow), { name: "f" }))
        yield* TestClock.adjust("1 second")
        yield* Fiber.interrupt(fiber)
        const log = yield* RunLog.RunLog
        const [flow] = yield* log.runs({ kind: "flow" })
        const [task] = yield* log.runs({ kind: "task" })
        assert.strictEqual(flow!.state.type, "CRASHED")
        assert.strictEqual(flow!.state.message, "Execution was cancelled by the runtime environment.")
        assert.strictEqual(task!.state.type, "CRASHED")
        assert.strictEqual(task!.flowRunId, flow!.runId)
      })
    ))

  it.effect("a signal: CRASHED with Prefect's message", () =>
    withSetup(() =>
      Effect.gen(function*() {
        const state = yield* Flow.run(Effect.fail(new Failure.InterruptSignal()), { name: "f" })
        assert.strictEqual(state.type, "CRASHED")
        assert.strictEqual(state.message, "Execution was aborted by an interrupt signal.")
      })
    ))

  it.effect("timeout: FAILED named TimedOut", () =>
    withSetup(() =>
      Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(Flow.run(Effect.sleep("1 hour"), { name: "f", timeoutSeconds: 2 }))
        yield* TestClock.adjust("3 seconds")
        const state = yield* Fiber.join(fiber)
        assert.strictEqual(state.name, "TimedOut")
        assert.strictEqual(state.type, "FAILED")
        assert.strictEqual(state.message, "Flow run exceeded timeout of 2 second(s)")
      })
    ))

  it.effect("the flow run id is visible inside the program only", () =>
    withSetup(() =>
      Effect.gen(function*() {
        assert.isUndefined(yield* Flow.currentFlowRunId)
        let inside: string | undefined
        const state = yield* Flow.run(
          Effect.forkChild(Effect.map(Flow.currentFlowRunId, (id) => (inside = id))).pipe(Effect.flatMap(Fiber.join)),
          { name: "f" }
        )
        assert.strictEqual(inside, state.stateDetails.flowRunId)
      })
    ))

  it.effect("invalid options: a typed error before anything runs", () =>
    withSetup(() =>
      Effect.gen(function*() {
        let ran = false
        const program = Effect.sync(() => (ran = true))
        const error = yield* Effect.flip(Flow.run(program, { name: "f", timeoutSeconds: -1 }))
        assert.instanceOf(error, Flow.InvalidFlowOptions)
        assert.strictEqual(error.option, "timeoutSeconds")
        assert.strictEqual((yield* Effect.flip(Flow.run(program, { name: "" }))).option, "name")
        assert.isFalse(ran)
      })
    ))
})
