import { Effect } from "effect"
import { KeyValueStore } from "effect/persistence"
import { ResultStore } from "@runstate/core"
import { FaultInjection } from "@runstate/core/testing"

export const faulty = Effect.gen(function*() {
  const kv = yield* KeyValueStore.KeyValueStore
  const { controller, store } = FaultInjection.make(kv, { rate: 0.1, seed: 42 })
  yield* controller.failNext(3)
  return yield* ResultStore.make({ store })
}).pipe(Effect.provide(KeyValueStore.layerMemory))

export const program = Effect.gen(function*() {
  const store = yield* faulty
  const write = store.write({ rows: 42 }, { key: "daily-report" })
  const errors = [yield* Effect.flip(write), yield* Effect.flip(write), yield* Effect.flip(write)]
  yield* write // the fourth attempt goes through
  const record = yield* store.read("daily-report")
  return { errors: errors.map((e) => e._tag), result: record.result }
  // { errors: ["StorageError", "StorageError", "StorageError"], result: { rows: 42 } }
})
