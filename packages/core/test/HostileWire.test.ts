/**
 * The hostile-input suite for the wire codecs: every probe feeds a decoder or
 * an encoder something no well-behaved server sends, and checks the contract —
 * a value or a typed `WireError`, never a throw or a defect, within a time
 * bound, with an error message of bounded size, and no prototype pollution.
 */
import { assert, describe, it } from "@effect/vitest"
import * as State from "@runstate/core/State"
import * as Wire from "@runstate/core/Wire"
import { Cause, Effect, Exit } from "effect"
import { inspect } from "node:util"

/** Each probe must finish well within this (ms); the suite's per-test timeout is the hard bound. */
const probeBudget = 5_000
const maxMessage = 4_000

const decoders: ReadonlyArray<readonly [string, (u: any) => Effect.Effect<unknown, Wire.WireError>]> = [
  ["decodeStateResponse", Wire.decodeStateResponse],
  ["decodeStateResponses", Wire.decodeStateResponses],
  ["decodeStateCreate", Wire.decodeStateCreate],
  ["decodeStateDetails", Wire.decodeStateDetails],
  ["decodeOrchestrationResult", Wire.decodeOrchestrationResult]
]

/** Runs a decoder on a hostile input: never throws, never dies; a failure is one bounded WireError. */
const probe = <A>(name: string, effect: () => Effect.Effect<A, Wire.WireError>): Exit.Exit<A, Wire.WireError> => {
  const start = performance.now()
  let exit: Exit.Exit<A, Wire.WireError>
  try {
    exit = Effect.runSyncExit(Effect.suspend(effect))
  } catch (error) {
    return assert.fail(`${name} threw: ${String(error)}`)
  }
  const elapsed = performance.now() - start
  assert.isBelow(elapsed, probeBudget, `${name} took ${elapsed} ms`)
  if (Exit.isFailure(exit)) {
    assert.strictEqual(exit.cause.reasons.length, 1, `${name}: ${Cause.pretty(exit.cause)}`)
    const reason = exit.cause.reasons[0]!
    if (!Cause.isFailReason(reason)) return assert.fail(`${name} died: ${Cause.pretty(exit.cause)}`)
    assert.strictEqual(reason.error._tag, "WireError", name)
    assert.isAbove(reason.error.message.length, 0, name)
    assert.isBelow(reason.error.message.length, maxMessage, `${name}: message of ${reason.error.message.length}`)
  }
  return exit
}

const expectFailure = (name: string, effect: () => Effect.Effect<unknown, Wire.WireError>): Wire.WireError => {
  const exit = probe(name, effect)
  if (Exit.isSuccess(exit)) return assert.fail(`${name} accepted a hostile input`)
  return (exit.cause.reasons[0] as Cause.Fail<Wire.WireError>).error
}

const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

const throwingGetter = (key: string, base: Record<string, unknown> = {}): object =>
  Object.defineProperty({ ...base }, key, {
    enumerable: true,
    get() {
      throw new Error("getter says no")
    }
  })

