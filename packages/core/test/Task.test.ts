import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { Data, Effect, Fiber, Layer, Random, Schedule, Schema } from "effect"
import { KeyValueStore } from "effect/persistence"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { Failure, ResultRecord, ResultStore, RunError, RunLog, State, StateResult, Task } from "@runstate/core"
import { seed } from "./arbitraries.ts"
import { captureLogs } from "./support.ts"

console.log(`Task.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)

class ValueError extends Error {
  override name = "ValueError"
}

class Upstream extends Schema.TaggedError<Upstream>()("Upstream", {
  status: Schema.Number,
  message: Schema.String
}) {}

class Plain extends Data.TaggedError("Plain")<{ readonly message: string }> {}

/** A run's history as `name:TYPE` strings. */
const names = (history: ReadonlyArray<RunLog.Transition>) => history.map((t) => `${t.to.name}:${t.to.type}`)

const historyOf = (state: State.State<unknown>) =>
  Effect.flatMap(Effect.service(RunLog.RunLog), (log) => log.history(state.stateDetails.taskRunId!))

/** The memory store, a memory history and a log capture. */
const setup = () => {
  const logs = captureLogs()
  return { logs, layer: Layer.mergeAll(ResultStore.layerMemory, RunLog.layerMemory, logs.layer) }
}

/** Runs `effect` with a fresh setup; returns what it gives and the log lines. */
const withSetup = <A, E>(
  f: (logs: Array<string>) => Effect.Effect<A, E, ResultStore.ResultStore | RunLog.RunLog>
) => {
  const { logs, layer } = setup()
  return Effect.provide(f(logs.messages), layer)
}

/** A body failing `failures` times with ValueError('boom') before returning "ok"; counts its calls. */
const flaky = (failures: number) => {
  let calls = 0
  const body = () =>
    Effect.suspend(() => {
      calls++
      return calls <= failures ? Effect.fail(new ValueError("boom")) : Effect.succeed("ok")
    })
  return { body, calls: () => calls }
}

describe("Task", () => {
  describe("lifecycle", () => {
    it.effect("success: Pending → Running → Completed, ids, strictly increasing timestamps, run count, typed result", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          const double = yield* Task.make({ name: "double" }, (n: number) => Effect.succeed(n * 2))
          const state = yield* Task.run(double, 21)
          const value = yield* StateResult.getStateResult(state)
          expectTypeOf(value).toEqualTypeOf<number>()
          assert.strictEqual(value, 42)
          const history = yield* historyOf(state)
          assert.deepStrictEqual(names(history), ["Pending:PENDING", "Running:RUNNING", "Completed:COMPLETED"])
          const id = state.stateDetails.taskRunId
          assert.match(id!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
          for (const t of history) {
            assert.strictEqual(t.runId, id)
            assert.strictEqual(t.to.stateDetails.taskRunId, id)
            assert.strictEqual(t.kind, "task")
            assert.strictEqual(t.flowRunId, undefined)
          }
          // TestClock stands still: each state is nudged past the previous one.
          const ms = history.map((t) => t.to.timestamp.epochMilliseconds)
          assert.deepStrictEqual(ms, [0, 1, 2])
          assert.deepStrictEqual(history.map((t) => t.runCount), [0, 1, 1])
          assert.strictEqual(history[0]!.from, undefined)
          assert.strictEqual(history[2]!.from, history[1]!.to)
          assert.strictEqual(history[2]!.to, state)
          assert.isTrue(history[0]!.name.startsWith("double-"))
          assert.deepStrictEqual(logs, ["Info: Finished in state Completed()"])
        })
      ))

    it.effect("raises without retries: Failed with Prefect's message, retriable false, the error's record; log lines", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          const state = yield* Effect.fail(new ValueError("boom")).pipe(Task.task({ name: "t", persistResult: true }))
          assert.strictEqual(state.type, "FAILED")
          assert.strictEqual(state.message, "Task run encountered an exception ValueError: boom")
          assert.isFalse(state.stateDetails.retriable)
          assert.isTrue(ResultRecord.isResultRecord(state.data))
          const record = state.data as ResultRecord.ResultRecord<unknown>
          assert.isTrue(record.persisted, "the exhausted failure's record is written")
          const store = yield* ResultStore.ResultStore
          assert.isTrue(yield* store.exists(record.metadata.storageKey!))
          assert.deepStrictEqual(names(yield* historyOf(state)), [
            "Pending:PENDING",
            "Running:RUNNING",
            "Failed:FAILED"
          ])
          assert.deepStrictEqual(logs, [
            "Error: Task run failed with exception: ValueError('boom')",
            "Error: Finished in state Failed('Task run encountered an exception ValueError: boom')"
          ])
          const error = yield* Effect.flip(StateResult.getStateResult(state))
          assert.strictEqual((error as Error).message, "boom")
        })
      ))

    it.effect("retries=2 without a delay: Running → Retrying → Retrying → Failed; retried attempts write nothing", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          const kv = { writes: 0 }
          const { body, calls } = flaky(5)
          const t = yield* Task.make({ name: "t", retries: 2, persistResult: true }, body)
          const state = yield* Task.run(t).pipe(
            Effect.provideServiceEffect(
              ResultStore.ResultStore,
              Effect.map(Effect.service(ResultStore.ResultStore), (store) => ({
                ...store,
                persistResultRecord: (record) => {
                  kv.writes++
                  return store.persistResultRecord(record)
                }
              }))
            )
          )
          assert.strictEqual(calls(), 3)
          const history = yield* historyOf(state)
          assert.deepStrictEqual(names(history), [
            "Pending:PENDING",
            "Running:RUNNING",
            "Retrying:RUNNING",
            "Retrying:RUNNING",
            "Failed:FAILED"
          ])
          assert.deepStrictEqual(history.map((t) => t.runCount), [0, 1, 2, 3, 3])
          assert.strictEqual(kv.writes, 1, "one record: the final failure's")
          assert.deepStrictEqual(logs, [
            "Info: Task run failed with exception: ValueError('boom') - Retry 1/2 will start immediately",
            "Info: Task run failed with exception: ValueError('boom') - Retry 2/2 will start immediately",
            "Error: Task run failed with exception: ValueError('boom') - Retries are exhausted",
            "Error: Finished in state Failed('Task run encountered an exception ValueError: boom')"
          ])
        })
      ))

    it.effect("retries=2 with 0.2 s: AwaitingRetry with scheduledTime = its timestamp + 0.2 s, then Retrying", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          const { body } = flaky(5)
          const t = yield* Task.make({ name: "t", retries: 2, retryDelaySeconds: 0.2 }, body)
          const fiber = yield* Effect.forkChild(Task.run(t))
          yield* TestClock.adjust("1 second")
          const state = yield* Fiber.join(fiber)
          const history = yield* historyOf(state)
          assert.deepStrictEqual(names(history), [
            "Pending:PENDING",
            "Running:RUNNING",
            "AwaitingRetry:SCHEDULED",
            "Retrying:RUNNING",
            "AwaitingRetry:SCHEDULED",
            "Retrying:RUNNING",
            "Failed:FAILED"
          ])
          for (const t of history.filter((t) => t.to.name === "AwaitingRetry")) {
            const scheduled = t.to.stateDetails.scheduledTime!
            assert.strictEqual(scheduled.epochMilliseconds - t.to.timestamp.epochMilliseconds, 200)
          }
          // The Retrying state comes when the wait is over.
          const retrying = history.find((t) => t.to.name === "Retrying")!
          assert.isAtLeast(retrying.to.timestamp.epochMilliseconds, 200)
          assert.include(
            logs,
            "Info: Task run failed with exception: ValueError('boom') - Retry 1/2 will start 0.2 second(s) from now"
          )
        })
      ))

    it.effect("a delay list repeats its last value: [0.1, 0.2] with retries=3 waits 0.1, 0.2, 0.2", () =>
      withSetup(() =>
        Effect.gen(function*() {
          const { body } = flaky(10)
          const t = yield* Task.make({ name: "t", retries: 3, retryDelaySeconds: [0.1, 0.2] }, body)
          const fiber = yield* Effect.forkChild(Task.run(t))
          yield* TestClock.adjust("1 second")
          const history = yield* historyOf(yield* Fiber.join(fiber))
          const waits = history.filter((t) => t.to.name === "AwaitingRetry").map((t) =>
            t.to.stateDetails.scheduledTime!.epochMilliseconds - t.to.timestamp.epochMilliseconds
          )
          assert.deepStrictEqual(waits, [100, 200, 200])
        })
      ))

    it.effect("a retry condition that says no: called once, Running → Failed, no retry line", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          const seen: Array<Task.TaskFailure<ValueError>> = []
          const t = yield* Task.make<void, never, ValueError>({
            name: "t",
            retries: 3,
            retryCondition: (failure) => {
              seen.push(failure)
              return false
            }
          }, () => Effect.fail(new ValueError("boom")))
          const state = yield* Task.run(t)
          assert.strictEqual(seen.length, 1)
          assert.strictEqual(seen[0]!._tag, "Fail")
          assert.strictEqual(seen[0]!.runCount, 1)
          assert.deepStrictEqual(names(yield* historyOf(state)), [
            "Pending:PENDING",
            "Running:RUNNING",
            "Failed:FAILED"
          ])
          assert.deepStrictEqual(logs, [
            "Error: Finished in state Failed('Task run encountered an exception ValueError: boom')"
          ])
        })
      ))

    it.effect("a returned FAILED state retries; exhausted, the final state is the returned one with a record of null", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          const t = yield* Task.make({ name: "t", retries: 1 }, () => Effect.succeed(State.Failed({ message: "nope" })))
          const state = yield* Task.run(t)
          assert.deepStrictEqual(names(yield* historyOf(state)), [
            "Pending:PENDING",
            "Running:RUNNING",
            "Retrying:RUNNING",
            "Failed:FAILED"
          ])
          assert.strictEqual(state.message, "nope")
          assert.isTrue(ResultRecord.isResultRecord(state.data))
          assert.strictEqual((state.data as ResultRecord.ResultRecord<unknown>).result, null)
          assert.strictEqual(
            logs[0],
            "Info: Task run failed with state: Failed(message='nope', type=FAILED, result=None) - Retry 1/1 will start immediately"
          )
          assert.strictEqual(
            logs[1],
            "Error: Task run failed with state: Failed(message='nope', type=FAILED, result=None) - Retries are exhausted"
          )
        })
      ))

    it.effect("inside a span, every state carries its W3C traceparent; outside one, null", () =>
      withSetup(() =>
        Effect.gen(function*() {
          const traced = yield* Effect.succeed(1).pipe(Task.task({ name: "t" }), Effect.withSpan("pipeline"))
          const history = yield* historyOf(traced)
          const traceparent = history[0]!.to.stateDetails.traceparent
          assert.match(traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
          for (const t of history) assert.strictEqual(t.to.stateDetails.traceparent, traceparent)
          const plain = yield* Effect.succeed(1).pipe(Task.task({ name: "t" }))
          for (const t of yield* historyOf(plain)) assert.isNull(t.to.stateDetails.traceparent)
        })
      ))

    it.effect("a returned Cancelled state ends the run Cancelled with its message", () =>
      withSetup(() =>
        Effect.gen(function*() {
          const state = yield* Effect.succeed(State.Cancelled({ message: "skipped" })).pipe(Task.task({ name: "t" }))
          assert.deepStrictEqual(names(yield* historyOf(state)), [
            "Pending:PENDING",
            "Running:RUNNING",
            "Cancelled:CANCELLED"
          ])
          assert.strictEqual(state.message, "skipped")
        })
      ))
  })

  describe("timeouts", () => {
    it.effect("timeout 0.1 s: FAILED named TimedOut holding the bare timeout error; Prefect's log lines", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          const t = yield* Task.make({ name: "t", timeoutSeconds: 0.1 }, () => Effect.sleep("10 seconds"))
          const fiber = yield* Effect.forkChild(Task.run(t))
          yield* TestClock.adjust("1 second")
          const state = yield* Fiber.join(fiber)
          assert.strictEqual(state.type, "FAILED")
          assert.strictEqual(state.name, "TimedOut")
          assert.strictEqual(state.message, "Task run exceeded timeout of 0.1 second(s)")
          assert.instanceOf(state.data, Task.TaskRunTimeoutError)
          assert.deepStrictEqual(logs, [
            "Error: Task run failed with exception: TaskRunTimeoutError('Scope timed out after 0.1 second(s).')",
            "Error: Task run exceeded timeout of 0.1 second(s)",
            "Error: Finished in state TimedOut('Task run exceeded timeout of 0.1 second(s)', type=FAILED)"
          ])
        })
      ))

    it.effect("a timed-out attempt is retried first", () =>
      withSetup(() =>
        Effect.gen(function*() {
          const t = yield* Task.make({ name: "t", timeoutSeconds: 0.1, retries: 1 }, () => Effect.sleep("10 seconds"))
          const fiber = yield* Effect.forkChild(Task.run(t))
          yield* TestClock.adjust("1 second")
          const state = yield* Fiber.join(fiber)
          assert.deepStrictEqual(names(yield* historyOf(state)), [
            "Pending:PENDING",
            "Running:RUNNING",
            "Retrying:RUNNING",
            "TimedOut:FAILED"
          ])
        })
      ))
  })

  describe("crashes", () => {
    it.effect("interrupting the running fiber: the run ends CRASHED and is recorded", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          const t = yield* Task.make({ name: "t" }, () => Effect.never)
          const fiber = yield* Effect.forkChild(Task.run(t))
          yield* TestClock.adjust("1 second")
          yield* Fiber.interrupt(fiber)
          const log = yield* RunLog.RunLog
          const [run] = yield* log.runs()
          assert.strictEqual(run!.state.type, "CRASHED")
          assert.strictEqual(run!.state.message, "Execution was cancelled by the runtime environment.")
          assert.deepStrictEqual(names(yield* log.history(run!.runId)), [
            "Pending:PENDING",
            "Running:RUNNING",
            "Crashed:CRASHED"
          ])
          assert.include(logs, "Error: Crash detected! Execution was cancelled by the runtime environment.")
        })
      ))

    it.effect("a termination signal: CRASHED with Prefect's message, never retried", () =>
      withSetup(() =>
        Effect.gen(function*() {
          const state = yield* Effect.fail(new Failure.TerminationSignal({ signal: 15 })).pipe(
            Task.task({ name: "t", retries: 3 })
          )
          assert.strictEqual(state.type, "CRASHED")
          assert.strictEqual(state.message, "Execution was aborted by a termination signal.")
          assert.strictEqual((yield* historyOf(state)).length, 3)
        })
      ))

    it.effect("interrupted while awaiting a retry: CRASHED after AwaitingRetry", () =>
      withSetup(() =>
        Effect.gen(function*() {
          const t = yield* Task.make({ name: "t", retries: 1, retryDelaySeconds: 60 }, () => Effect.fail("boom"))
          const fiber = yield* Effect.forkChild(Task.run(t))
          yield* TestClock.adjust("1 second")
          yield* Fiber.interrupt(fiber)
          const log = yield* RunLog.RunLog
          const [run] = yield* log.runs()
          assert.deepStrictEqual(names(yield* log.history(run!.runId)), [
            "Pending:PENDING",
            "Running:RUNNING",
            "AwaitingRetry:SCHEDULED",
            "Crashed:CRASHED"
          ])
        })
      ))
  })

  describe("retry schedules and jitter", () => {
    it.effect("any Schedule: its delays become AwaitingRetry waits; when it is done, retries are exhausted", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          const { body, calls } = flaky(10)
          const t = yield* Task.make({
            name: "t",
            retrySchedule: Schedule.exponential("1 second").pipe(Schedule.upTo({ times: 2 }))
          }, body)
          const fiber = yield* Effect.forkChild(Task.run(t))
          yield* TestClock.adjust("1 minute")
          const history = yield* historyOf(yield* Fiber.join(fiber))
          assert.strictEqual(calls(), 3)
          const waits = history.filter((t) => t.to.name === "AwaitingRetry").map((t) =>
            t.to.stateDetails.scheduledTime!.epochMilliseconds - t.to.timestamp.epochMilliseconds
          )
          assert.deepStrictEqual(waits, [1000, 2000])
          assert.include(
            logs,
            "Info: Task run failed with exception: ValueError('boom') - Retry 1 will start 1 second(s) from now"
          )
          assert.include(logs, "Error: Task run failed with exception: ValueError('boom') - Retries are exhausted")
        })
      ))

    it.effect("`retries` caps a schedule", () =>
      withSetup(() =>
        Effect.gen(function*() {
          const { body, calls } = flaky(10)
          const t = yield* Task.make({ name: "t", retries: 1, retrySchedule: Schedule.forever }, body)
          yield* Task.run(t)
          assert.strictEqual(calls(), 2)
        })
      ))

    it("law: a jittered delay lies in [0, base × (1 + factor)]", () =>
      fc.assert(
        fc.asyncProperty(
          fc.double({ min: 0.001, max: 100, noNaN: true }),
          fc.double({ min: 0, max: 3, noNaN: true }),
          fc.integer(),
          async (base, factor, randomSeed) => {
            const { layer, logs } = setup()
            const program = Effect.gen(function*() {
              const t = yield* Task.make({
                name: "t",
                retries: 1,
                retryDelaySeconds: base,
                retryJitterFactor: factor
              }, () => Effect.fail("boom"))
              const fiber = yield* Effect.forkChild(Task.run(t))
              yield* TestClock.adjust("10 minutes")
              return yield* historyOf(yield* Fiber.join(fiber))
            })
            const history = await Effect.runPromise(
              program.pipe(Random.withSeed(randomSeed), Effect.provide(layer), Effect.provide(TestClock.layer()))
            )
            const awaiting = history.find((t) => t.to.name === "AwaitingRetry")
            const wait = awaiting === undefined
              ? 0
              : awaiting.to.stateDetails.scheduledTime!.epochMilliseconds - awaiting.to.timestamp.epochMilliseconds
            assert.isAtLeast(wait, 0)
            assert.isAtMost(wait, Math.round(base * (1 + factor) * 1000) + 1)
            assert.strictEqual(logs.messages.length > 0, true)
          }
        ),
        { seed, numRuns: 50 }
      ))
  })

  describe("caching", () => {
    it.effect("a second run is Cached: the body does not run, even if it would fail", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          let calls = 0
          const t = yield* Task.make({ name: "t", cacheKey: "k" }, () =>
            Effect.suspend(() => {
              calls++
              return calls === 1 ? Effect.succeed({ n: 1 }) : Effect.fail(new ValueError("must not run"))
            }))
          const first = yield* Task.run(t)
          const second = yield* Task.run(t)
          assert.strictEqual(calls, 1)
          assert.strictEqual(first.name, "Completed")
          assert.strictEqual(second.type, "COMPLETED")
          assert.strictEqual(second.name, "Cached")
          assert.deepStrictEqual(yield* StateResult.getStateResult(second), { n: 1 })
          assert.deepStrictEqual(names(yield* historyOf(second)), [
            "Pending:PENDING",
            "Running:RUNNING",
            "Cached:COMPLETED"
          ])
          assert.isNull(second.stateDetails.cacheKey, "Prefect does not set cache_key on the state")
          assert.include(logs, "Info: Finished in state Cached(type=COMPLETED)")
        })
      ))

    it.effect("a key function of the input; refreshCache runs and overwrites; the next run is Cached again", () =>
      withSetup(() =>
        Effect.gen(function*() {
          let calls = 0
          const body = (n: number) => Effect.sync(() => n * 10 + ++calls)
          const t = yield* Task.make({ name: "t", cacheKey: (n: number) => `t-${n}` }, body)
          const refresh = yield* Task.make({ name: "t", cacheKey: (n: number) => `t-${n}`, refreshCache: true }, body)
          assert.strictEqual(yield* StateResult.getStateResult(yield* Task.run(t, 1)), 11)
          assert.strictEqual(yield* StateResult.getStateResult(yield* Task.run(t, 2)), 22)
          assert.strictEqual(yield* StateResult.getStateResult(yield* Task.run(t, 1)), 11)
          const refreshed = yield* Task.run(refresh, 1)
          assert.strictEqual(refreshed.name, "Completed")
          assert.strictEqual(yield* StateResult.getStateResult(refreshed), 13)
          const again = yield* Task.run(t, 1)
          assert.strictEqual(again.name, "Cached")
          assert.strictEqual(yield* StateResult.getStateResult(again), 13)
          assert.strictEqual(calls, 3)
        })
      ))

    it.effect("an expired record runs again", () =>
      withSetup(() =>
        Effect.gen(function*() {
          let calls = 0
          const t = yield* Task.make(
            { name: "t", cacheKey: "k", cacheExpiration: "1 minute" },
            () => Effect.sync(() => ++calls)
          )
          assert.strictEqual((yield* Task.run(t)).name, "Completed")
          yield* TestClock.adjust("30 seconds")
          assert.strictEqual((yield* Task.run(t)).name, "Cached")
          yield* TestClock.adjust("31 seconds")
          const third = yield* Task.run(t)
          assert.strictEqual(third.name, "Completed")
          assert.strictEqual(calls, 2)
        })
      ))

    it.effect("across processes: a fresh store over the same storage serves the cache", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        let calls = 0
        const t = yield* Task.make({ name: "t", cacheKey: "shared" }, () => Effect.sync(() => ++calls))
        const storeA = yield* ResultStore.make({ store: kv })
        const storeB = yield* ResultStore.make({ store: kv })
        yield* Effect.provideService(Task.run(t), ResultStore.ResultStore, storeA)
        const state = yield* Effect.provideService(Task.run(t), ResultStore.ResultStore, storeB)
        assert.strictEqual(state.name, "Cached")
        assert.strictEqual(
          yield* Effect.provideService(StateResult.getStateResult(state), ResultStore.ResultStore, storeB),
          1
        )
        assert.strictEqual(calls, 1)
      }).pipe(Effect.provide(KeyValueStore.layerMemory), Effect.provide(setup().logs.layer)))

    it.effect("SERIALIZABLE: with a lock manager, concurrent runs of one key run the body once", () =>
      Effect.gen(function*() {
        const locks = yield* ResultStore.lockManagerMemory
        const locked = yield* ResultStore.make({ store: yield* KeyValueStore.KeyValueStore, lockManager: locks })
        const plain = yield* ResultStore.make({ store: yield* KeyValueStore.KeyValueStore })
        let calls = 0
        const task = (cacheKey: string) =>
          Task.make(
            { name: "t", cacheKey },
            () => Effect.as(Effect.sleep("1 second"), "v").pipe(Effect.tap(() => Effect.sync(() => calls++)))
          )
        const fiveRuns = (store: ResultStore.ResultStoreShape, t: Task.Task<void, string>) =>
          Effect.gen(function*() {
            const fiber = yield* Effect.forkChild(
              Effect.forEach(Array.from({ length: 5 }), () => Task.run(t), { concurrency: "unbounded" }).pipe(
                Effect.provideService(ResultStore.ResultStore, store)
              )
            )
            yield* TestClock.adjust("10 seconds")
            return yield* Fiber.join(fiber)
          })
        const states = yield* fiveRuns(locked, yield* task("once"))
        assert.strictEqual(calls, 1)
        assert.deepStrictEqual(states.map((s) => s.name).sort(), ["Cached", "Cached", "Cached", "Cached", "Completed"])
        assert.isFalse(yield* locked.isLocked("once"), "every lock is released")
        // Without a lock manager (READ_COMMITTED), the same five runs all run.
        calls = 0
        yield* fiveRuns(plain, yield* task("twice"))
        assert.strictEqual(calls, 5)
      }).pipe(Effect.provide(KeyValueStore.layerMemory), Effect.provide(setup().logs.layer)))
  })

  describe("errors that survive the trip", () => {
    it.effect("with an error schema, a fresh store reads back the same class, _tag and fields", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        const writer = yield* ResultStore.make({ store: kv })
        const t = yield* Task.make(
          { name: "t", errorSchema: Upstream, persistResult: true },
          () => Effect.fail(new Upstream({ status: 503, message: "down" }))
        )
        const state = yield* Effect.provideService(Task.run(t), ResultStore.ResultStore, writer)
        assert.strictEqual(state.message, "Task run encountered an exception Upstream: down")
        const metadata = (state.data as unknown as ResultRecord.ResultRecord<unknown>).metadata
        // Another process: a fresh store, and only the metadata the state would carry on the wire.
        const reader = yield* ResultStore.make({ store: kv })
        const wireState = State.Failed({ message: state.message, data: metadata })
        const error = yield* Effect.provideService(Task.getError(t, wireState), ResultStore.ResultStore, reader)
        assert.instanceOf(error, Upstream)
        assert.strictEqual(error._tag, "Upstream")
        assert.strictEqual(error.status, 503)
        assert.strictEqual(error.message, "down")
        // Without a schema, the same error comes back in Prefect's exception shape: a plain Error.
        const u = yield* Task.make({ name: "u", persistResult: true }, () => Effect.fail(new Plain({ message: "x" })))
        const plainState = yield* Effect.provideService(Task.run(u), ResultStore.ResultStore, writer)
        const key = (plainState.data as unknown as ResultRecord.ResultRecord<unknown>).metadata.storageKey!
        const back = (yield* reader.read(key)).result
        assert.notInstanceOf(back, Plain)
        assert.instanceOf(back, Error)
      }).pipe(Effect.provide(KeyValueStore.layerMemory), Effect.provide(setup().logs.layer)))
  })

  describe("bad input", () => {
    it.effect("invalid options are typed errors at construction", () =>
      Effect.gen(function*() {
        const body = () => Effect.void
        const cases: ReadonlyArray<readonly [Task.TaskOptions, string]> = [
          [{ name: "t", retries: -1 }, "retries"],
          [{ name: "t", retries: 1.5 }, "retries"],
          [{ name: "t", retryJitterFactor: -0.1 }, "retryJitterFactor"],
          [{ name: "t", retryDelaySeconds: -1 }, "retryDelaySeconds"],
          [{ name: "t", retryDelaySeconds: [] }, "retryDelaySeconds"],
          [{ name: "t", retryDelaySeconds: [1, Number.NaN] }, "retryDelaySeconds"],
          [{ name: "t", timeoutSeconds: 0 }, "timeoutSeconds"],
          [{ name: "" }, "name"]
        ]
        for (const [options, option] of cases) {
          const error = yield* Effect.flip(Task.make(options, body))
          assert.instanceOf(error, Task.InvalidTaskOptions)
          assert.strictEqual(error.option, option)
        }
        const error = yield* Effect.flip(Task.make({ name: "fetch", retries: -1 }, body))
        assert.strictEqual(
          error.message,
          "Invalid option retries of task \"fetch\": it must be a non-negative integer, got -1."
        )
        const viaPipe = yield* Effect.flip(Effect.void.pipe(Task.task({ name: "t", retryJitterFactor: -1 })))
        assert.strictEqual(viaPipe._tag, "InvalidTaskOptions")
      }).pipe(Effect.provide(ResultStore.layerMemory)))

    it.effect("a retry condition that throws: FAILED with the attempt's error, the throw logged, no retry", () =>
      withSetup((logs) =>
        Effect.gen(function*() {
          let calls = 0
          const t = yield* Task.make({
            name: "t",
            retries: 2,
            retryCondition: () => {
              throw new Error("bad condition")
            }
          }, () => Effect.sync(() => calls++).pipe(Effect.andThen(Effect.fail(new ValueError("boom")))))
          const state = yield* Task.run(t)
          assert.strictEqual(calls, 1)
          assert.strictEqual(state.type, "FAILED")
          assert.strictEqual(state.message, "Task run encountered an exception ValueError: boom")
          assert.include(
            logs,
            "Error: An error was encountered while running the retry condition check for task 't': Error: bad condition"
          )
        })
      ))

    it.effect("a cache-key function that throws: FAILED with a clear message, the body never runs", () =>
      withSetup(() =>
        Effect.gen(function*() {
          let calls = 0
          const t = yield* Task.make({
            name: "t",
            cacheKey: (_: number) => {
              throw new RangeError("no key for you")
            }
          }, (_: number) => Effect.sync(() => calls++))
          const state = yield* Task.run(t, 1)
          assert.strictEqual(calls, 0)
          assert.strictEqual(state.type, "FAILED")
          assert.strictEqual(state.message, "Task run failed to compute its cache key: RangeError: no key for you")
          assert.deepStrictEqual(names(yield* historyOf(state)), [
            "Pending:PENDING",
            "Running:RUNNING",
            "Failed:FAILED"
          ])
        })
      ))

    it.effect("a result storage key: the record is written there; a key function that throws ends the run FAILED", () =>
      withSetup(() =>
        Effect.gen(function*() {
          const t = yield* Task.make(
            { name: "t", resultStorageKey: (n: number) => `out/${n}`, persistResult: true },
            (n: number) => Effect.succeed(n + 1)
          )
          const state = yield* Task.run(t, 1)
          assert.isTrue(State.isCompleted(state))
          if (State.isCompleted(state)) assert.strictEqual(state.data.metadata.storageKey, "out/1")
          const store = yield* ResultStore.ResultStore
          assert.strictEqual((yield* store.read("out/1")).result, 2)
          assert.strictEqual((yield* Task.run(t, 1)).name, "Completed", "a result key never skips a run")
          const bad = yield* Task.make({
            name: "t",
            resultStorageKey: () => {
              throw new Error("no key")
            }
          }, () => Effect.succeed(1))
          const failed = yield* Task.run(bad)
          assert.strictEqual(failed.type, "FAILED")
          assert.strictEqual(failed.message, "Task run failed to compute its result storage key: Error: no key")
        })
      ))

    it.effect("a store that rejects the key outright: the run ends CRASHED, Task.run still succeeds", () =>
      Effect.gen(function*() {
        const store = yield* ResultStore.make({
          store: yield* KeyValueStore.KeyValueStore,
          resolveKey: (key) => Effect.fail(new RunError.InvalidState({ message: `key ${key} is outside the store` }))
        })
        const state = yield* Effect.succeed(1).pipe(
          Task.task({ name: "t", cacheKey: "../escape" }),
          Effect.provideService(ResultStore.ResultStore, store)
        )
        assert.strictEqual(state.type, "CRASHED")
        assert.include(state.message, "key ../escape is outside the store")
        assert.isString(state.stateDetails.taskRunId)
      }).pipe(Effect.provide(KeyValueStore.layerMemory), Effect.provide(setup().logs.layer)))

    it.effect("a failing history layer: the final state is still returned, each failure logged", () =>
      Effect.gen(function*() {
        const logs = captureLogs()
        const failing = Layer.succeed(RunLog.RunLog, {
          record: () => Effect.fail(new RunError.StorageError({ message: "history down", key: "h" })),
          history: () => Effect.succeed([]),
          runs: () => Effect.succeed([])
        })
        const state = yield* Effect.succeed(7).pipe(
          Task.task({ name: "t" }),
          Effect.provide(Layer.mergeAll(ResultStore.layerMemory, failing, logs.layer))
        )
        assert.strictEqual(state.type, "COMPLETED")
        const warnings = logs.messages.filter((m) => m.startsWith("Warn: Failed to record the transition"))
        assert.strictEqual(warnings.length, 3)
        assert.include(warnings[2]!, "to Completed: StorageError: history down")
      }))
  })

  it("law: every sequence is Pending, Running, (AwaitingRetry? Retrying)*, a final state, with strictly increasing timestamps", () =>
    fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: 6 }),
        fc.oneof(fc.constant(undefined), fc.double({ min: 0, max: 5, noNaN: true })),
        async (retries, failures, delay) => {
          const { layer } = setup()
          const { body, calls } = flaky(failures)
          const program = Effect.gen(function*() {
            const t = yield* Task.make({ name: "t", retries, retryDelaySeconds: delay }, body)
            const fiber = yield* Effect.forkChild(Task.run(t))
            yield* TestClock.adjust("1 hour")
            const state = yield* Fiber.join(fiber)
            return { state, history: yield* historyOf(state) }
          })
          const { state, history } = await Effect.runPromise(
            program.pipe(Effect.provide(layer), Effect.provide(TestClock.layer()))
          )
          const text = names(history).join(" ")
          const retry = delay !== undefined && delay > 0
            ? "AwaitingRetry:SCHEDULED Retrying:RUNNING"
            : "Retrying:RUNNING"
          const retried = Math.min(failures, retries)
          const expected = ["Pending:PENDING", "Running:RUNNING", ...Array.from({ length: retried }, () => retry)]
          expected.push(failures > retries ? "Failed:FAILED" : "Completed:COMPLETED")
          assert.strictEqual(text, expected.join(" "))
          assert.strictEqual(calls(), retried + 1)
          for (let i = 1; i < history.length; i++) {
            assert.isAbove(history[i]!.to.timestamp.epochMilliseconds, history[i - 1]!.to.timestamp.epochMilliseconds)
            assert.strictEqual(history[i]!.from, history[i - 1]!.to)
          }
          assert.strictEqual(history[history.length - 1]!.runCount, retried + 1)
          assert.strictEqual(state, history[history.length - 1]!.to)
        }
      ),
      { seed, numRuns: 60 }
    ))
})
