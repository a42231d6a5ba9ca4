import { Effect } from "effect"
import * as fc from "fast-check"
import { StateGroup } from "@runstate/core"
import { Arbitraries } from "@runstate/core/testing"

// Law 1, "order does not matter", over runstate's own generators: any list of states
// (all nine types, named sub-states, custom names, any data) and a permutation of it.
const listAndPermutation = Arbitraries.states().chain((xs) =>
  fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length }))
)

const orderDoesNotMatter = fc.property(listAndPermutation, ([xs, ys]) => {
  const a = StateGroup.aggregate(StateGroup.make(xs))
  const b = StateGroup.aggregate(StateGroup.make(ys))
  return a.type === b.type && a.message === b.message
})

export const program = Effect.sync(() => {
  const result = fc.check(orderDoesNotMatter, { seed: Arbitraries.seedFromEnv(), numRuns: 200 })
  return { failed: result.failed, runs: result.numRuns } // { failed: false, runs: 200 }
})
