import { assert, describe, it } from "@effect/vitest"
import { Cause, DateTime, Effect, Exit, Layer, Option } from "effect"
import { Aggregate, ResultRecord, ResultStore, State, StateDetails, StateType } from "@runstate/core"
import { aggregateExamples, captureLogs, failingStore } from "./support.ts"

const warning =
  "Warn: Encountered an error while persisting result: disk full Execution will continue, but the result has not been persisted"

const recordOf = (state: State.State<unknown>): ResultRecord.ResultRecord<unknown> => {
  assert.isTrue(ResultRecord.isResultRecord(state.data), "data is a result record")
  return state.data as ResultRecord.ResultRecord<unknown>
}

const run = (value: unknown, options?: Aggregate.ReturnValueOptions) =>
  Aggregate.returnValueToState(value, options).pipe(Effect.provide(ResultStore.layerMemory))

const isEmptyDetails = (details: StateDetails.StateDetails): boolean =>
  details === StateDetails.empty ||
  Object.entries(details).every(([k, v]) => v === (StateDetails.empty as unknown as Record<string, unknown>)[k])

const taskDetails = { taskRunId: "0190f1e2-0000-7000-8000-000000000001" }
const flowDetails = { flowRunId: "0190f1e2-0000-7000-8000-000000000002" }

describe("Aggregate.isStateIterable", () => {
  it("is true for non-empty arrays and Sets of states, array subclasses included", () => {
    class States extends Array<State.State<unknown>> {}
    const sub = new States()
    sub.push(State.Failed())
    assert.isTrue(Aggregate.isStateIterable([State.Completed()]))
    assert.isTrue(Aggregate.isStateIterable([State.Completed(), State.Late(), State.Crashed()]))
    assert.isTrue(Aggregate.isStateIterable(new Set([State.Completed(), State.Failed()])))
    assert.isTrue(Aggregate.isStateIterable(Object.freeze([State.Running()])))
    assert.isTrue(Aggregate.isStateIterable(sub))
  })

  it("is false for empty collections, Maps, objects, strings, single states and mixtures", () => {
    const s = State.Completed()
    const values: ReadonlyArray<unknown> = [
      [],
      new Set(),
      new Map([[s, s]]),
      { a: s },
      { 0: s, length: 1 },
      "COMPLETED",
      s,
      [s, 1],
      [s, null],
      [s, undefined],
      [[s]],
      new Set([s, "x"]),
      null,
      undefined,
      0
    ]
    for (const u of values) assert.isFalse(Aggregate.isStateIterable(u), String(u))
  })

  it("is false for an array with holes: a hole is not a state", () => {
    const holey = new Array<State.State<unknown>>(3)
    holey[0] = State.Completed()
    holey[2] = State.Completed()
    assert.isFalse(Aggregate.isStateIterable(holey))
    assert.isFalse(Aggregate.isStateIterable(new Array(2)))
  })

  it("is false for a quoted array of states; unquote gives the array back", () => {
    const states = [State.Failed()]
    const quoted = Aggregate.quote(states)
    assert.isFalse(Aggregate.isStateIterable(quoted))
    assert.isTrue(Aggregate.isQuote(quoted))
    assert.isFalse(Aggregate.isQuote(states))
    assert.strictEqual(quoted._tag, "Quote")
    assert.strictEqual(Aggregate.unquote(quoted), states)
    assert.strictEqual(quoted.pipe(Aggregate.unquote), states)
    assert.deepStrictEqual(Aggregate.quote(1).toJSON(), { _id: "Quote", value: 1 })
    assert.include(String(Aggregate.quote(1)), "Quote")
  })
})

describe("returnValueToState — the store", () => {
  it("run without the ResultStore its type requires, it dies with a clear message instead of crashing", () => {
    const untyped = Aggregate.returnValueToState(1) as Effect.Effect<unknown, never, never>
    const exit = Effect.runSyncExit(untyped)
    assert.isTrue(Exit.isFailure(exit))
    assert.match(String(Cause.squash((exit as Exit.Failure<unknown, never>).cause)), /needs a ResultStore/)
  })
})

