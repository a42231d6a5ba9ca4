import { assert, describe, expect, it, vi } from "@effect/vitest"
import { DateTime, Effect, Equal, Hash } from "effect"
import * as fc from "fast-check"
import { RunError, State, StateDetails, StateType } from "@runstate/core"

const seed = process.env.FC_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FC_SEED)
console.log(`State.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)

const t0 = DateTime.makeUnsafe("2024-01-01T12:00:00Z")

const expectInvalid = (f: () => unknown, message: string) => {
  try {
    f()
  } catch (error) {
    assert.instanceOf(error, RunError.InvalidState)
    assert.strictEqual((error as RunError.InvalidState)._tag, "InvalidState")
    assert.strictEqual((error as RunError.InvalidState).message, message)
    return
  }
  assert.fail(`expected InvalidState: ${message}`)
}

describe("StateType", () => {
  it("lists the nine types in Prefect's declared order", () => {
    assert.deepStrictEqual(StateType.all, [
      "SCHEDULED",
      "PENDING",
      "RUNNING",
      "COMPLETED",
      "FAILED",
      "CANCELLED",
      "CRASHED",
      "PAUSED",
      "CANCELLING"
    ])
  })

  it("has exactly COMPLETED, FAILED, CANCELLED, CRASHED as terminal types", () => {
    assert.deepStrictEqual(StateType.all.filter(StateType.isTerminal), ["COMPLETED", "FAILED", "CANCELLED", "CRASHED"])
    assert.deepStrictEqual([...StateType.terminal].sort(), ["CANCELLED", "COMPLETED", "CRASHED", "FAILED"])
  })

  it("recognises state types and nothing else", () => {
    assert.isTrue(StateType.isStateType("PAUSED"))
    assert.isFalse(StateType.isStateType("paused"))
    assert.isFalse(StateType.isStateType(1))
  })
})

describe("StateDetails", () => {
  it("empty has Prefect's defaults in Prefect's field order", () => {
    assert.deepStrictEqual(Object.keys(StateDetails.empty), [...StateDetails.fields])
    assert.strictEqual(StateDetails.fields.length, 18)
    assert.strictEqual(StateDetails.empty.untrackableResult, false)
    assert.strictEqual(StateDetails.empty.pauseReschedule, false)
    assert.strictEqual(StateDetails.empty.deferred, null)
  })

  it("make returns the shared empty value when nothing is set, and ignores unknown keys", () => {
    assert.strictEqual(StateDetails.make(), StateDetails.empty)
    assert.strictEqual(StateDetails.make({}), StateDetails.empty)
    assert.strictEqual(StateDetails.make({ flowRunId: undefined, untrackableResult: false }), StateDetails.empty)
    const details = StateDetails.make({ cacheKey: "k", extra: 1 } as StateDetails.Input)
    assert.strictEqual(details.cacheKey, "k")
    assert.notProperty(details, "extra")
  })

  it("update returns a new value and never touches the input", () => {
    const a = StateDetails.make({ cacheKey: "a" })
    const b = StateDetails.update(a, { cacheKey: "b" })
    assert.strictEqual(a.cacheKey, "a")
    assert.strictEqual(b.cacheKey, "b")
    assert.strictEqual(StateDetails.update(a, { cacheKey: "a" }), a)
    assert.isTrue(Object.isFrozen(b))
  })
})

describe("State constructors", () => {
  const cases: ReadonlyArray<readonly [string, () => State.State, StateType.StateType, string]> = [
    ["Scheduled", () => State.Scheduled(), "SCHEDULED", "Scheduled"],
    ["Pending", () => State.Pending(), "PENDING", "Pending"],
    ["Running", () => State.Running(), "RUNNING", "Running"],
    ["Completed", () => State.Completed(), "COMPLETED", "Completed"],
    ["Failed", () => State.Failed(), "FAILED", "Failed"],
    ["Crashed", () => State.Crashed(), "CRASHED", "Crashed"],
    ["Cancelling", () => State.Cancelling(), "CANCELLING", "Cancelling"],
    ["Cancelled", () => State.Cancelled(), "CANCELLED", "Cancelled"],
    ["Paused", () => State.Paused(), "PAUSED", "Paused"],
    ["Suspended", () => State.Suspended(), "PAUSED", "Suspended"],
    ["AwaitingRetry", () => State.AwaitingRetry(), "SCHEDULED", "AwaitingRetry"],
    ["AwaitingConcurrencySlot", () => State.AwaitingConcurrencySlot(), "SCHEDULED", "AwaitingConcurrencySlot"],
    ["Late", () => State.Late(), "SCHEDULED", "Late"],
    ["Retrying", () => State.Retrying(), "RUNNING", "Retrying"],
    ["Submitting", () => State.Submitting(), "PENDING", "Submitting"],
    ["InfrastructurePending", () => State.InfrastructurePending(), "PENDING", "InfrastructurePending"]
  ]

  for (const [label, build, type, name] of cases) {
    it(`${label} builds a ${type} state named ${name}`, () => {
      const state = build()
      assert.strictEqual(state.type, type)
      assert.strictEqual(state.name, name)
      assert.strictEqual(state._tag, StateType.defaultName(type))
      assert.isTrue(State.isState(state))
      assert.strictEqual(state.message, null)
      assert.strictEqual(state.created, null)
      assert.strictEqual(state.updated, null)
    })
  }

  it("keeps message, data, name and timestamp", () => {
    const state = State.Completed({ message: "ok", data: { a: 1 }, name: "Cached", timestamp: t0 })
    assert.strictEqual(state.message, "ok")
    assert.deepStrictEqual(state.data, { a: 1 })
    assert.strictEqual(state.name, "Cached")
    assert.isTrue(Equal.equals(state.timestamp, t0))
  })

  it("defaults data to null and the timestamp to the wall clock", () => {
    const before = Date.now()
    const state = State.Running()
    const after = Date.now()
    assert.strictEqual(state.data, null)
    const ms = DateTime.toEpochMillis(state.timestamp)
    assert.isTrue(ms >= before && ms <= after)
  })

  it("shares one empty StateDetails between states built without details", () => {
    assert.strictEqual(State.Completed().stateDetails, StateDetails.empty)
    assert.strictEqual(State.Failed({ data: 1 }).stateDetails, StateDetails.empty)
  })

  it("accepts details as a plain mapping", () => {
    const state = State.Completed({ stateDetails: { taskRunId: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70" } })
    assert.strictEqual(state.stateDetails.taskRunId, "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70")
    assert.strictEqual(state.stateDetails.flowRunId, null)
  })

  it("turns Prefect 2.x unpersisted data into null", () => {
    assert.strictEqual(State.Completed({ data: { type: "unpersisted" } }).data, null)
    assert.deepStrictEqual(State.Completed({ data: { type: "other" } }).data, { type: "other" })
  })

  it("assigns a time-ordered UUIDv7 id, stable across reads, unless one is given", () => {
    const state = State.Completed({ timestamp: t0 })
    assert.match(state.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.strictEqual(state.id, state.id)
    assert.strictEqual(
      state.id.slice(0, 8) + state.id.slice(9, 13),
      DateTime.toEpochMillis(t0).toString(16).padStart(12, "0")
    )
    assert.strictEqual(State.Completed({ id: "given" }).id, "given")
    assert.notStrictEqual(State.Completed({ timestamp: t0 }).id, state.id)
  })
})

describe("Scheduled rules", () => {
  it("uses the given scheduled time", () => {
    const state = State.Scheduled({ scheduledTime: t0 })
    assert.isTrue(Equal.equals(state.stateDetails.scheduledTime, t0))
  })

  it("defaults the scheduled time to now", () => {
    const before = Date.now()
    const state = State.Late()
    const scheduled = state.stateDetails.scheduledTime
    assert.isNotNull(scheduled)
    assert.isTrue(DateTime.toEpochMillis(scheduled!) >= before)
  })

  it("overwrites a scheduled time given in the details when no argument is passed (Prefect's quirk)", () => {
    const before = Date.now()
    const state = State.Scheduled({ stateDetails: { scheduledTime: t0 } })
    assert.isTrue(DateTime.toEpochMillis(state.stateDetails.scheduledTime!) >= before)
  })

  it("rejects a scheduled time given twice with Prefect's text", () => {
    const details = StateDetails.make({ scheduledTime: t0 })
    expectInvalid(
      () => State.AwaitingRetry({ scheduledTime: t0, stateDetails: details }),
      "An extra scheduled_time was provided in state_details"
    )
  })

  it("makes the conflict a type error where it can", () => {
    const conflicting = () =>
      // @ts-expect-error scheduledTime both as an argument and in plain details
      State.Scheduled({ scheduledTime: t0, stateDetails: { scheduledTime: t0 } })
    expectInvalid(conflicting, "An extra scheduled_time was provided in state_details")
  })

  it("fixes the name of named sub-states at the type level", () => {
    // @ts-expect-error Late supplies its own name
    const late = State.Late({ name: "Other" })
    assert.strictEqual(late.name, "Late")
    // @ts-expect-error Retrying supplies its own name
    const retrying = State.Retrying({ name: "Other" })
    assert.strictEqual(retrying.name, "Retrying")
  })
})

describe("Paused rules", () => {
  it("leaves pauseTimeout null without timeouts and overwrites pauseKey / pauseReschedule", () => {
    const state = State.Paused({ stateDetails: { pauseKey: "old", pauseReschedule: true } })
    assert.strictEqual(state.stateDetails.pauseTimeout, null)
    assert.strictEqual(state.stateDetails.pauseKey, null)
    assert.strictEqual(state.stateDetails.pauseReschedule, false)
  })

  it("sets pauseTimeout from an expiration time", () => {
    const state = State.Paused({ pauseExpirationTime: t0, pauseKey: "k", reschedule: true })
    assert.isTrue(Equal.equals(state.stateDetails.pauseTimeout, t0))
    assert.strictEqual(state.stateDetails.pauseKey, "k")
    assert.strictEqual(state.stateDetails.pauseReschedule, true)
  })

  it("sets pauseTimeout from timeoutSeconds (0 allowed)", () => {
    const before = Date.now()
    const state = State.Paused({ timeoutSeconds: 0 })
    const after = Date.now()
    const ms = DateTime.toEpochMillis(state.stateDetails.pauseTimeout!)
    assert.isTrue(ms >= before && ms <= after)
    const later = State.Paused({ timeoutSeconds: 60 })
    assert.isTrue(DateTime.toEpochMillis(later.stateDetails.pauseTimeout!) >= before + 60_000)
  })

  it("Suspended is Paused with reschedule", () => {
    const state = State.Suspended({ timeoutSeconds: 5 })
    assert.strictEqual(state.type, "PAUSED")
    assert.strictEqual(state.name, "Suspended")
    assert.strictEqual(state.stateDetails.pauseReschedule, true)
  })

  it("rejects a pause timeout in the details first, with Prefect's text", () => {
    expectInvalid(
      () => State.Paused({ stateDetails: StateDetails.make({ pauseTimeout: t0 }) }),
      "An extra pause timeout was provided in state_details"
    )
  })

  it("rejects both timeouts with Prefect's text, and makes it a type error", () => {
    expectInvalid(
      // @ts-expect-error both timeouts
      () => State.Paused({ timeoutSeconds: 1, pauseExpirationTime: t0 }),
      "Cannot supply both a pause_expiration_time and timeout_seconds"
    )
  })
})

describe("State.make", () => {
  it("builds any type with the default name; an empty name is kept", () => {
    for (const type of StateType.all) {
      const state = State.make({ type })
      assert.strictEqual(state.type, type)
      assert.strictEqual(state.name, StateType.defaultName(type))
    }
    assert.strictEqual(State.make({ type: "COMPLETED", name: "" }).name, "")
  })

  it("gives a SCHEDULED state a scheduled time", () => {
    assert.isNotNull(State.make({ type: "SCHEDULED" }).stateDetails.scheduledTime)
    const kept = State.make({ type: "SCHEDULED", stateDetails: { scheduledTime: t0 } })
    assert.isTrue(Equal.equals(kept.stateDetails.scheduledTime, t0))
  })

  it("rejects an unknown type with a tagged error", () => {
    expectInvalid(() => State.make({ type: "FOO" as StateType.StateType }), "'FOO' is not a valid StateType")
    expectInvalid(
      () => State.make({ type: undefined as unknown as StateType.StateType }),
      "None is not a valid StateType"
    )
  })

  it("rejects invalid and non-UTC timestamps with tagged errors", () => {
    expectInvalid(
      () => State.Completed({ timestamp: new Date("nope") }),
      "Invalid timestamp: the Date is invalid (NaN)."
    )
    const zoned = DateTime.makeZonedUnsafe(0, { timeZone: "Europe/Paris" })
    expect(() => State.Completed({ timestamp: zoned as unknown as DateTime.Utc })).toThrow(
      /Invalid timestamp: expected a UTC DateTime, got a zoned DateTime/
    )
    expect(() => State.Completed({ timestamp: 5 as unknown as Date })).toThrow(
      "Invalid timestamp: expected a DateTime.Utc or a Date, got 5."
    )
  })

  it("accepts a JS Date", () => {
    const state = State.Completed({ timestamp: new Date("2024-01-01T12:00:00Z") })
    assert.isTrue(Equal.equals(state.timestamp, t0))
  })
})

describe("predicates", () => {
  it("look only at the type, never at the name", () => {
    const retry = State.AwaitingRetry()
    assert.isTrue(State.isScheduled(retry))
    assert.isFalse(State.isRunning(retry))
    assert.isTrue(State.isRunning(State.Retrying()))
    assert.isTrue(State.isPending(State.Submitting()))
    assert.isTrue(State.isCompleted(State.Completed()))
    assert.isTrue(State.isFailed(State.Failed()))
    assert.isTrue(State.isCrashed(State.Crashed()))
    assert.isTrue(State.isCancelled(State.Cancelled()))
    assert.isTrue(State.isCancelling(State.Cancelling()))
    assert.isTrue(State.isPaused(State.Suspended()))
  })

  it("isFinal holds exactly for terminal types", () => {
    for (const type of StateType.all) {
      assert.strictEqual(State.isFinal(State.make({ type })), StateType.isTerminal(type))
    }
  })

  it("isState rejects look-alikes", () => {
    assert.isFalse(State.isState({ type: "COMPLETED", name: "Completed" }))
    assert.isFalse(State.isState(null))
  })
})

describe("text forms", () => {
  it("format is Prefect's str", () => {
    assert.strictEqual(State.format(State.Completed()), "Completed()")
    assert.strictEqual(State.format(State.Completed({ message: "ok" })), "Completed('ok')")
    assert.strictEqual(State.format(State.AwaitingRetry()), "AwaitingRetry(type=SCHEDULED)")
    assert.strictEqual(State.format(State.Late({ message: "behind" })), "Late('behind', type=SCHEDULED)")
    assert.strictEqual(State.format(State.Retrying()), "Retrying(type=RUNNING)")
    assert.strictEqual(State.format(State.make({ type: "COMPLETED", name: "" })), "(type=COMPLETED)")
    assert.strictEqual(State.format(State.Completed({ message: "" })), "Completed()")
    assert.strictEqual(State.format(State.Failed({ message: "it's" })), "Failed(\"it's\")")
  })

  it("inspect is Prefect's repr", () => {
    assert.strictEqual(State.inspect(State.Completed()), "Completed(message=None, type=COMPLETED, result=None)")
    assert.strictEqual(
      State.inspect(State.Completed({ message: "hi", data: "x" })),
      "Completed(message='hi', type=COMPLETED, result='x')"
    )
    assert.strictEqual(State.inspect(State.AwaitingRetry()), "AwaitingRetry(message=None, type=SCHEDULED, result=None)")
    assert.strictEqual(
      State.inspect(State.Completed({ data: { a: [1, true, null], b: "x\n" } })),
      "Completed(message=None, type=COMPLETED, result={'a': [1, True, None], 'b': 'x\\n'})"
    )
    assert.strictEqual(
      State.inspect(State.Failed({ data: State.Completed() })),
      "Failed(message=None, type=FAILED, result=Completed(message=None, type=COMPLETED, result=None))"
    )
  })

  it("inspect survives cyclic data", () => {
    const data: Record<string, unknown> = { a: 1 }
    data.self = data
    assert.strictEqual(
      State.inspect(State.Completed({ data })),
      "Completed(message=None, type=COMPLETED, result={'a': 1, 'self': {...}})"
    )
  })

  it("toString is format and toJSON is serialisable", () => {
    const state = State.Completed({ message: "ok", timestamp: t0 })
    assert.strictEqual(String(state), "Completed('ok')")
    const json = JSON.parse(JSON.stringify(state))
    assert.strictEqual(json.type, "COMPLETED")
    assert.strictEqual(json.timestamp, "2024-01-01T12:00:00.000Z")
  })
})

describe("equality and hashing", () => {
  it("ignores id, created and updated", () => {
    const a = State.Completed({ data: [1, 2], message: "m", timestamp: t0, id: "a" })
    const b = State.Completed({ data: [1, 2], message: "m", timestamp: t0, id: "b", created: t0 })
    assert.isTrue(Equal.equals(a, b))
    assert.strictEqual(Hash.hash(a), Hash.hash(b))
  })

  it("compares type, name, timestamp, message, details and data", () => {
    const base = State.Completed({ data: 1, timestamp: t0 })
    assert.isFalse(Equal.equals(base, State.Completed({ data: 2, timestamp: t0 })))
    assert.isFalse(Equal.equals(base, State.Completed({ data: 1, timestamp: t0, message: "x" })))
    assert.isFalse(Equal.equals(base, State.Completed({ data: 1, timestamp: t0, name: "Cached" })))
    assert.isFalse(Equal.equals(base, State.Failed({ data: 1, timestamp: t0 })))
    assert.isFalse(Equal.equals(base, State.Completed({ data: 1 })))
    assert.isFalse(Equal.equals(base, State.Completed({ data: 1, timestamp: t0, stateDetails: { cacheKey: "k" } })))
    assert.isFalse(Equal.equals(base, { ...base }))
  })

  it("law: equal states have equal hashes", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...StateType.all),
        fc.option(fc.string()),
        fc.jsonValue(),
        fc.option(fc.uuid()),
        (type, message, data, flowRunId) => {
          // the scheduled time is fixed: without one, SCHEDULED states get the wall clock
          const stateDetails = { flowRunId, scheduledTime: t0 }
          const a = State.make({ type, message, data, timestamp: t0, stateDetails })
          const b = State.make({ type, message, data, timestamp: t0, stateDetails })
          return Equal.equals(a, b) && Hash.hash(a) === Hash.hash(b)
        }
      ),
      { seed }
    )
  })
})

describe("copies", () => {
  it("update returns a new value and keeps the id", () => {
    const a = State.Completed({ data: 1, timestamp: t0 })
    const b = State.update(a, { data: 2, message: "new" })
    assert.strictEqual(a.data, 1)
    assert.strictEqual(b.data, 2)
    assert.strictEqual(b.message, "new")
    assert.strictEqual(b.id, a.id)
    assert.strictEqual(b.type, "COMPLETED")
  })

  it("freshCopy gives a new id and fresh created, updated and timestamp", () => {
    const a = State.Completed({ data: 1, timestamp: t0 })
    const before = Date.now()
    const b = State.freshCopy(a)
    assert.notStrictEqual(b.id, a.id)
    assert.isTrue(DateTime.toEpochMillis(b.timestamp) >= before)
    assert.isNotNull(b.created)
    assert.isTrue(Equal.equals(b.created, b.updated))
    assert.strictEqual(b.data, 1)
    assert.isTrue(Equal.equals(a.timestamp, t0))
  })
})

describe("withTraceparent", () => {
  it.effect("stamps the W3C traceparent of the current span", () =>
    Effect.gen(function*() {
      const state = yield* State.withTraceparent(State.Completed()).pipe(Effect.withSpan("task"))
      const span = yield* Effect.currentSpan.pipe(Effect.withSpan("probe"))
      assert.match(state.stateDetails.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
      assert.match(span.traceId, /^[0-9a-f]{32}$/)
    }))

  it.effect("uses the span's ids", () =>
    Effect.gen(function*() {
      const [state, span] = yield* Effect.all([State.withTraceparent(State.Completed()), Effect.currentSpan]).pipe(
        Effect.withSpan("task")
      )
      assert.strictEqual(state.stateDetails.traceparent, `00-${span.traceId}-${span.spanId}-01`)
    }))

  it.effect("leaves it empty (null) with no span, overwriting a given one", () =>
    Effect.gen(function*() {
      const state = yield* State.withTraceparent(
        State.Completed({ stateDetails: { traceparent: "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01" } })
      )
      assert.strictEqual(state.stateDetails.traceparent, null)
    }))

  it("constructs no error when no span is active (effect's currentSpan would build one)", () => {
    // Every effect error built with arguments records them through Object.defineProperty under this symbol.
    const plainArgs = Symbol.for("effect/Data/Error/plainArgs")
    const errorsBuilt = (program: Effect.Effect<unknown>): number => {
      const spy = vi.spyOn(Object, "defineProperty")
      try {
        Effect.runSync(program)
        return spy.mock.calls.filter((call) => call[1] === plainArgs).length
      } finally {
        spy.mockRestore()
      }
    }
    // The detector sees the NoSuchElementError of a span lookup that fails ...
    assert.isAbove(errorsBuilt(Effect.option(Effect.currentSpan)), 0)
    // ... and none from stamping, with or without a traceparent to clear.
    assert.strictEqual(errorsBuilt(State.withTraceparent(State.Completed())), 0)
    const stamped = State.Completed({
      stateDetails: { traceparent: "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01" }
    })
    assert.strictEqual(errorsBuilt(State.withTraceparent(stamped)), 0)
  })

  it("returns the very state when its traceparent is already right", () => {
    const state = State.Completed()
    assert.strictEqual(Effect.runSync(State.withTraceparent(state)), state)
  })
})

describe("isState", () => {
  it("answers for states of every type, and for objects carrying the type id some other way", () => {
    for (const type of StateType.all) assert.isTrue(State.isState(State.make({ type })))
    assert.isTrue(State.isState({ [State.TypeId]: State.TypeId }))
    for (const u of [null, undefined, 1, "s", {}, [], Object.create(null), { type: "COMPLETED" }]) {
      assert.isFalse(State.isState(u))
    }
  })
})

describe("StateDetails reuse", () => {
  it("make returns details it built before as they are, and copies anything else", () => {
    const details = StateDetails.make({ cacheKey: "k" })
    assert.strictEqual(StateDetails.make(details), details)
    assert.strictEqual(State.Completed({ stateDetails: details }).stateDetails, details)
    const spread = { ...details }
    assert.notStrictEqual(StateDetails.make(spread), spread)
    assert.isTrue(Equal.equals(StateDetails.make(spread), details))
  })
})
