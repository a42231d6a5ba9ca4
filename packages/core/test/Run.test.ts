import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { Failure, Run, State, StateDetails, StateResult } from "@runstate/core"
import * as Aggregate from "@runstate/core/Aggregate"
import * as ResultRecord from "@runstate/core/ResultRecord"
import * as ResultStore from "@runstate/core/ResultStore"
import { captureLogs, throwingProxy } from "./support.ts"

const seed = process.env.FC_SEED === undefined ? Date.now() : Number(process.env.FC_SEED)
console.log(`Run.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)

class ValueError extends Error {
  override name = "ValueError"
}

const traceparentPattern = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/

const recordOf = (state: State.State<unknown>): ResultRecord.ResultRecord<unknown> => {
  assert.isTrue(ResultRecord.isResultRecord(state.data), "the state holds a result record")
  return state.data as ResultRecord.ResultRecord<unknown>
}

describe("fromExit", () => {
  const layer = ResultStore.layerMemory

  it.effect("a success goes through returnValueToState", () =>
    Effect.gen(function*() {
      const state = yield* Run.fromExit(Exit.succeed(42))
      assert.strictEqual(state.type, "COMPLETED")
      assert.strictEqual((state.data as ResultRecord.ResultRecord<unknown>).result, 42)
      const manual = State.Failed({ message: "mine" })
      assert.strictEqual((yield* Run.fromExit(Exit.succeed(manual))).message, "mine")
    }).pipe(Effect.provide(layer)))

  it.effect("typed failures and defects are FAILED with retriable false", () =>
    Effect.gen(function*() {
      const failed = yield* Run.fromExit(Exit.fail(new ValueError("v")))
      assert.strictEqual(failed.type, "FAILED")
      assert.strictEqual(failed.message, "ValueError: v")
      assert.strictEqual(failed.stateDetails.retriable, false)
      const died = yield* Run.fromExit(Exit.die(new TypeError("bug")), {
        message: "Task run encountered an exception"
      })
      assert.strictEqual(died.type, "FAILED")
      assert.strictEqual(died.message, "Task run encountered an exception TypeError: bug")
      const first = yield* Run.fromExit(
        Exit.failCause(Cause.combine(Cause.interrupt(1), Cause.fail("first")))
      )
      assert.strictEqual(first.type, "FAILED")
      assert.strictEqual(first.message, "Error: first")
    }).pipe(Effect.provide(layer)))

  it.effect("a timeout is FAILED named TimedOut", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(Effect.exit(Effect.timeout(Effect.never, "10 seconds")))
      yield* TestClock.adjust("10 seconds")
      const exit = yield* Fiber.join(fiber)
      const state = yield* Run.fromExit(exit)
      assert.strictEqual(state.type, "FAILED")
      assert.strictEqual(state.name, "TimedOut")
      assert.strictEqual(state.message, "TimeoutError: Operation timed out after '10s'")
    }).pipe(Effect.provide(layer)))

  it.effect("interruption only is CRASHED, cancelled by the runtime", () =>
    Effect.gen(function*() {
      const state = yield* Run.fromExit(Exit.failCause(Cause.interrupt(7)))
      assert.strictEqual(state.type, "CRASHED")
      assert.strictEqual(state.message, "Execution was cancelled by the runtime environment.")
    }).pipe(Effect.provide(layer)))

  it.effect("signal and exit errors crash, as failures or as defects", () =>
    Effect.gen(function*() {
      const cases: Array<[Exit.Exit<never, unknown>, string]> = [
        [Exit.fail(new Failure.TerminationSignal({ signal: 15 })), "Execution was aborted by a termination signal."],
        [Exit.die(new Failure.TerminationSignal({ signal: 15 })), "Execution was aborted by a termination signal."],
        [Exit.fail(new Failure.InterruptSignal()), "Execution was aborted by an interrupt signal."],
        [Exit.die(new Failure.InterruptSignal()), "Execution was aborted by an interrupt signal."],
        [Exit.fail(new Failure.ProcessExit({ code: 2 })), "Execution was aborted by a process exit call."],
        [Exit.die(new Failure.ProcessExit({ code: 2 })), "Execution was aborted by a process exit call."]
      ]
      for (const [exit, message] of cases) {
        const state = yield* Run.fromExit(exit)
        assert.strictEqual(state.type, "CRASHED")
        assert.strictEqual(state.message, message)
      }
    }).pipe(Effect.provide(layer)))
})

describe("run", () => {
  const layer = ResultStore.layerMemory

  it.effect("always succeeds with a state, whatever the effect does", () =>
    Effect.gen(function*() {
      const tasks: Array<Effect.Effect<unknown, unknown>> = [
        Effect.succeed(1),
        Effect.fail("boom"),
        Effect.die(new Error("bug")),
        Effect.sync(() => {
          throw new RangeError("thrown in sync")
        }),
        Effect.interrupt,
        Effect.fail(throwingProxy),
        Effect.fail(undefined),
        Effect.failCause(Cause.empty),
        Effect.timeout(Effect.never, "1 second"),
        Effect.fail(new Failure.TerminationSignal({ signal: 15 }))
      ]
      const fiber = yield* Effect.forkChild(Effect.forEach(tasks, (task) => Run.run(task), { concurrency: 4 }))
      yield* TestClock.adjust("1 second")
      const states = yield* Fiber.join(fiber)
      assert.deepStrictEqual(states.map((s) => [s.type, s.name]), [
        ["COMPLETED", "Completed"],
        ["FAILED", "Failed"],
        ["FAILED", "Failed"],
        ["FAILED", "Failed"],
        ["CRASHED", "Crashed"],
        ["FAILED", "Failed"],
        ["FAILED", "Failed"],
        ["FAILED", "Failed"],
        ["FAILED", "TimedOut"],
        ["CRASHED", "Crashed"]
      ])
      assert.strictEqual(states[1]!.message, "Error: boom")
      assert.strictEqual(states[3]!.message, "RangeError: thrown in sync")
      assert.strictEqual(states[4]!.message, "Execution was cancelled by the runtime environment.")
      assert.strictEqual(states[6]!.message, "Error: undefined")
      assert.strictEqual(states[9]!.message, "Execution was aborted by a termination signal.")

      const aggregate = yield* Aggregate.returnValueToState(states)
      assert.strictEqual(aggregate.type, "FAILED")
      assert.strictEqual(aggregate.message, "9/10 states failed.")
    }).pipe(Effect.provide(layer)))

  it.effect("stamps the traceparent of the caller's span, or null without one", () =>
    Effect.gen(function*() {
      const inTask = Effect.gen(function*() {
        const span = yield* Effect.currentSpan
        const prefix = `00-${span.traceId}-${span.spanId}-`
        const states = [
          yield* Run.run(Effect.fail(new Error("x"))),
          yield* Run.run(Effect.succeed("ok")),
          yield* Run.run(Effect.interrupt)
        ]
        return { prefix, states }
      }).pipe(Effect.withSpan("task"))
      const { prefix, states } = yield* inTask
      assert.deepStrictEqual(states.map((s) => s.type), ["FAILED", "COMPLETED", "CRASHED"])
      for (const state of states) {
        assert.match(state.stateDetails.traceparent ?? "", traceparentPattern)
        assert.isTrue(state.stateDetails.traceparent?.startsWith(prefix), state.type)
      }
      // No active span: no traceparent (run opens no span of its own).
      for (const effect of [Effect.fail(new Error("x")), Effect.succeed("ok"), Effect.interrupt]) {
        const state = yield* Run.run(effect)
        assert.isNull(state.stateDetails.traceparent, state.type)
      }
    }).pipe(Effect.provide(layer)))

  it.effect("opens a span of its own when given `span`", () =>
    Effect.gen(function*() {
      let name = ""
      let spanId = ""
      let traceId = ""
      const state = yield* Run.run(
        Effect.gen(function*() {
          const span = yield* Effect.currentSpan
          name = span.name
          spanId = span.spanId
          traceId = span.traceId
          return 1
        }),
        { span: "engine.task" }
      )
      assert.strictEqual(name, "engine.task")
      assert.isTrue(state.stateDetails.traceparent?.startsWith(`00-${traceId}-${spanId}-`))
      const parentTrace = yield* Effect.gen(function*() {
        const parent = yield* Effect.currentSpan
        const child = yield* Run.run(Effect.die(new Error("bug")), { span: "engine.task" })
        return { parent, child }
      }).pipe(Effect.withSpan("flow"))
      const traceparent = parentTrace.child.stateDetails.traceparent ?? ""
      assert.isTrue(traceparent.startsWith(`00-${parentTrace.parent.traceId}-`), "same trace as the caller")
      assert.isFalse(traceparent.includes(parentTrace.parent.spanId), "the run's own span")
    }).pipe(Effect.provide(layer)))

  it.effect("writeResult persists the failure's record", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      const state = yield* Run.run(Effect.fail({ code: 3 }), { writeResult: true, message: "Run failed:" })
      assert.strictEqual(state.message, "Run failed: Error: {\"code\":3}")
      const record = state.data as ResultRecord.ResultRecord<unknown>
      assert.isTrue(record.persisted)
      assert.isTrue(yield* store.exists(record.metadata.storageKey ?? ""))
    }).pipe(Effect.provide(layer)))

  it.effect("an outside interruption interrupts the effect and still builds the CRASHED state", () =>
    Effect.gen(function*() {
      const seen: Array<State.State<unknown>> = []
      let finalized = false
      const fiber = yield* Effect.forkChild(
        Run.run(
          Effect.never.pipe(Effect.ensuring(Effect.sync(() => {
            finalized = true
          }))),
          { onState: (state) => Effect.sync(() => seen.push(state)) }
        )
      )
      yield* Effect.yieldNow
      const exit = yield* Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber)))
      assert.isTrue(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))
      assert.isTrue(finalized)
      assert.strictEqual(seen.length, 1)
      assert.strictEqual(seen[0]!.type, "CRASHED")
      assert.strictEqual(seen[0]!.message, "Execution was cancelled by the runtime environment.")
    }).pipe(Effect.provide(layer)))

  it.effect("a failing onState hook is logged and does not fail the run", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const state = yield* Run.run(Effect.succeed(1), { onState: () => Effect.fail("hook broke") })
      assert.strictEqual(state.type, "COMPLETED")
      assert.strictEqual(logs.messages.length, 1)
      assert.match(logs.messages[0]!, /onState failed: Error: hook broke/)
    }).pipe(Effect.provide(Layer.merge(layer, logs.layer)))
  })

  it("every failure value gives a FAILED state with formatException's message (property)", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true }), (u) => {
        const state = Effect.runSync(Run.run(Effect.fail(u)).pipe(Effect.provide(layer)))
        return state.type === "FAILED" && state.message === Failure.formatException(u)
      }),
      { seed, numRuns: 100 }
    )
  })
})

describe("Run — dual forms", () => {
  const layer = ResultStore.layerMemory

  it.effect("run is data-first and data-last: effect.pipe(Run.run({ key }))", () =>
    Effect.gen(function*() {
      const piped = yield* Effect.succeed(42).pipe(Run.run({ key: "answer" }))
      assert.strictEqual(piped.type, "COMPLETED")
      assert.strictEqual(recordOf(piped).metadata.storageKey, "answer")
      assert.strictEqual(recordOf(piped).result, 42)
      const bare = yield* Effect.succeed(1).pipe(Run.run())
      assert.strictEqual(recordOf(bare).result, 1)
      const first = yield* Run.run(Effect.succeed(2), { key: "two" })
      assert.strictEqual(recordOf(first).metadata.storageKey, "two")
    }).pipe(Effect.provide(layer)))

  it.effect("fromExit is data-first and data-last: exit.pipe(Run.fromExit({ key }))", () =>
    Effect.gen(function*() {
      const piped = yield* Exit.succeed("x").pipe(Run.fromExit({ key: "k" }))
      assert.strictEqual(recordOf(piped).metadata.storageKey, "k")
      const failed = yield* Exit.fail(new ValueError("v")).pipe(Run.fromExit())
      assert.strictEqual(failed.message, "ValueError: v")
    }).pipe(Effect.provide(layer)))

  it("the deprecated Failure.run and Failure.fromExit are Run's", () => {
    assert.strictEqual(Failure.run, Run.run)
    assert.strictEqual(Failure.fromExit, Run.fromExit)
  })
})

describe("Run — key applies to successes only", () => {
  it.effect("a failure's record gets a fresh random key, not `key`", () =>
    Effect.gen(function*() {
      const failed = yield* Run.run(Effect.fail(new ValueError("v")), { key: "mine" })
      assert.strictEqual(failed.type, "FAILED")
      const key = recordOf(failed).metadata.storageKey
      assert.notStrictEqual(key, "mine")
      assert.match(key ?? "", /^[0-9a-f]{32}$/)
      const succeeded = yield* Run.run(Effect.succeed(1), { key: "mine" })
      assert.strictEqual(recordOf(succeeded).metadata.storageKey, "mine")
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})

describe("Run — a failure with no error value", () => {
  it.effect("run and fromExit of Effect.fail(undefined | null) still end FAILED", () =>
    Effect.gen(function*() {
      for (const [value, text] of [[undefined, "Error: undefined"], [null, "Error: null"]] as const) {
        const viaRun = yield* Run.run(Effect.fail(value))
        assert.strictEqual(viaRun.type, "FAILED")
        assert.strictEqual(viaRun.message, text)
        assert.strictEqual(viaRun.stateDetails.retriable, false)
        const viaExit = yield* Run.fromExit(Exit.fail(value))
        assert.strictEqual(viaExit.type, "FAILED")
        assert.strictEqual(viaExit.message, text)
        const died = yield* Run.run(Effect.die(value))
        assert.strictEqual(died.type, "FAILED")
        assert.strictEqual(died.message, text)
      }
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})

describe("Run — typed run states", () => {
  const layer = ResultStore.layerMemory

  it.effect("getStateResult of a run's state succeeds with the effect's value, no casts", () =>
    Effect.gen(function*() {
      const state = yield* Run.run(Effect.succeed({ id: 7, name: "seven" }))
      const value = yield* StateResult.getStateResult(state)
      assert.deepStrictEqual(value, { id: 7, name: "seven" })
      assert.strictEqual(value.name, "seven")
      const piped = yield* state.pipe(StateResult.getStateResult())
      assert.strictEqual(piped.id, 7)
      const flat = yield* Run.run(Effect.succeed(3)).pipe(Effect.flatMap(StateResult.getStateResult()))
      assert.strictEqual(flat + 1, 4)
    }).pipe(Effect.provide(layer)))

  it.effect("a run returning states keeps the aggregation; its result is the returned collection", () =>
    Effect.gen(function*() {
      const states = [State.Completed(), State.Failed()] as const
      const state = yield* Run.run(Effect.succeed(states))
      assert.strictEqual(state.type, "FAILED")
      assert.strictEqual(state.message, "1/2 states failed.")
      const back = yield* StateResult.getStateResult(state, { raiseOnFailure: false })
      assert.strictEqual(back, states)
      const allDone = yield* Run.run(Effect.succeed([State.Completed(), State.Completed()]))
      const list = yield* StateResult.getStateResult(allDone)
      assert.strictEqual(list.length, 2)
    }).pipe(Effect.provide(layer)))

  it("types: run of Effect<A, E, R> is a RunState<A, E> whose result is A", () => {
    class Boom extends Error {
      readonly _tag = "Boom"
    }
    const effect = Effect.succeed(1) as Effect.Effect<number, Boom, never>
    const ran = Run.run(effect)
    expectTypeOf(ran).toEqualTypeOf<Effect.Effect<Run.RunState<number, Boom>, never, ResultStore.ResultStore>>()
    expectTypeOf(effect.pipe(Run.run({ key: "k" }))).toEqualTypeOf<
      Effect.Effect<Run.RunState<number, Boom>, never, ResultStore.ResultStore>
    >()
    expectTypeOf(Run.fromExit(Exit.succeed("s"))).toEqualTypeOf<
      Effect.Effect<Run.RunState<string, never>, never, ResultStore.ResultStore>
    >()
    expectTypeOf(Exit.fail(new Boom()).pipe(Run.fromExit())).toEqualTypeOf<
      Effect.Effect<Run.RunState<never, Boom>, never, ResultStore.ResultStore>
    >()
    expectTypeOf<Run.ErrorOf<Run.RunState<number, Boom>>>().toEqualTypeOf<Boom>()

    const state = Effect.runSync(Effect.provide(ran, ResultStore.layerMemory))
    expectTypeOf(state).toEqualTypeOf<Run.RunState<number, Boom>>()
    expectTypeOf(StateResult.getStateResult(state)).toEqualTypeOf<
      Effect.Effect<number, StateResult.GetStateResultError, ResultStore.ResultStore>
    >()
    expectTypeOf(state.pipe(StateResult.getStateResult())).toEqualTypeOf<
      Effect.Effect<number, StateResult.GetStateResultError, ResultStore.ResultStore>
    >()
    // Without raising, a failed run's data (the error, a defect or its record) is a possible value.
    expectTypeOf(StateResult.getStateResult(state, { raiseOnFailure: false })).toEqualTypeOf<
      Effect.Effect<unknown, StateResult.GetStateResultError, ResultStore.ResultStore>
    >()

    // Requirements of the effect and of onState are kept.
    class Dep extends Context.Service<Dep, { readonly n: number }>()("Dep") {}
    class Hook extends Context.Service<Hook, { readonly n: number }>()("Hook") {}
    expectTypeOf(Run.run(Effect.as(Effect.service(Dep), 1), { onState: () => Effect.service(Hook) })).toEqualTypeOf<
      Effect.Effect<Run.RunState<number, never>, never, Dep | Hook | ResultStore.ResultStore>
    >()
  })

  it("types: returned states and collections of states are typed as aggregates", () => {
    const list = [State.Completed(), State.Failed()]
    const ran = {} as Run.RunState<typeof list>
    expectTypeOf(ran).toExtend<State.State<unknown>>()
    expectTypeOf<StateResult.ResultOf<typeof ran>>().toEqualTypeOf<typeof list>()
    type Kept = Aggregate.ReturnState<State.Running<number>>
    expectTypeOf<Kept>().toEqualTypeOf<
      State.Running<ResultRecord.ResultRecord<number>> | Aggregate.Aggregated<State.Running<number>>
    >()
    // A generator is drained into an array.
    function* numbers() {
      yield 1
    }
    expectTypeOf<StateResult.ResultOf<Run.RunState<Generator<number>>>>().toEqualTypeOf<Array<number>>()
    // A returned record is kept.
    expectTypeOf<StateResult.ResultOf<Run.RunState<ResultRecord.ResultRecord<string>>>>().toEqualTypeOf<string>()
    expectTypeOf(Aggregate.returnValueToState(numbers())).toEqualTypeOf<
      Effect.Effect<State.Completed<ResultRecord.ResultRecord<Array<number>>>, never, ResultStore.ResultStore>
    >()
    // A type that may hold states without saying so gives any state, read back as unknown.
    expectTypeOf<Run.RunState<unknown>>().toEqualTypeOf<
      State.State<unknown> | Run.RunFailed<never> | Run.RunCrashed<never>
    >()
    expectTypeOf<StateResult.ResultOf<Run.RunState<object>>>().toEqualTypeOf<unknown>()
    expectTypeOf<StateResult.ResultOf<Run.RunState<Array<unknown>>>>().toEqualTypeOf<unknown>()
    expectTypeOf<StateResult.ResultOf<Run.RunState<Array<number>>>>().toEqualTypeOf<Array<number>>()
    expectTypeOf<StateResult.ResultOf<Run.RunState<number | string>>>().toEqualTypeOf<number | string>()
    // States that always fail to read back add nothing; a failed state read without raising gives its data.
    expectTypeOf<StateResult.ResultOf<State.Failed<number>>>().toEqualTypeOf<never>()
    expectTypeOf<StateResult.ResultOf<State.Failed<number>, false>>().toEqualTypeOf<number>()
    expectTypeOf<StateResult.ResultOf<State.Running<number>>>().toEqualTypeOf<never>()
    expectTypeOf<StateResult.ResultOf<State.Completed<null>>>().toEqualTypeOf<never>()
    expectTypeOf<StateResult.ResultOf<State.State<unknown>>>().toEqualTypeOf<unknown>()
    // nested: true may aggregate plain data.
    expectTypeOf(Run.run(Effect.succeed({ a: 1 }), { nested: true })).toEqualTypeOf<
      Effect.Effect<Run.RunState<{ a: number }, never, true>, never, ResultStore.ResultStore>
    >()
  })

  it("types: State.update, State.freshCopy and StateDetails.update are dual", () => {
    const completed = State.Completed({ data: 1 })
    expectTypeOf(completed.pipe(State.update({ name: "Cached" }))).toEqualTypeOf<State.Completed<number>>()
    expectTypeOf(completed.pipe(State.update({ data: "s" }))).toEqualTypeOf<State.Completed<string>>()
    expectTypeOf(State.update(completed, { data: true })).toEqualTypeOf<State.Completed<boolean>>()
    expectTypeOf(completed.pipe(State.freshCopy())).toEqualTypeOf<State.Completed<number>>()
    expectTypeOf(State.freshCopy(completed, { data: [1] })).toEqualTypeOf<State.Completed<Array<number>>>()
    expectTypeOf(StateDetails.update({ retriable: true })).toEqualTypeOf<
      (self: StateDetails.StateDetails) => StateDetails.StateDetails
    >()
  })
})

describe("Run — data-last combinators behave as their data-first forms", () => {
  it("State.update and State.freshCopy in pipe", () => {
    const a = State.Completed({ data: 1, message: "m" })
    const b = a.pipe(State.update({ name: "Cached" }))
    assert.strictEqual(b.name, "Cached")
    assert.strictEqual(b.data, 1)
    assert.strictEqual(b.id, a.id)
    const c = a.pipe(State.freshCopy({ data: 2 }))
    assert.strictEqual(c.data, 2)
    assert.notStrictEqual(c.id, a.id)
    assert.isNotNull(c.created)
    const d = a.pipe(State.freshCopy())
    assert.strictEqual(d.data, 1)
  })

  it("StateDetails.update data-last", () => {
    const details = StateDetails.update({ retriable: true })(StateDetails.empty)
    assert.strictEqual(details.retriable, true)
    assert.strictEqual(StateDetails.update(details, { retriable: true }), details)
  })

  it.effect("Aggregate.returnValueToState() is the data-last form", () =>
    Effect.gen(function*() {
      const state = yield* Effect.succeed(5).pipe(Effect.flatMap(Aggregate.returnValueToState()))
      assert.strictEqual(recordOf(state).result, 5)
      // A value shaped like options is still a value in the data-first form.
      const options = { key: "not-options" }
      const kept = yield* Aggregate.returnValueToState(options)
      assert.strictEqual(recordOf(kept).result, options)
      assert.notStrictEqual(recordOf(kept).metadata.storageKey, "not-options")
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})