const validDoc = {
  id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e8f",
  type: "COMPLETED",
  timestamp: "2024-01-01T12:00:03.517204Z",
  state_details: { flow_run_id: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70" }
}

describe("HostileWire: every decoder returns a typed failure for any input", () => {
  it("a revoked proxy, at the top and nested", () => {
    for (const [name, decode] of decoders) {
      expectFailure(`${name}(revoked)`, () => decode(revoked()))
    }
    expectFailure(
      "decodeStateResponse(nested)",
      () => Wire.decodeStateResponse({ ...validDoc, state_details: revoked() })
    )
    expectFailure("decodeStateResponse(data)", () => Wire.decodeStateResponse({ ...validDoc, data: revoked() }))
    expectFailure("decodeStateResponses([revoked])", () => Wire.decodeStateResponses([validDoc, revoked()]))
    expectFailure(
      "decodeStateCreate(nested)",
      () => Wire.decodeStateCreate({ type: "RUNNING", state_details: revoked() })
    )
  })

  it("a throwing getter, at the top and nested", () => {
    for (const [name, decode] of decoders) {
      const hostile = Object.defineProperties(
        {},
        Object.fromEntries(["type", "flow_run_id", "status"].map((key) => [key, {
          enumerable: true,
          get() {
            throw new Error("getter says no")
          }
        }]))
      )
      expectFailure(`${name}(getter)`, () => decode(hostile))
    }
    expectFailure(
      "decodeStateResponse(details getter)",
      () => Wire.decodeStateResponse({ ...validDoc, state_details: throwingGetter("flow_run_id") })
    )
    const list = new Proxy([validDoc, validDoc], {
      get(target, key, receiver) {
        if (key === "1") throw new Error("index says no")
        return Reflect.get(target, key, receiver)
      }
    })
    expectFailure("decodeStateResponses(throwing index)", () => Wire.decodeStateResponses(list))
  })

  it("decodeStateResponses: a body that is not an array fails, never [undefined]", () => {
    for (const body of [{ detail: "Not found" }, null, undefined, "[]", 42, { length: 1, 0: validDoc }]) {
      const error = expectFailure(`decodeStateResponses(${inspect(body)})`, () => Wire.decodeStateResponses(body))
      assert.include(error.message, "array")
    }
    const ok = probe("decodeStateResponses([])", () => Wire.decodeStateResponses([]))
    assert.deepStrictEqual(Exit.isSuccess(ok) ? ok.value : undefined, [])
  })

  it("null, undefined, functions, symbols and bigints", () => {
    for (const input of [null, undefined, () => 1, Symbol("s"), 10n]) {
      for (const [name, decode] of decoders) expectFailure(`${name}(${String(typeof input)})`, () => decode(input))
    }
  })
})

describe("HostileWire: error messages are bounded", () => {
  it("100,000 unexpected keys in a StateCreate", () => {
    const doc: Record<string, unknown> = { type: "RUNNING" }
    for (let i = 0; i < 100_000; i++) doc[`k${i}`] = i
    const error = expectFailure("decodeStateCreate(100k keys)", () => Wire.decodeStateCreate(doc))
    assert.include(error.message, "Unexpected key")
    assert.include(error.message, "more issues")
  })

  it("megabyte strings and keys are cut in the message", () => {
    const huge = "x".repeat(1_000_000)
    const cases: ReadonlyArray<readonly [string, () => Effect.Effect<unknown, Wire.WireError>]> = [
      ["uuid", () => Wire.decodeStateDetails({ flow_run_id: huge })],
      ["datetime", () => Wire.decodeStateDetails({ scheduled_time: huge })],
      ["key", () => Wire.decodeStateCreate({ type: "RUNNING", [huge]: 1 })],
      ["metadata", () => Wire.decodeStateResponse({ ...validDoc, data: { storage_key: 1, serializer: huge } })],
      ["array", () => Wire.decodeStateDetails({ run_input_keyset: { a: Array.from({ length: 1_000_000 }, () => 1) } })]
    ]
    for (const [name, effect] of cases) expectFailure(name, effect)
  })
})

describe("HostileWire: WireError.message is an own field", () => {
  it("shows in util.inspect and console output, like the other errors", () => {
    const error = expectFailure("decodeStateResponse", () => Wire.decodeStateResponse({ type: "DONE" }))
    assert.isTrue(Object.hasOwn(error, "message"))
    assert.isTrue(Object.prototype.propertyIsEnumerable.call(error, "message"))
    assert.include(Object.keys(error), "message")
    assert.include(inspect(error), "Cannot decode StateResponse")
    assert.include(inspect({ ...error }), "Cannot decode StateResponse")
    assert.deepStrictEqual(error.path, ["type"])
  })
})

describe("HostileWire: encoders build outputs without prototype setters", () => {
  it("encodeStateCreate with typeOnly keeps a __proto__ key as a key", () => {
    const data = JSON.parse(
      `{"storage_key": "k", "serializer": {"type": "json", "jsonlib": "json"}, "__proto__": {"polluted": true}}`
    )
    const proposal: Wire.StateCreate = Wire.toStateCreate(State.Completed())
    for (const serializerFields of ["full", "typeOnly"] as const) {
      const exit = probe(serializerFields, () => Wire.encodeStateCreate({ ...proposal, data }, { serializerFields }))
      if (Exit.isFailure(exit)) return assert.fail(Cause.pretty(exit.cause))
      const out = exit.value.data as Record<string, unknown>
      assert.strictEqual(Object.getPrototypeOf(out), Object.prototype, serializerFields)
      assert.isTrue(Object.hasOwn(out, "__proto__"), serializerFields)
      assert.isUndefined((out as { polluted?: unknown }).polluted, serializerFields)
      assert.isUndefined(({} as { polluted?: unknown }).polluted)
    }
  })

  it("encoders return a typed failure for hostile values too", () => {
    // a getter that answers as often as the schema reads it, then throws on the next read:
    // the typeOnly rewrite of the encoded data is that next read
    let reads = 0
    let limit = Number.POSITIVE_INFINITY
    const data = Object.defineProperty({ storage_key: "k", serializer: { type: "json" } }, "extra", {
      enumerable: true,
      get() {
        if (++reads > limit) throw new Error("one read too many")
        return 1
      }
    })
    const proposal: Wire.StateCreate = { ...Wire.toStateCreate(State.Completed()), data: data as never }
    probe("encodeStateCreate(full)", () => Wire.encodeStateCreate(proposal))
    limit = reads
    reads = 0
    const error = expectFailure(
      "encodeStateCreate(typeOnly, getter)",
      () => Wire.encodeStateCreate(proposal, { serializerFields: "typeOnly" })
    )
    assert.include(error.message, "one read too many")
    const hostileState = State.Completed({ data: throwingGetter("x") })
    expectFailure("encodeStateResponse(revoked data)", () => Wire.encodeStateResponse(hostileState))
    expectFailure("encodeStateDetails(revoked)", () => Wire.encodeStateDetails(revoked() as never))
  })

  it("decoded keysets and toStateCreate outputs keep plain prototypes", () => {
    const keyset = JSON.parse(`{"__proto__": "x", "schema": "s"}`)
    for (
      const decode of [
        Wire.decodeStateDetails,
        (u: unknown) => Effect.map(Wire.decodeStateResponse({ ...validDoc, state_details: u }), (s) => s.stateDetails)
      ]
    ) {
      const exit = probe("keyset", () => decode({ run_input_keyset: keyset }))
      if (Exit.isFailure(exit)) return assert.fail(Cause.pretty(exit.cause))
      const out = exit.value.runInputKeyset!
      assert.strictEqual(Object.getPrototypeOf(out), Object.prototype)
      assert.strictEqual(Object.getOwnPropertyDescriptor(out, "__proto__")?.value, "x")
    }
    const proposal = Wire.toStateCreate(State.Completed({ data: keyset }))
    assert.strictEqual(Object.getPrototypeOf(proposal), Object.prototype)
    assert.isNull(proposal.data)
  })
})
