import { Effect } from "effect"
import { ResultStore } from "@runstate/core"

export const report = Effect.gen(function*() {
  const store = yield* ResultStore.ResultStore
  yield* store.write({ rows: 42 }, { key: "daily-report" })
  const record = yield* store.read("daily-report")
  return record.result // { rows: 42 }
})

// The storage is chosen here, and only here.
export const program = report.pipe(Effect.provide(ResultStore.layerMemory))
