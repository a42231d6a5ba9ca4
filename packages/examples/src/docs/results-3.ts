import { DateTime, Effect } from "effect"
import { ResultStore } from "@runstate/core"

export const program = Effect.gen(function*() {
  const store = yield* ResultStore.ResultStore
  const now = yield* DateTime.now
  yield* store.write("fresh", { key: "a", expiration: DateTime.add(now, { hours: 1 }) })
  yield* store.write("stale", { key: "b", expiration: DateTime.subtract(now, { hours: 1 }) })
  // `exists` honours expiration and reads metadata only.
  return { a: yield* store.exists("a"), b: yield* store.exists("b"), c: yield* store.exists("c") }
}).pipe(Effect.provide(ResultStore.layerMemory))
