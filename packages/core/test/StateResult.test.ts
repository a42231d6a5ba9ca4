import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { Clock, Duration, Effect, Exit, Fiber, Layer, Logger, References, Schedule } from "effect"
import { KeyValueStore } from "effect/persistence"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { ResultRecord, ResultStore, RunError, Serializer, State, StateResult } from "@runstate/core"

const seed = process.env.FC_SEED === undefined ? Date.now() : Number(process.env.FC_SEED)
console.log(`StateResult.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)

const expectFailure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) assert.fail(`expected a failure, got ${String(exit.value)}`)
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined || error._tag !== "Fail") assert.fail(`expected a typed failure, got ${String(exit.cause)}`)
  return error.error
}

const metadataAt = (storageKey: string | null) => ResultRecord.makeMetadata({ storageKey, serializer: Serializer.json })

/**
 * A memory KeyValueStore whose first `hideFor` reads of each key answer "missing"
 * (a result that lands late), counting reads; provided as the ResultStore with
 * the cache off so every attempt reaches storage.
 */
const lateStore = (hideFor: number) => {
  const map = new Map<string, string | Uint8Array>()
  const reads = { count: 0 }
  const kv = KeyValueStore.make({
    get: (key) =>
      Effect.sync(() => {
        reads.count++
        const v = map.get(key)
        return reads.count <= hideFor || v === undefined
          ? undefined
          : typeof v === "string"
          ? v
          : new TextDecoder().decode(v)
      }),
    getUint8Array: (key) =>
      Effect.sync(() => {
        reads.count++
        const v = map.get(key)
        return reads.count <= hideFor || v === undefined
          ? undefined
          : typeof v === "string"
          ? new TextEncoder().encode(v)
          : v
      }),
    set: (key, value) => Effect.sync(() => void map.set(key, value)),
    remove: (key) => Effect.sync(() => void map.delete(key)),
    clear: Effect.sync(() => map.clear()),
    size: Effect.sync(() => map.size),
    keys: Effect.sync(() => Array.from(map.keys()))
  })
  const layer = ResultStore.layer({ cache: false }).pipe(Layer.provide(Layer.succeed(KeyValueStore.KeyValueStore, kv)))
  return { reads, layer }
}

/** Captures log lines at DEBUG and above. */
const captureLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make((options) => {
    const message = options.message
    lines.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
  })
  const provide = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    self.pipe(Effect.provide(Logger.layer([logger])), Effect.provideService(References.MinimumLogLevel, "Debug"))
  return { lines, provide }
}

/** The waits (ms) a schedule yields for instant attempts, until it gives up. */
const delaysOf = (schedule: Schedule.Schedule<unknown, never>) =>
  Effect.gen(function*() {
    const step = yield* Schedule.toStep(schedule)
    const out: Array<number> = []
    let now = 0
    while (out.length < 1000) {
      const exit = yield* Effect.exit(step(now, undefined as never))
      if (Exit.isFailure(exit)) break
      const ms = Duration.toMillis(exit.value[1])
      out.push(ms)
      now += ms
    }
    return out
  })

const missingText =
  "State data is missing. Typically, this occurs when result persistence is disabled and the state has been retrieved from the API."

describe("getStateResult: states without a result", () => {
  it.effect("a PAUSED state fails with PausedRun carrying the state, whatever raiseOnFailure", () =>
    Effect.gen(function*() {
      const state = State.Paused()
      for (const raiseOnFailure of [true, false]) {
        const error = expectFailure(yield* Effect.exit(StateResult.getStateResult(state, { raiseOnFailure })))
        assert.instanceOf(error, RunError.PausedRun)
        assert.strictEqual(error.message, "Run is paused, its result is not available.")
        assert.strictEqual((error as RunError.PausedRun).state, state)
      }
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a non-final state fails with UnfinishedRun naming its type", () =>
    Effect.gen(function*() {
      const states = [State.Scheduled(), State.Pending(), State.Running(), State.Cancelling()]
      for (const state of states) {
        for (const raiseOnFailure of [true, false]) {
          const error = expectFailure(yield* Effect.exit(StateResult.getStateResult(state, { raiseOnFailure })))
          assert.instanceOf(error, RunError.UnfinishedRun)
          assert.strictEqual(error.message, `Run is in ${state.type} state, its result is not available.`)
        }
      }
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a COMPLETED state without data fails with MissingResult NoData and Prefect's text", () =>
    Effect.gen(function*() {
      const error = expectFailure(yield* Effect.exit(StateResult.getStateResult(State.Completed())))
      assert.instanceOf(error, RunError.MissingResult)
      assert.strictEqual(error.message, missingText)
      assert.strictEqual((error as RunError.MissingResult).reason, "NoData")
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})

describe("getStateResult: failed states", () => {
  it.effect("raise-on-failure fails with the wrapper and the state's message or the default", () =>
    Effect.gen(function*() {
      const cases = [
        [State.Failed({ message: "boom" }), RunError.FailedRun, "boom"],
        [State.Failed(), RunError.FailedRun, "Run failed."],
        [State.Crashed(), RunError.CrashedRun, "Run crashed."],
        [State.Cancelled(), RunError.CancelledRun, "Run cancelled."],
        [State.Cancelled({ message: "" }), RunError.CancelledRun, "Run cancelled."]
      ] as ReadonlyArray<readonly [State.State<unknown>, new(...args: Array<any>) => Error, string]>
      for (const [state, wrapper, message] of cases) {
        const error = expectFailure(yield* Effect.exit(StateResult.getStateResult(state)))
        assert.instanceOf(error, wrapper)
        assert.strictEqual(error.message, message)
      }
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a user Error carried by the state is failed with as is", () =>
    Effect.gen(function*() {
      const cause = new RangeError("out of range")
      const viaData = expectFailure(yield* Effect.exit(StateResult.getStateResult(State.Failed({ data: cause }))))
      assert.strictEqual(viaData, cause)
      const store = yield* ResultStore.ResultStore
      const record = yield* store.createResultRecord(cause)
      const viaRecord = expectFailure(yield* Effect.exit(StateResult.getStateResult(State.Crashed({ data: record }))))
      assert.strictEqual(viaRecord, cause)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("raiseOnFailure: false returns the exception for no data and the data itself otherwise", () =>
    Effect.gen(function*() {
      const noData = yield* StateResult.getStateResult(State.Failed({ message: "m" }), { raiseOnFailure: false })
      assert.instanceOf(noData, RunError.FailedRun)
      assert.strictEqual((noData as Error).message, "m")
      const crashed = yield* StateResult.getStateResult(State.Crashed(), { raiseOnFailure: false })
      assert.instanceOf(crashed, RunError.CrashedRun)
      assert.strictEqual(
        yield* StateResult.getStateResult(State.Failed({ data: "foo" }), { raiseOnFailure: false }),
        "foo"
      )
      const error = new Error("kept")
      const store = yield* ResultStore.ResultStore
      const record = yield* store.createResultRecord(error)
      const fromRecord = yield* StateResult.getStateResult(State.Failed({ data: record }), { raiseOnFailure: false })
      assert.strictEqual(fromRecord, error)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("the exception of a failed state with metadata is read once, without retries", () =>
    Effect.gen(function*() {
      const late = lateStore(1_000)
      const exit = yield* Effect.exit(
        StateResult.getStateResult(State.Failed({ data: metadataAt("k") })).pipe(Effect.provide(late.layer))
      )
      const error = expectFailure(exit)
      assert.instanceOf(error, RunError.MissingResult)
      assert.strictEqual((error as RunError.MissingResult).reason, "NotFound")
      assert.strictEqual(late.reads.count, 1)
    }))

  it.effect("a failed state whose stored result is a string fails with the wrapper holding that string", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      yield* store.write("stored failure", { key: "k" })
      const error = expectFailure(
        yield* Effect.exit(StateResult.getStateResult(State.Failed({ data: metadataAt("k") })))
      )
      assert.instanceOf(error, RunError.FailedRun)
      assert.strictEqual(error.message, "stored failure")
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})

describe("getStateResult: results", () => {
  it.effect("a record's result is returned without I/O; other data as is", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      const record = yield* store.createResultRecord({ a: 1 }, { key: "never-written" })
      assert.deepStrictEqual(yield* StateResult.getStateResult(State.Completed({ data: record })), { a: 1 })
      assert.strictEqual(yield* StateResult.getStateResult(State.Completed({ data: 5 })), 5)
      const value = { x: [1] }
      assert.strictEqual(yield* StateResult.getStateResult(State.Completed({ data: value })), value)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("metadata is read through the ResultStore in context with the metadata's serializer", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      const record = yield* store.persistResultRecord(yield* store.createResultRecord([1, "two"]))
      const result = yield* StateResult.getStateResult(State.Completed({ data: record.metadata }))
      assert.deepStrictEqual(result, [1, "two"])
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it("any JSON value written through the store is what getStateResult reads from its metadata (round-trip law)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const program = Effect.gen(function*() {
          const store = yield* ResultStore.ResultStore
          const record = yield* store.persistResultRecord(yield* store.createResultRecord(value))
          return yield* StateResult.getStateResult(State.Completed({ data: record.metadata }))
        }).pipe(Effect.provide(ResultStore.layerMemoryWith({ cache: false })))
        // exact, -0 included: the json serializer writes it as Python's -0.0 and reads it back
        assert.deepStrictEqual(Effect.runSync(program), value)
      }),
      { seed }
    )
  })
})

describe("getStateResult: retries", () => {
  it.effect("a record that appears after k failed reads is read on attempt k+1, after the first k waits", () =>
    Effect.gen(function*() {
      const delays = yield* delaysOf(StateResult.defaultRetrySchedule)
      for (const k of [0, 1, 3, 10, 31]) {
        const late = lateStore(k)
        const program = Effect.gen(function*() {
          const store = yield* ResultStore.ResultStore
          yield* store.write("late", { key: "k" })
          const start = yield* Clock.currentTimeMillis
          const fiber = yield* Effect.forkChild(
            Effect.zip(
              StateResult.getStateResult(State.Completed({ data: metadataAt("k") })),
              Clock.currentTimeMillis
            )
          )
          yield* TestClock.adjust("5 seconds")
          const [value, end] = yield* Fiber.join(fiber)
          return { value, waited: end - start }
        })
        const { value, waited } = yield* program.pipe(Effect.provide(late.layer))
        assert.strictEqual(value, "late")
        assert.strictEqual(late.reads.count, k + 1, `k = ${k}`)
        assert.strictEqual(waited, delays.slice(0, k).reduce((a, b) => a + b, 0), `k = ${k}`)
      }
    }))

  it.effect("the attempt reading the record happens exactly after the sum of the waits before it", () =>
    Effect.gen(function*() {
      const delays = yield* delaysOf(StateResult.defaultRetrySchedule)
      const k = 5
      const late = lateStore(k)
      const fiber = yield* Effect.forkChild(
        Effect.gen(function*() {
          const store = yield* ResultStore.ResultStore
          yield* store.write("late", { key: "k" })
          return yield* StateResult.getStateResult(State.Completed({ data: metadataAt("k") }))
        }).pipe(Effect.provide(late.layer))
      )
      const wait = delays.slice(0, k).reduce((a, b) => a + b, 0)
      yield* TestClock.adjust(Duration.millis(wait - 1))
      assert.isUndefined(fiber.pollUnsafe(), "not yet read one millisecond early")
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(yield* Fiber.join(fiber), "late")
      assert.strictEqual(late.reads.count, k + 1)
    }))

  it.effect("retryResultFailure: false makes one attempt", () =>
    Effect.gen(function*() {
      const late = lateStore(1)
      const exit = yield* Effect.exit(
        StateResult.getStateResult(State.Completed({ data: metadataAt("k") }), { retryResultFailure: false }).pipe(
          Effect.provide(late.layer)
        )
      )
      assert.instanceOf(expectFailure(exit), RunError.MissingResult)
      assert.strictEqual(late.reads.count, 1)
    }))

  it.effect("giving up reports the last attempt's error after every attempt the schedule allows", () =>
    Effect.gen(function*() {
      for (
        const [schedule, attempts] of [[StateResult.defaultRetrySchedule, 32], [
          StateResult.prefectRetrySchedule,
          10
        ]] as const
      ) {
        let n = 0
        const failing = KeyValueStore.make({
          get: (key) =>
            Effect.fail(new KeyValueStore.KeyValueStoreError({ message: `fault ${++n}`, method: "get", key })),
          getUint8Array: (key) =>
            Effect.fail(new KeyValueStore.KeyValueStoreError({ message: `fault ${++n}`, method: "get", key })),
          set: () => Effect.void,
          remove: () => Effect.void,
          clear: Effect.void,
          size: Effect.succeed(0),
          keys: Effect.succeed([])
        })
        const fiber = yield* Effect.forkChild(Effect.exit(
          StateResult.getStateResult(State.Completed({ data: metadataAt("k") }), { retrySchedule: schedule }).pipe(
            Effect.provide(ResultStore.layer().pipe(Layer.provide(Layer.succeed(KeyValueStore.KeyValueStore, failing))))
          )
        ))
        yield* TestClock.adjust("3 seconds")
        const error = expectFailure(yield* Fiber.join(fiber))
        assert.instanceOf(error, RunError.StorageError)
        assert.strictEqual(n, attempts)
        assert.strictEqual(error.message, `Result storage failed to read key "k": fault ${attempts}`)
      }
    }))

  it.effect("metadata without a storage key fails every attempt with InvalidState, retried like Prefect", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const fiber = yield* Effect.forkChild(Effect.exit(
        logs.provide(
          StateResult.getStateResult(State.Completed({ data: metadataAt(null) }), {
            retrySchedule: StateResult.prefectRetrySchedule
          })
        )
      ))
      yield* TestClock.adjust("3 seconds")
      const error = expectFailure(yield* Fiber.join(fiber))
      assert.instanceOf(error, RunError.InvalidState)
      assert.strictEqual(error.message, "storage_key is required to hydrate a result record from metadata")
      assert.strictEqual(logs.lines.length, 9)
      assert.strictEqual(
        logs.lines[0],
        "Exception InvalidState('storage_key is required to hydrate a result record from metadata') while reading result, retry 1/10 in 0.25s..."
      )
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("each retried failure logs Prefect's DEBUG line with attempt, maximum and delay", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const late = lateStore(3)
      const fiber = yield* Effect.forkChild(logs.provide(
        Effect.gen(function*() {
          const store = yield* ResultStore.ResultStore
          yield* store.write(1, { key: "k" })
          return yield* StateResult.getStateResult(State.Completed({ data: metadataAt("k") }))
        }).pipe(Effect.provide(late.layer))
      ))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), 1)
      const missing = "MissingResult('Result record not found in result storage at key \"k\".')"
      assert.deepStrictEqual(logs.lines, [
        `Exception ${missing} while reading result, retry 1/32 in 0.005s...`,
        `Exception ${missing} while reading result, retry 2/32 in 0.005s...`,
        `Exception ${missing} while reading result, retry 3/32 in 0.005s...`
      ])
    }))

  it.effect("a user schedule's maximum is counted by stepping it", () =>
    Effect.gen(function*() {
      const logs = captureLogs()
      const fiber = yield* Effect.forkChild(Effect.exit(logs.provide(
        StateResult.getStateResult(State.Completed({ data: metadataAt("k") }), {
          retrySchedule: Schedule.spaced("100 millis").pipe(Schedule.upTo({ times: 2 }))
        })
      )))
      yield* TestClock.adjust("1 second")
      assert.instanceOf(expectFailure(yield* Fiber.join(fiber)), RunError.MissingResult)
      assert.strictEqual(logs.lines.length, 2)
      assert.match(logs.lines[1]!, /retry 2\/3 in 0\.1s\.\.\.$/)
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})

describe("retry schedules", () => {
  it.effect("defaultRetrySchedule waits 2.25 s in total like Prefect, starting at 5 ms, each wait ≤ 250 ms", () =>
    Effect.gen(function*() {
      const delays = yield* delaysOf(StateResult.defaultRetrySchedule)
      assert.deepStrictEqual(delays, [
        5,
        5,
        5,
        5,
        5,
        5,
        6,
        7,
        9,
        10,
        12,
        15,
        18,
        21,
        26,
        31,
        37,
        44,
        53,
        64,
        77,
        92,
        110,
        132,
        159,
        191,
        229,
        250,
        250,
        250,
        127
      ])
      assert.strictEqual(delays.reduce((a, b) => a + b, 0), 2250)
    }))

  it.effect("each default wait is at most max(5 ms, a fifth of the time waited so far) (latency law)", () =>
    Effect.gen(function*() {
      const delays = yield* delaysOf(StateResult.defaultRetrySchedule)
      let elapsed = 0
      for (const d of delays) {
        assert.isAtMost(d, Math.max(5, Math.round(elapsed / 5)))
        assert.isAtMost(d, 250)
        elapsed += d
      }
    }))

  it.effect("one retry contract: Prefect's 2.25 s of patience, first retries within 10 ms, 32 attempts", () =>
    Effect.gen(function*() {
      const delays = yield* delaysOf(StateResult.defaultRetrySchedule)
      const total = delays.reduce((a, b) => a + b, 0)
      const attempts = delays.length + 1
      let elapsed = 0
      let withinTen = 0
      for (const d of delays) {
        elapsed += d
        if (elapsed <= 10) withinTen++
      }
      assert.strictEqual(total, 2250)
      assert.isAtLeast(withinTen, 2, "at least two retries start within the first 10 ms")
      assert.strictEqual(attempts, 32)
      // The docs page and the JSDoc state the same figures.
      const root = resolve(import.meta.dirname, "../../..")
      const docs = readFileSync(resolve(root, "docs/results.md"), "utf8")
      const jsdoc = readFileSync(resolve(root, "packages/core/src/StateResult.ts"), "utf8")
      for (const text of [docs, jsdoc]) {
        assert.include(text, "2.25 s")
        assert.include(text, `${attempts} attempts`)
        assert.include(text, "10 ms")
        assert.notInclude(text, "at most 10 attempts")
      }
    }))

  it.effect("prefectRetrySchedule is 9 waits of 250 ms", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* delaysOf(StateResult.prefectRetrySchedule), Array.from({ length: 9 }, () => 250))
    }))
})

describe("getStateException", () => {
  const run = <A, E>(self: Effect.Effect<A, E, ResultStore.ResultStore>) =>
    Effect.exit(Effect.provide(self, ResultStore.layerMemory))

  it.effect("non-failed states are InvalidState with Prefect's repr of the state", () =>
    Effect.gen(function*() {
      const state = State.Completed({ data: "test" })
      const error = expectFailure(yield* run(StateResult.getStateException(state)))
      assert.instanceOf(error, RunError.InvalidState)
      assert.strictEqual(
        error.message,
        "Expected failed or crashed state got Completed(message=None, type=COMPLETED, result='test')."
      )
    }))

  it.effect("maps null, Error, string, nested state and iterables of states", () =>
    Effect.gen(function*() {
      const e = new TypeError("inner")
      const get = (state: State.State<unknown>) =>
        Effect.provide(StateResult.getStateException(state), ResultStore.layerMemory)
      assert.strictEqual(yield* get(State.Failed({ data: e })), e)
      const empty = yield* get(State.Crashed({ data: "" }))
      assert.instanceOf(empty, RunError.CrashedRun)
      assert.strictEqual(empty.message, "")
      const nested = yield* get(State.Failed({ data: State.Cancelled({ message: "inner cancel" }) }))
      assert.instanceOf(nested, RunError.CancelledRun)
      assert.strictEqual(nested.message, "inner cancel")
      const list = yield* get(State.Failed({ data: [State.Completed(), State.Crashed({ data: e }), State.Failed()] }))
      assert.strictEqual(list, e)
      const set = yield* get(State.Failed({ data: new Set([State.Completed(), State.Failed({ message: "s" })]) }))
      assert.strictEqual(set.message, "s")
    }))

  it.effect("a nested COMPLETED state and an iterable without failures are InvalidState", () =>
    Effect.gen(function*() {
      const nested = expectFailure(yield* run(StateResult.getStateException(State.Failed({ data: State.Completed() }))))
      assert.strictEqual(
        nested.message,
        "Expected failed or crashed state got Completed(message=None, type=COMPLETED, result=None)."
      )
      const none = expectFailure(
        yield* run(StateResult.getStateException(State.Failed({ data: [State.Completed(), State.Running()] })))
      )
      assert.instanceOf(none, RunError.InvalidState)
      assert.strictEqual(none.message, "Failed state result was an iterable of states but none were failed.")
    }))

  it.effect("anything else is UnresolvableResult with Prefect's text, two em dashes and a Python type name", () =>
    Effect.gen(function*() {
      class Widget {}
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [2, "2 \u2014\u2014 int"],
        [2.5, "2.5 \u2014\u2014 float"],
        [true, "True \u2014\u2014 bool"],
        [{ a: 1 }, "{'a': 1} \u2014\u2014 dict"],
        [[], "[] \u2014\u2014 list"],
        [[1, State.Failed()], "[1, Failed(message=None, type=FAILED, result=None)] \u2014\u2014 list"],
        [new Set(), "set() \u2014\u2014 set"]
      ]
      for (const [data, text] of cases) {
        const error = expectFailure(yield* run(StateResult.getStateException(State.Failed({ data }))))
        assert.instanceOf(error, RunError.UnresolvableResult)
        assert.strictEqual(
          error.message,
          `Unexpected result for failed state: ${text} cannot be resolved into an exception`
        )
        assert.strictEqual((error as RunError.UnresolvableResult).result, data)
      }
      const widget = expectFailure(yield* run(StateResult.getStateException(State.Failed({ data: new Widget() }))))
      assert.match(widget.message, / \u2014\u2014 Widget cannot be resolved into an exception$/)
    }))

  it.effect("metadata is read from the store once; no key is InvalidState", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      yield* store.write("from storage", { key: "k" })
      const read = yield* StateResult.getStateException(State.Cancelled({ data: metadataAt("k") }))
      assert.instanceOf(read, RunError.CancelledRun)
      assert.strictEqual(read.message, "from storage")
      const error = expectFailure(
        yield* Effect.exit(StateResult.getStateException(State.Failed({ data: metadataAt(null) })))
      )
      assert.instanceOf(error, RunError.InvalidState)
      assert.strictEqual(error.message, "storage_key is required to hydrate a result record from metadata")
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})

describe("raiseStateException", () => {
  it.effect("succeeds for non-failed states and fails with the exception otherwise", () =>
    Effect.gen(function*() {
      for (const state of [State.Completed(), State.Running(), State.Paused()]) {
        assert.isTrue(Exit.isSuccess(yield* Effect.exit(StateResult.raiseStateException(state))))
      }
      const e = new Error("user")
      assert.strictEqual(
        expectFailure(yield* Effect.exit(StateResult.raiseStateException(State.Failed({ data: e })))),
        e
      )
      const crashed = expectFailure(yield* Effect.exit(StateResult.raiseStateException(State.Crashed())))
      assert.instanceOf(crashed, RunError.CrashedRun)
      assert.strictEqual(crashed.message, "Run crashed.")
      const bad = expectFailure(yield* Effect.exit(StateResult.raiseStateException(State.Failed({ data: 1 }))))
      assert.instanceOf(bad, RunError.UnresolvableResult)
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})
