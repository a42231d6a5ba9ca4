import { Effect } from "effect"
import { ResultStore } from "@runstate/core"

export const program = Effect.gen(function*() {
  const store = yield* ResultStore.ResultStore
  yield* store.write({ rows: 42 }, { key: "daily-report" })
  const record = yield* store.read("daily-report")
  return { result: record.result, key: record.metadata.storageKey, serializer: store.serializer.type }
}).pipe(Effect.provide(ResultStore.layerMemory))
