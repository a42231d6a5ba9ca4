import { Effect } from "effect"
import { ResultStore, Run, StateResult } from "@runstate/core"

export const program = Effect.gen(function*() {
  // Persist the task's result under a key of our choosing.
  const state = yield* Run.run(Effect.succeed({ rows: 42 }), { key: "daily-report", writeResult: true })
  // Read it back: from the state's record, or — from metadata alone — from the store.
  return yield* StateResult.getStateResult(state)
}).pipe(Effect.provide(ResultStore.layerMemory))