describe("returnValueToState — A: a state built by hand", () => {
  it.effect("keeps type, name, message, details and timestamp, as a new state holding a record of its data", () =>
    Effect.gen(function*() {
      const original = State.Running({ message: "still going", data: 42 })
      const state = yield* Aggregate.returnValueToState(original)
      assert.notStrictEqual<unknown>(state, original)
      assert.strictEqual(original.data, 42, "the original state is not mutated")
      assert.strictEqual(state.type, "RUNNING")
      assert.strictEqual(state.name, "Running")
      assert.strictEqual(state.message, "still going")
      assert.strictEqual(state.id, original.id)
      assert.strictEqual(state.stateDetails, original.stateDetails)
      assert.isTrue(DateTime.Equivalence(state.timestamp, original.timestamp))
      const record = recordOf(state)
      assert.strictEqual(record.result, 42)
      assert.isFalse(record.persisted)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("keeps named sub-states and every type, even non-final ones", () =>
    Effect.gen(function*() {
      for (const original of [State.Late(), State.Suspended(), State.Retrying(), State.Cancelling()]) {
        const state = yield* Aggregate.returnValueToState(original)
        assert.strictEqual(state.type, original.type)
        assert.strictEqual(state.name, original.name)
      }
      const failed = yield* Aggregate.returnValueToState(State.Failed({ message: "boom" }))
      assert.strictEqual(failed.type, "FAILED")
      assert.strictEqual(failed.message, "boom")
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("null data becomes a record whose result is null", () =>
    Effect.gen(function*() {
      const state = yield* Aggregate.returnValueToState(State.Completed())
      assert.isNull(recordOf(state).result)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a state whose data is already a record or metadata is returned as the very same object", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      const record = yield* store.createResultRecord("x")
      const withRecord = State.Completed({ data: record })
      assert.strictEqual(yield* Aggregate.returnValueToState(withRecord, { writeResult: true }), withRecord)
      assert.isFalse(yield* store.exists(record.metadata.storageKey!), "not persisted again")
      const withMetadata = State.Failed({ data: record.metadata })
      assert.strictEqual(yield* Aggregate.returnValueToState(withMetadata), withMetadata)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("uses key and expiration, and persists when writeResult", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      const expiration = DateTime.makeUnsafe("2030-01-01T00:00:00Z")
      const state = yield* Aggregate.returnValueToState(State.Completed({ data: "v" }), {
        key: "my-key",
        expiration,
        writeResult: true
      })
      const record = recordOf(state)
      assert.strictEqual(record.metadata.storageKey, "my-key")
      assert.isTrue(DateTime.Equivalence(record.metadata.expiration!, expiration))
      assert.isTrue(record.persisted)
      assert.strictEqual((yield* store.read("my-key")).result, "v")
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a failed write logs Prefect's warning and still returns the state", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const state = yield* Aggregate.returnValueToState(State.Completed({ data: 1 }), { writeResult: true })
      assert.strictEqual(state.type, "COMPLETED")
      assert.isFalse(recordOf(state).persisted)
      assert.deepStrictEqual(logs.messages, [warning])
    }).pipe(Effect.provide(Layer.merge(failingStore, logs.layer)))
  })
})

describe("returnValueToState — B: aggregates", () => {
  const cases = aggregateExamples
  for (const [name, make, type, message] of cases) {
    it.effect(`${name} → ${type} "${message}", a plain state holding a record of the list`, () =>
      Effect.gen(function*() {
        const states = make()
        const state = yield* Aggregate.returnValueToState(states)
        assert.strictEqual(state.type, type)
        assert.strictEqual(state.message, message)
        assert.strictEqual(state.name, StateType.defaultName(type))
        assert.isTrue(isEmptyDetails(state.stateDetails))
        assert.strictEqual(recordOf(state).result, states)
      }).pipe(Effect.provide(ResultStore.layerMemory)))
  }

  it.effect("a state of a task run is a group of one; the record holds that state", () =>
    Effect.gen(function*() {
      const inner = State.Completed({ data: 1, stateDetails: taskDetails })
      const state = yield* Aggregate.returnValueToState(inner)
      assert.strictEqual(state.type, "COMPLETED")
      assert.strictEqual(state.message, "All states completed.")
      assert.strictEqual(recordOf(state).result, inner)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a FAILED state of a flow run aggregates to FAILED 1/1", () =>
    Effect.gen(function*() {
      const state = yield* Aggregate.returnValueToState(State.Failed({ stateDetails: flowDetails }))
      assert.strictEqual(state.type, "FAILED")
      assert.strictEqual(state.message, "1/1 states failed.")
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a Set of states aggregates like an array", () =>
    Effect.gen(function*() {
      const set = new Set([State.Completed(), State.Suspended()])
      const state = yield* Aggregate.returnValueToState(set)
      assert.strictEqual(state.type, "PAUSED")
      assert.strictEqual(state.message, "1/2 states paused.")
      assert.strictEqual(recordOf(state).result, set)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("the aggregate state has no traceparent, even inside a span, and its time comes from Clock", () =>
    Effect.gen(function*() {
      const state = yield* Aggregate.returnValueToState([State.Completed()]).pipe(Effect.withSpan("flow"))
      assert.isNull(state.stateDetails.traceparent)
      assert.strictEqual(state.timestamp.epochMilliseconds, 0, "TestClock starts at 0")
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("uses key and expiration and persists the record when writeResult", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      const state = yield* Aggregate.returnValueToState([State.Completed({ data: 1 })], {
        key: "agg",
        writeResult: true
      })
      assert.isTrue(recordOf(state).persisted)
      assert.strictEqual(recordOf(state).metadata.storageKey, "agg")
      assert.isTrue(yield* store.exists("agg"))
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a failed write of an aggregate logs Prefect's warning and still returns it", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const state = yield* Aggregate.returnValueToState([State.Failed()], { writeResult: true })
      assert.strictEqual(state.type, "FAILED")
      assert.isFalse(recordOf(state).persisted)
      assert.deepStrictEqual(logs.messages, [warning])
    }).pipe(Effect.provide(Layer.merge(failingStore, logs.layer)))
  })

  it.effect("aggregates 10,000,000 states without overflowing the stack", () =>
    Effect.gen(function*() {
      const n = 10_000_000
      const states = new Array<State.State<unknown>>(n).fill(State.Completed())
      states[n >> 1] = State.Cancelled()
      const state = yield* Aggregate.returnValueToState(states)
      assert.strictEqual(state.type, "CANCELLED")
      assert.strictEqual(state.message, `1/${n} states cancelled.`)
    }).pipe(Effect.provide(ResultStore.layerMemory)), 60_000)
})

describe("returnValueToState — C: generators and other one-shot iterators", () => {
  it.effect("a generator of states is drained into an array and is plain data, not an aggregate", () =>
    Effect.gen(function*() {
      const a = State.Failed()
      const b = State.Cancelled()
      function* gen() {
        yield a
        yield b
      }
      const state = yield* Aggregate.returnValueToState(gen())
      assert.strictEqual(state.type, "COMPLETED")
      assert.isNull(state.message)
      const result = recordOf(state).result as Array<unknown>
      assert.isTrue(Array.isArray(result))
      assert.strictEqual(result.length, 2)
      assert.strictEqual(result[0], a)
      assert.strictEqual(result[1], b)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a generator of values and a Map iterator become arrays", () =>
    Effect.gen(function*() {
      function* numbers() {
        yield 1
        yield 2
        yield 3
      }
      assert.deepStrictEqual(recordOf(yield* Aggregate.returnValueToState(numbers())).result, [1, 2, 3])
      const map = new Map([["a", 1], ["b", 2]])
      assert.deepStrictEqual(recordOf(yield* Aggregate.returnValueToState(map.values())).result, [1, 2])
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("reusable iterables (Option, Map, Set of values, strings) are data as they are", () =>
    Effect.gen(function*() {
      const some = Option.some(5)
      assert.strictEqual(recordOf(yield* Aggregate.returnValueToState(some)).result, some)
      const map = new Map([["a", 1]])
      assert.strictEqual(recordOf(yield* Aggregate.returnValueToState(map)).result, map)
      assert.strictEqual(recordOf(yield* Aggregate.returnValueToState("abc")).result, "abc")
      const bytes = new Uint8Array([1, 2])
      assert.strictEqual(recordOf(yield* Aggregate.returnValueToState(bytes)).result, bytes)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("with nested: true, the states of a drained generator are aggregated", () =>
    Effect.gen(function*() {
      function* gen() {
        yield State.Completed()
        yield State.Failed()
      }
      const state = yield* Aggregate.returnValueToState(gen(), { nested: true })
      assert.strictEqual(state.type, "FAILED")
      assert.strictEqual(state.message, "1/2 states failed.")
      assert.strictEqual((recordOf(state).result as Array<unknown>).length, 2)
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})

describe("returnValueToState — D: result records", () => {
  it.effect("a record becomes Completed with that very record, not persisted even with writeResult", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      const record = yield* store.createResultRecord({ a: 1 })
      const state = yield* Aggregate.returnValueToState(record, { writeResult: true })
      assert.strictEqual(state.type, "COMPLETED")
      assert.strictEqual(state.data, record)
      assert.isFalse(yield* store.exists(record.metadata.storageKey!))
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("bare metadata is plain data: wrapped in a new record", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      const record = yield* store.createResultRecord(1)
      const state = yield* Aggregate.returnValueToState(record.metadata)
      assert.notStrictEqual<unknown>(state.data, record.metadata)
      assert.strictEqual(recordOf(state).result, record.metadata)
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})

describe("returnValueToState — E: plain data", () => {
  it.effect("any value becomes Completed with a new record of it; time from Clock", () =>
    Effect.gen(function*() {
      for (const value of [42, "x", { a: [1, 2] }, null, true]) {
        const state = yield* Aggregate.returnValueToState(value)
        assert.strictEqual(state.type, "COMPLETED")
        assert.strictEqual(state.name, "Completed")
        assert.isNull(state.message)
        assert.strictEqual(recordOf(state).result, value)
        assert.isFalse(recordOf(state).persisted)
        assert.strictEqual(state.timestamp.epochMilliseconds, 0)
      }
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("empty collections, mixtures, holes, Maps of states and quoted lists are plain data", () =>
    Effect.gen(function*() {
      const s = State.Failed()
      const holey = new Array<State.State<unknown>>(2)
      holey[1] = s
      const values: ReadonlyArray<unknown> = [
        [],
        new Set(),
        [s, 1],
        [s, undefined],
        holey,
        new Map([[s, s]]),
        { s },
        [[s]],
        Aggregate.quote([s])
      ]
      for (const value of values) {
        const state = yield* Aggregate.returnValueToState(value)
        assert.strictEqual(state.type, "COMPLETED", String(value))
        assert.strictEqual(recordOf(state).result, value, "the record holds the value itself")
      }
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("the Completed state carries the caller's current span's traceparent, or null", () =>
    Effect.gen(function*() {
      const { span, state } = yield* Effect.gen(function*() {
        const span = yield* Effect.currentSpan
        const state = yield* Aggregate.returnValueToState(1)
        return { span, state }
      }).pipe(Effect.withSpan("task"))
      assert.match(state.stateDetails.traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
      assert.isTrue(state.stateDetails.traceparent?.startsWith(`00-${span.traceId}-${span.spanId}-`))
      const record = Aggregate.returnValueToState(state.data).pipe(Effect.withSpan("task"))
      const passedThrough = yield* record
      assert.strictEqual(passedThrough.data, state.data)
      assert.match(passedThrough.stateDetails.traceparent ?? "", /^00-/)
      assert.isNull((yield* Aggregate.returnValueToState(1)).stateDetails.traceparent)
      assert.isNull((yield* Aggregate.returnValueToState(state.data)).stateDetails.traceparent)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("persists when writeResult, readable at its key", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      const state = yield* Aggregate.returnValueToState({ ok: true }, { key: "plain", writeResult: true })
      assert.isTrue(recordOf(state).persisted)
      assert.deepStrictEqual((yield* store.read("plain")).result, { ok: true })
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a failed write logs Prefect's warning and still returns the state", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const state = yield* Aggregate.returnValueToState("v", { writeResult: true })
      assert.strictEqual(state.type, "COMPLETED")
      assert.strictEqual(recordOf(state).result, "v")
      assert.deepStrictEqual(logs.messages, [warning])
    }).pipe(Effect.provide(Layer.merge(failingStore, logs.layer)))
  })
})

describe("returnValueToState — nested: true (Prefect issue 23137)", () => {
  it.effect("aggregates states inside plain objects and arrays; the record holds the original value", () =>
    Effect.gen(function*() {
      const value = { a: State.Completed(), b: [State.Failed(), { c: State.Running() }], d: 1 }
      const state = yield* run(value, { nested: true })
      assert.strictEqual(state.type, "FAILED")
      assert.strictEqual(state.message, "1/3 states failed.")
      assert.strictEqual(recordOf(state).result, value)
      const plain = yield* run(value)
      assert.strictEqual(plain.type, "COMPLETED", "off by default")
    }))

  it.effect("finds states in Sets and in Map keys and values, in document order", () =>
    Effect.gen(function*() {
      const value = [new Set([State.Paused()]), new Map([[State.Cancelling(), State.Completed()]])]
      const state = yield* run(value, { nested: true })
      assert.strictEqual(state.type, "PAUSED")
      assert.strictEqual(state.message, "1/3 states paused.")
    }))

  it.effect("a mixture of states and other values aggregates the states only", () =>
    Effect.gen(function*() {
      const state = yield* run([State.Completed(), 1, State.Crashed(), "x", undefined], { nested: true })
      assert.strictEqual(state.type, "FAILED")
      assert.strictEqual(state.message, "1/2 states failed.")
    }))

  it.effect("without nested states it is plain data (E)", () =>
    Effect.gen(function*() {
      const value = { a: [1, { b: 2 }], c: new Set([3]) }
      const state = yield* run(value, { nested: true })
      assert.strictEqual(state.type, "COMPLETED")
      assert.isNull(state.message)
      assert.strictEqual(recordOf(state).result, value)
    }))

  it.effect("does not look inside states, quoted values, class instances or records", () =>
    Effect.gen(function*() {
      class Box {
        readonly inner = State.Failed()
      }
      const value = [
        State.Completed({ data: [State.Failed()] }),
        Aggregate.quote([State.Cancelled()]),
        new Box()
      ]
      const state = yield* run(value, { nested: true })
      assert.strictEqual(state.type, "COMPLETED")
      assert.strictEqual(state.message, "All states completed.")
    }))

  it.effect("terminates on cyclic data, walking a shared container once", () =>
    Effect.gen(function*() {
      const cyclic: Record<string, unknown> = { s: State.Failed() }
      cyclic["self"] = cyclic
      cyclic["list"] = [cyclic, [cyclic]]
      const state = yield* run(cyclic, { nested: true })
      assert.strictEqual(state.type, "FAILED")
      assert.strictEqual(state.message, "1/1 states failed.")
    }))

  it.effect("is stack-safe for 100,000 levels of nesting", () =>
    Effect.gen(function*() {
      let value: unknown = [State.Cancelled()]
      for (let i = 0; i < 100_000; i++) value = i % 2 === 0 ? [value] : { v: value }
      const state = yield* run(value, { nested: true })
      assert.strictEqual(state.type, "CANCELLED")
      assert.strictEqual(state.message, "1/1 states cancelled.")
    }))

  it.effect("collects 10,000,000 (shared) states nested in an object", () =>
    Effect.gen(function*() {
      const n = 10_000_000
      const states = new Array<unknown>(n).fill(State.Completed())
      states[n - 1] = State.Suspended()
      const state = yield* run({ results: states, note: "x" }, { nested: true })
      assert.strictEqual(state.type, "PAUSED")
      assert.strictEqual(state.message, `1/${n} states paused.`)
    }), 60_000)
})
