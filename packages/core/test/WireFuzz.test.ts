import { assert, describe, it } from "@effect/vitest"
import * as StateType from "@runstate/core/StateType"
import * as Wire from "@runstate/core/Wire"
import { Cause, Clock, Effect, Exit, Schema } from "effect"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"

const seed = process.env.FC_SEED === undefined ? Date.now() : Number(process.env.FC_SEED)
console.log(`WireFuzz.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)

const fixture = (name: string): any =>
  JSON.parse(readFileSync(new URL(`./fixtures/wire/${name}`, import.meta.url), "utf8"))

const now = Date.UTC(2030, 0, 1)
const fixedClock: Clock.Clock = {
  currentTimeMillisUnsafe: () => now,
  currentTimeMillis: Effect.succeed(now),
  currentTimeNanosUnsafe: () => BigInt(now) * 1_000_000n,
  currentTimeNanos: Effect.succeed(BigInt(now) * 1_000_000n),
  monotonicTimeNanosUnsafe: () => 0n,
  monotonicTimeNanos: Effect.succeed(0n),
  sleep: () => Effect.void
}

const schemaDecodeStateResponse = (u: unknown) =>
  Effect.mapError(
    Schema.decodeUnknownEffect(Wire.StateResponse)(u),
    (e) => new Wire.WireError({ codec: "StateResponse", operation: "decode", issue: e.issue })
  )

const decoders: ReadonlyArray<readonly [string, (u: unknown) => Effect.Effect<unknown, Wire.WireError>]> = [
  ["decodeStateResponse", Wire.decodeStateResponse],
  ["StateResponse schema", schemaDecodeStateResponse],
  ["decodeStateCreate", Wire.decodeStateCreate],
  ["decodeOrchestrationResult", Wire.decodeOrchestrationResult],
  ["decodeStateDetails", Wire.decodeStateDetails]
]

/**
 * Runs a decoder and checks the contract: it returns (never throws), and fails
 * only with a WireError whose message renders. Returns the exit.
 */
const run = <A>(
  name: string,
  decode: (u: unknown) => Effect.Effect<A, Wire.WireError>,
  input: unknown
): Exit.Exit<A, Wire.WireError> => {
  let exit: Exit.Exit<A, Wire.WireError>
  try {
    exit = Effect.runSyncExit(Effect.provideService(decode(input), Clock.Clock, fixedClock))
  } catch (error) {
    throw new Error(`${name} threw: ${String(error)}`)
  }
  if (Exit.isFailure(exit)) {
    const errors = exit.cause.reasons.filter(Cause.isFailReason).map((r) => r.error)
    if (errors.length !== 1 || exit.cause.reasons.length !== 1) {
      throw new Error(`${name}: expected one typed failure, got ${Cause.pretty(exit.cause)}`)
    }
    const error = errors[0]!
    assert.strictEqual(error._tag, "WireError", name)
    assert.isAbove(error.message.length, 0)
    assert.isArray(error.path)
  }
  return exit
}

const runAll = (input: unknown) => {
  for (const [name, decode] of decoders) run(name, decode, input)
}

const describeInput = (input: unknown): string => {
  try {
    return String(JSON.stringify(input)).slice(0, 300)
  } catch {
    return String(input)
  }
}

/** The hand-written path and the schema must agree on every input. */
const assertAgree = (input: unknown) => {
  const fast = run("decodeStateResponse", Wire.decodeStateResponse, input)
  const slow = run("StateResponse schema", schemaDecodeStateResponse, input)
  if (fast._tag !== slow._tag) assert.fail(`fast path and schema disagree on ${describeInput(input)}`)
  if (Exit.isSuccess(fast) && Exit.isSuccess(slow)) {
    const encode = (s: any) => Effect.runSync(Wire.encodeStateResponse(s))
    const a: any = encode(fast.value)
    const b: any = encode(slow.value)
    if (!(typeof input === "object" && input !== null && "id" in input)) {
      delete a.id
      delete b.id
    }
    assert.deepStrictEqual(a, b)
    assert.strictEqual(fast.value.created?.epochMilliseconds, slow.value.created?.epochMilliseconds)
    assert.strictEqual(fast.value.updated?.epochMilliseconds, slow.value.updated?.epochMilliseconds)
  }
  if (Exit.isFailure(fast) && Exit.isFailure(slow)) {
    const message = (exit: typeof fast) => (exit.cause.reasons[0] as any).error.message
    assert.strictEqual(message(fast), message(slow))
  }
}

// -----------------------------------------------------------------------------
// generators of valid documents and of mutations
// -----------------------------------------------------------------------------

const uuid = fc.uuid()
const isoDateTime = fc
  .record({
    ms: fc.integer({ min: Date.UTC(1, 0, 1), max: Date.UTC(9998, 11, 31) }),
    fraction: fc.integer({ min: 0, max: 6 }),
    micros: fc.integer({ min: 0, max: 999_999 }),
    offset: fc.constantFrom("Z", "+00:00", "-00:00", "+05:30", "-08:00", "+14:00")
  })
  .map(({ ms, fraction, micros, offset }) => {
    const iso = new Date(ms).toISOString()
    const base = iso.startsWith("+") || iso.startsWith("-") ? iso.slice(3, 22) : iso.slice(0, 19)
    const frac = fraction === 0 ? "" : "." + String(micros).padStart(6, "0").slice(0, fraction)
    return base + frac + offset
  })
  .filter((s) => !Number.isNaN(Wire.parseDateTimeMillis(s)))

const nullOr = <A>(arb: fc.Arbitrary<A>) => fc.option(arb, { nil: null })

const detailsDoc = fc.record(
  {
    flow_run_id: nullOr(uuid),
    task_run_id: nullOr(uuid),
    child_flow_run_id: nullOr(uuid),
    scheduled_time: nullOr(isoDateTime),
    cache_key: nullOr(fc.string()),
    cache_expiration: nullOr(isoDateTime),
    deferred: nullOr(fc.boolean()),
    untrackable_result: fc.boolean(),
    pause_timeout: nullOr(isoDateTime),
    pause_reschedule: fc.boolean(),
    pause_key: nullOr(fc.string()),
    run_input_keyset: nullOr(fc.dictionary(fc.string(), fc.string())),
    refresh_cache: nullOr(fc.boolean()),
    retriable: nullOr(fc.boolean()),
    transition_id: nullOr(uuid),
    task_parameters_id: nullOr(uuid),
    traceparent: nullOr(fc.string()),
    deployment_concurrency_lease_id: nullOr(uuid)
  },
  { requiredKeys: [] }
)

const metadataDoc = fc.record({
  storage_key: fc.string(),
  expiration: nullOr(isoDateTime),
  serializer: fc.constantFrom<any>(
    { type: "json" },
    { type: "pickle", picklelib: "cloudpickle", picklelib_version: null },
    fixture("completed-proposal.json").state.data.serializer,
    { type: "custom", foo: "bar" }
  ),
  prefect_version: fc.constant("3.8.4"),
  storage_block_id: nullOr(uuid)
})

const dataDoc = fc.oneof(
  fc.constant(null),
  fc.jsonValue(),
  metadataDoc,
  fc.constant({ type: "unpersisted" })
)

const stateDoc = fc.record(
  {
    id: uuid,
    created: nullOr(isoDateTime),
    updated: nullOr(isoDateTime),
    type: fc.constantFrom(...StateType.all),
    name: nullOr(fc.string()),
    timestamp: isoDateTime,
    message: nullOr(fc.string()),
    state_details: detailsDoc,
    data: dataDoc
  },
  { requiredKeys: ["type"] }
)

type Path = ReadonlyArray<string>

const setAt = (doc: any, path: Path, value: unknown): any => {
  if (path.length === 0) return value
  const [head, ...rest] = path
  const base = typeof doc === "object" && doc !== null && !Array.isArray(doc) ? doc : {}
  return { ...base, [head!]: setAt(base[head!], rest, value) }
}

const deleteAt = (doc: any, path: Path): any => {
  if (path.length === 0) return undefined
  const [head, ...rest] = path
  if (typeof doc !== "object" || doc === null) return doc
  if (rest.length === 0) {
    const { [head!]: _, ...others } = doc
    return others
  }
  return { ...doc, [head!]: deleteAt(doc[head!], rest) }
}

// Fields whose every non-null non-string (or malformed) value is an error at that path.
const uuidPaths: ReadonlyArray<Path> = [
  ["id"],
  ["state_details", "flow_run_id"],
  ["state_details", "task_run_id"],
  ["state_details", "transition_id"],
  ["state_details", "deployment_concurrency_lease_id"]
]
const dateTimePaths: ReadonlyArray<Path> = [
  ["timestamp"],
  ["created"],
  ["state_details", "scheduled_time"],
  ["state_details", "pause_timeout"]
]
const stringPaths: ReadonlyArray<Path> = [["name"], ["message"], ["state_details", "cache_key"]]
const booleanPaths: ReadonlyArray<Path> = [
  ["state_details", "untrackable_result"],
  ["state_details", "deferred"],
  ["state_details", "retriable"]
]

const badUuid = fc.oneof(
  fc.string().filter((s) => Wire.normalizeUuid(s) === undefined),
  uuid.map((u) => u.slice(0, 35)),
  uuid.map((u) => u.replace(/-/g, "_")),
  uuid.map((u) => u + "0"),
  fc.integer(),
  fc.boolean()
)
const badDateTime = fc.oneof(
  fc.string().filter((s) => Number.isNaN(Wire.parseDateTimeMillis(s))),
  isoDateTime.map((s) => s.replace(/(Z|[+-]\d\d:\d\d)$/, "+01")),
  isoDateTime.map((s) => s.replace(/^(\d{4})-\d\d/, "$1-13")),
  isoDateTime.map((s) => s.replace(/T(\d\d)/, "T25")),
  fc.constant("2024-01-01T12:00:00.Z"),
  fc.double({ min: 3e14, noNaN: true, noDefaultInfinity: true }),
  fc.boolean()
)
const notString = fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string()), fc.dictionary(fc.string(), fc.string()))
const notBoolean = fc.oneof(fc.integer(), fc.string(), fc.constant([]), fc.constant({}))

const typedMutation = fc.oneof(
  fc.tuple(fc.constantFrom(...uuidPaths), badUuid),
  fc.tuple(fc.constantFrom(...dateTimePaths), badDateTime),
  fc.tuple(fc.constantFrom(...stringPaths), notString),
  fc.tuple(fc.constantFrom(...booleanPaths), notBoolean),
  fc.tuple(fc.constant<Path>(["type"]), fc.oneof(fc.string().filter((s) => !StateType.isStateType(s)), notString))
)

const anyPath = fc.constantFrom<Path>(
  ["id"],
  ["type"],
  ["name"],
  ["timestamp"],
  ["message"],
  ["data"],
  ["state_details"],
  ["created"],
  ["updated"],
  ["state_details", "flow_run_id"],
  ["state_details", "scheduled_time"],
  ["state_details", "run_input_keyset"],
  ["data", "storage_key"],
  ["data", "serializer"],
  ["data", "expiration"],
  ["data", "serializer", "type"],
  ["data", "serializer", "dumps_kwargs"]
)

describe("Wire fuzz", () => {
  it("random JSON values: every decoder returns a value or a typed WireError, never throws", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        runAll(value)
        assertAgree(value)
      }),
      { seed, numRuns: 1000 }
    )
  })

  it("random objects shaped like states: never a throw, fast path = schema", () => {
    fc.assert(
      fc.property(
        fc.record({ type: fc.oneof(fc.constantFrom(...StateType.all), fc.jsonValue()) }),
        fc.dictionary(
          fc.constantFrom("id", "name", "timestamp", "message", "data", "state_details", "created", "updated"),
          fc.jsonValue()
        ),
        (a, b) => {
          const doc = { ...b, ...a }
          runAll(doc)
          assertAgree(doc)
          runAll({ state: doc, status: "ACCEPT", details: { type: "accept_details" } })
        }
      ),
      { seed, numRuns: 1000 }
    )
  })

  it("valid documents decode, through the fast path and the schema alike", () => {
    fc.assert(
      fc.property(stateDoc, (doc) => {
        const exit = run("decodeStateResponse", Wire.decodeStateResponse, doc)
        assert.isTrue(Exit.isSuccess(exit), Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "")
        assertAgree(doc)
        const envelope = run("decodeOrchestrationResult", Wire.decodeOrchestrationResult, {
          state: doc,
          status: "ACCEPT",
          details: { type: "accept_details" }
        })
        assert.isTrue(Exit.isSuccess(envelope))
      }),
      { seed, numRuns: 500 }
    )
  })

  it("wrong types, bad UUIDs and bad datetimes fail at exactly their path", () => {
    fc.assert(
      fc.property(stateDoc, typedMutation, (doc, [path, value]) => {
        const mutated = setAt(doc, path, value)
        const exit = run("decodeStateResponse", Wire.decodeStateResponse, mutated)
        assert.isTrue(Exit.isFailure(exit), `accepted ${JSON.stringify(value)} at ${path.join(".")}`)
        if (Exit.isFailure(exit)) {
          const error = (exit.cause.reasons[0] as any).error as Wire.WireError
          assert.deepStrictEqual(error.path, path)
          assert.include(error.message, `at [${path.map((k) => JSON.stringify(k)).join("][")}]`)
        }
        assertAgree(mutated)
        if (path[0] === "state_details") {
          const details = run("decodeStateDetails", Wire.decodeStateDetails, mutated.state_details)
          assert.isTrue(Exit.isFailure(details))
        }
        if (path[0] !== "id" && path[0] !== "timestamp" && path[0] !== "created") {
          const create: any = { type: mutated.type, state_details: mutated.state_details }
          if ("name" in mutated) create.name = mutated.name
          if ("message" in mutated) create.message = mutated.message
          const createExit = run("decodeStateCreate", Wire.decodeStateCreate, create)
          if (!Exit.isFailure(createExit)) return assert.fail("decodeStateCreate accepted a mutated document")
          const error = (createExit.cause.reasons[0] as any).error as Wire.WireError
          assert.deepStrictEqual(error.path, path)
        }
      }),
      { seed, numRuns: 1000 }
    )
  })

  it("missing fields, extra keys and arbitrary replacements: a value or a typed error", () => {
    fc.assert(
      fc.property(
        stateDoc,
        anyPath,
        fc.oneof(fc.constant<"delete">("delete"), fc.jsonValue()),
        fc.string(),
        fc.jsonValue(),
        (doc, path, replacement, extraKey, extraValue) => {
          const mutated = replacement === "delete" ? deleteAt(doc, path) : setAt(doc, path, replacement)
          const withExtra = { ...mutated, [extraKey]: extraValue }
          for (const input of [mutated, withExtra]) {
            runAll(input)
            assertAgree(input)
            runAll({ state: input, status: "REJECT", details: { type: "reject_details", reason: extraKey } })
          }
          // the server's StateCreate rejects any key it does not know
          if (!["type", "name", "message", "state_details", "data"].includes(extraKey)) {
            const create = { type: doc.type, [extraKey]: extraValue }
            const exit = run("decodeStateCreate", Wire.decodeStateCreate, create)
            assert.isTrue(Exit.isFailure(exit))
            if (Exit.isFailure(exit)) {
              assert.deepStrictEqual(((exit.cause.reasons[0] as any).error as Wire.WireError).path, [extraKey])
            }
          }
        }
      ),
      { seed, numRuns: 1000 }
    )
  })

  it("mutated orchestration envelopes: a value or a typed error", () => {
    const envelope = fixture("accept-response.json")
    fc.assert(
      fc.property(
        fc.constantFrom<Path>(
          ["status"],
          ["details"],
          ["details", "type"],
          ["details", "reason"],
          ["details", "delay_seconds"],
          ["state"],
          ["state", "type"]
        ),
        fc.oneof(fc.constant<"delete">("delete"), fc.jsonValue(), fc.constantFrom("WAIT", "wait_details")),
        (path, replacement) => {
          const mutated = replacement === "delete" ? deleteAt(envelope, path) : setAt(envelope, path, replacement)
          const exit = run("decodeOrchestrationResult", Wire.decodeOrchestrationResult, mutated)
          if (Exit.isFailure(exit)) {
            const error = (exit.cause.reasons[0] as any).error as Wire.WireError
            assert.strictEqual(error.path[0], path[0])
          }
        }
      ),
      { seed, numRuns: 500 }
    )
  })

  it("decodeStateResponses = Effect.forEach(docs, decodeStateResponse), and each state = the schema's", () => {
    const element = fc.oneof(
      { weight: 6, arbitrary: stateDoc },
      {
        weight: 1,
        arbitrary: fc.tuple(stateDoc, typedMutation).map(([doc, [path, value]]) => setAt(doc, path, value))
      },
      { weight: 1, arbitrary: fc.jsonValue() }
    )
    fc.assert(
      fc.property(fc.array(element, { maxLength: 12 }), (docs) => {
        const batch = run("decodeStateResponses", (u) => Wire.decodeStateResponses(u as Array<unknown>), docs)
        const each = run(
          "forEach decodeStateResponse",
          (u) => Effect.forEach(u as Array<unknown>, Wire.decodeStateResponse),
          docs
        )
        if (batch._tag !== each._tag) assert.fail(`batch and forEach disagree on ${describeInput(docs)}`)
        if (Exit.isSuccess(batch) && Exit.isSuccess(each)) {
          // a document without an id gets a fresh one on each decode
          const encode = (s: any, i: number) => {
            const json: any = Effect.runSync(Wire.encodeStateResponse(s))
            const doc = docs[i]
            if (!(typeof doc === "object" && doc !== null && "id" in doc)) delete json.id
            return json
          }
          assert.strictEqual(batch.value.length, docs.length)
          assert.deepStrictEqual(batch.value.map(encode), each.value.map(encode))
          for (const doc of docs) assertAgree(doc)
        }
        if (Exit.isFailure(batch) && Exit.isFailure(each)) {
          const message = (exit: typeof batch) => (exit.cause.reasons[0] as any).error.message
          assert.strictEqual(message(batch), message(each))
        }
      }),
      { seed, numRuns: 300 }
    )
  })
})

describe("Wire hostile inputs", () => {
  const base = fixture("accept-response.json").state
  const mb = "x".repeat(1024 * 1024)

  it("1 MB strings anywhere: a value or a typed error, quickly", () => {
    const started = performance.now()
    const inputs = [
      { ...base, name: mb },
      { ...base, message: mb },
      { ...base, id: mb },
      { ...base, timestamp: mb },
      { ...base, type: mb },
      { ...base, data: mb },
      { ...base, [mb]: 1 },
      { ...base, state_details: { ...base.state_details, flow_run_id: mb } },
      { ...base, state_details: { ...base.state_details, scheduled_time: "2024-01-01T00:00:00." + "1".repeat(1e6) } },
      { ...base, state_details: { ...base.state_details, cache_key: mb, traceparent: mb } },
      { ...base, state_details: { ...base.state_details, run_input_keyset: { [mb]: mb } } },
      { ...base, data: { ...base.data, storage_key: mb } },
      { ...base, data: { ...base.data, prefect_version: mb, serializer: { type: mb } } }
    ]
    for (const input of inputs) {
      runAll(input)
      assertAgree(input)
      const exit = run("decodeStateResponse", Wire.decodeStateResponse, input)
      if (Exit.isFailure(exit)) {
        assert.isBelow(((exit.cause.reasons[0] as any).error as Wire.WireError).message.length, 10_000)
      }
    }
    const ok = run("decodeStateResponse", Wire.decodeStateResponse, { ...base, message: mb })
    assert.isTrue(Exit.isSuccess(ok) && ok.value.message === mb)
    assert.isBelow(performance.now() - started, 20_000)
  })

  it("10,000 levels of nesting in data, details and metadata: no stack overflow", () => {
    const depth = 10_000
    const deepArray = JSON.parse("[".repeat(depth) + "]".repeat(depth))
    const deepObject = JSON.parse("{\"a\":".repeat(depth) + "1" + "}".repeat(depth))
    for (const deep of [deepArray, deepObject]) {
      const exit = run("decodeStateResponse", Wire.decodeStateResponse, { ...base, data: deep })
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isSuccess(exit)) assert.strictEqual(exit.value.data, deep)
      const create = run("decodeStateCreate", Wire.decodeStateCreate, { type: "COMPLETED", data: deep })
      assert.isTrue(Exit.isSuccess(create))
      const encoded = Effect.runSyncExit(Wire.encodeStateResponse((exit as any).value))
      assert.isTrue(Exit.isSuccess(encoded))
      const hostile = [
        deep,
        { ...base, state_details: deep },
        { ...base, state_details: { ...base.state_details, run_input_keyset: deep } },
        { ...base, state_details: { ...base.state_details, extra: deep } },
        { ...base, data: { ...base.data, serializer: { ...base.data.serializer, dumps_kwargs: deep } } },
        { ...base, data: { ...base.data, serializer: { type: "custom", payload: deep } } },
        { ...base, data: { storage_key: deep } },
        { ...base, [String(depth)]: deep }
      ]
      for (const input of hostile) {
        runAll(input)
        assertAgree(input)
        runAll({ state: input, status: "WAIT", details: { type: "wait_details", delay_seconds: 1, reason: deep } })
      }
    }
  })

  it("__proto__ and constructor keys pollute nothing", () => {
    const text = `{
      "type": "COMPLETED",
      "__proto__": {"polluted": "top"},
      "constructor": {"prototype": {"polluted": "ctor"}},
      "data": {"__proto__": {"polluted": "data"}, "constructor": {"prototype": {"polluted": "data"}}, "x": 1},
      "state_details": {
        "__proto__": {"polluted": "details"},
        "run_input_keyset": {"__proto__": "keyset", "constructor": "c", "schema": "s"}
      }
    }`
    for (const [name, decode] of decoders.slice(0, 2)) {
      const doc = JSON.parse(text)
      const exit = run(name, decode, doc)
      assert.isTrue(Exit.isSuccess(exit), name)
      const state: any = (exit as Exit.Success<any>).value
      assert.strictEqual(({} as any).polluted, undefined)
      assert.strictEqual((Object.prototype as any).polluted, undefined)
      assert.isFalse(Object.hasOwn(Object.prototype, "polluted"))
      assert.strictEqual(state.polluted, undefined)
      assert.strictEqual(Object.getPrototypeOf(state.data), Object.prototype)
      assert.isTrue(Object.hasOwn(state.data, "__proto__"))
      assert.strictEqual(state.data.polluted, undefined)
      assert.strictEqual(state.stateDetails.polluted, undefined)
      const keyset = state.stateDetails.runInputKeyset
      assert.strictEqual(Object.getPrototypeOf(keyset), Object.prototype)
      assert.isTrue(Object.hasOwn(keyset, "__proto__"))
      assert.strictEqual(keyset["__proto__"], "keyset")
      assert.strictEqual(keyset.constructor, "c")
      assert.deepStrictEqual(Object.keys(keyset).sort(), ["__proto__", "constructor", "schema"])
    }
    assertAgree(JSON.parse(text))
    // metadata with an unknown serializer carrying such keys
    const withMetadata = JSON.parse(
      `{"type": "COMPLETED", "data": {"storage_key": "k", "prefect_version": "3.8.4",
        "serializer": {"type": "custom", "__proto__": {"polluted": "ser"}, "constructor": {"prototype": {"polluted": 1}}}}}`
    )
    runAll(withMetadata)
    assert.strictEqual(({} as any).polluted, undefined)
    // StateCreate: __proto__ is an unknown key, rejected at its path, and nothing is polluted
    const create = run(
      "decodeStateCreate",
      Wire.decodeStateCreate,
      JSON.parse(`{"type": "RUNNING", "__proto__": {"polluted": "create"}}`)
    )
    assert.isTrue(Exit.isFailure(create))
    if (Exit.isFailure(create)) {
      assert.deepStrictEqual(((create.cause.reasons[0] as any).error as Wire.WireError).path, ["__proto__"])
    }
    assert.strictEqual(({} as any).polluted, undefined)
  })

  it("non-JSON inputs (functions, cycles, class instances, sparse arrays) are typed errors", () => {
    const cyclic: any = { type: "COMPLETED" }
    cyclic.data = { self: cyclic }
    const inputs: Array<unknown> = [
      undefined,
      () => 1,
      Symbol("x"),
      10n,
      new Date(),
      new Map(),
      cyclic,
      { type: "COMPLETED", data: () => 1 },
      { type: "COMPLETED", data: new Array(3) },
      { type: "COMPLETED", data: [1, undefined] },
      { type: "COMPLETED", data: { n: NaN } },
      { type: "COMPLETED", data: new Date() },
      { type: "COMPLETED", id: undefined },
      { type: "COMPLETED", state_details: Object.create({ flow_run_id: "x" }) },
      Object.assign(Object.create({ type: "COMPLETED" }), { name: "inherited" })
    ]
    for (const input of inputs) {
      runAll(input)
      assertAgree(input)
    }
    const exit = run("decodeStateResponse", Wire.decodeStateResponse, cyclic)
    assert.isTrue(Exit.isFailure(exit))
    if (Exit.isFailure(exit)) {
      assert.deepStrictEqual(((exit.cause.reasons[0] as any).error as Wire.WireError).path, ["data"])
    }
  })
})
