import { Effect } from "effect"
import { IdGenerator, ResultStore } from "@runstate/core"

const twoKeys = Effect.gen(function*() {
  const store = yield* ResultStore.ResultStore
  const a = yield* store.createResultRecord("a")
  const b = yield* store.createResultRecord("b")
  return [a.metadata.storageKey, b.metadata.storageKey]
}).pipe(Effect.provide(ResultStore.layerMemory))

export const program = Effect.gen(function*() {
  // Storage keys (and state ids) are cryptographically secure by default ...
  const secure = yield* twoKeys
  // ... and deterministic under a seed, for tests.
  const first = yield* IdGenerator.withSeed("test")(twoKeys)
  const second = yield* IdGenerator.withSeed("test")(twoKeys)
  return { distinct: secure[0] !== secure[1], repeatable: JSON.stringify(first) === JSON.stringify(second) }
})
