import { assert, describe, it } from "@effect/vitest"
import * as StateDetails from "@runstate/core/StateDetails"
import * as Wire from "@runstate/core/Wire"
import { DateTime, Effect, Schema } from "effect"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"
import { seed } from "./arbitraries.ts"

const proposal = JSON.parse(
  readFileSync(new URL("./fixtures/wire/scheduled-proposal.json", import.meta.url), "utf8")
)

// A value for a field, drawn by the field's default: `false` fields are booleans, the rest nullable
const fieldValue = (key: keyof StateDetails.StateDetails): fc.Arbitrary<unknown> => {
  if (StateDetails.empty[key] === false) return fc.boolean()
  switch (key) {
    case "scheduledTime":
    case "cacheExpiration":
    case "pauseTimeout":
      return fc.option(fc.integer({ min: 0, max: 4e12 }).map((ms) => DateTime.makeUnsafe(ms)), { nil: null })
    case "deferred":
    case "refreshCache":
    case "retriable":
      return fc.option(fc.boolean(), { nil: null })
    case "runInputKeyset":
      return fc.option(fc.dictionary(fc.string(), fc.string()), { nil: null })
    default:
      return fc.option(fc.uuid(), { nil: null })
  }
}

const input: fc.Arbitrary<StateDetails.Input> = fc.record(
  Object.fromEntries(StateDetails.fields.map((key) => [key, fieldValue(key)])) as {
    [K in keyof StateDetails.StateDetails]: fc.Arbitrary<StateDetails.StateDetails[K]>
  },
  { requiredKeys: [] }
)

describe("StateDetails: the eighteen fields, declared once", () => {
  it("fields, jsonKeys and empty derive from the schema, in Prefect's order", () => {
    assert.deepStrictEqual([...StateDetails.fields], Object.keys(StateDetails.schema.fields))
    assert.strictEqual(StateDetails.fields.length, 18)
    // the snake_case names are exactly the keys Prefect's client writes, in its order
    assert.deepStrictEqual(
      StateDetails.fields.map((k) => StateDetails.jsonKeys[k]),
      Object.keys(proposal.state.state_details)
    )
    assert.deepStrictEqual(StateDetails.empty, Schema.decodeUnknownSync(StateDetails.schema)({}))
    assert.isTrue(Object.isFrozen(StateDetails.empty))
  })

  it("law: make(input) = the declaration's defaults overlaid with the input's defined fields", () => {
    assert.strictEqual(StateDetails.make({}), StateDetails.empty)
    fc.assert(
      fc.property(input, (i) => {
        const made = StateDetails.make(i)
        const expected: Record<string, unknown> = { ...StateDetails.empty }
        for (const [k, v] of Object.entries(i)) if (v !== undefined) expected[k] = v
        assert.deepStrictEqual({ ...made }, expected)
        assert.deepStrictEqual(Object.keys(made), [...StateDetails.fields])
        assert.isTrue(Object.isFrozen(made))
        if (StateDetails.fields.every((k) => expected[k] === StateDetails.empty[k])) {
          assert.strictEqual(made, StateDetails.empty)
        }
      }),
      { seed, numRuns: 300 }
    )
  })

  it("law: the wire codec round-trips every details value, writing all eighteen snake_case keys", () => {
    fc.assert(
      fc.property(input, (i) => {
        const details = StateDetails.make(i)
        const json = Effect.runSync(Wire.encodeStateDetails(details))
        assert.deepStrictEqual(Object.keys(json), StateDetails.fields.map((k) => StateDetails.jsonKeys[k]))
        const back = Effect.runSync(Wire.decodeStateDetails(JSON.parse(JSON.stringify(json))))
        assert.deepStrictEqual(
          Effect.runSync(Wire.encodeStateDetails(back)),
          json
        )
      }),
      { seed, numRuns: 300 }
    )
  })
})
