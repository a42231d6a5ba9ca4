import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { randomIdFrom, uuid4FromBytes } from "../src/internal/runContext.ts"
import { seed } from "./arbitraries.ts"

/** A `Random` that hands out the given draws in order. */
const replaying = (draws: ReadonlyArray<number>) => {
  let i = 0
  return {
    nextDoubleUnsafe: () => draws[i++]!,
    nextIntUnsafe: () => {
      throw new Error("a task run id draws doubles only")
    }
  }
}

const draw = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

describe("task run ids", () => {
  it("law: randomIdFrom = uuid4FromBytes of its 16 draws scaled to bytes (a seeded Random keeps its ids)", () => {
    fc.assert(
      fc.property(fc.array(draw, { minLength: 16, maxLength: 16 }), (draws) => {
        const random = replaying(draws)
        const id = randomIdFrom(random as never)
        assert.strictEqual(id, uuid4FromBytes(draws.map((d) => Math.floor(d * 256))))
        assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      }),
      { seed, numRuns: 200 }
    )
  })

  it("the extremes of the draws give the extreme bytes, version and variant set", () => {
    assert.strictEqual(randomIdFrom(replaying(Array(16).fill(0)) as never), "00000000-0000-4000-8000-000000000000")
    assert.strictEqual(
      randomIdFrom(replaying(Array(16).fill(0.9999999)) as never),
      "ffffffff-ffff-4fff-bfff-ffffffffffff"
    )
  })
})
