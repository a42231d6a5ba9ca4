import { Effect } from "effect"
import { ResultStore, State, StateResult } from "@runstate/core"

export const program = Effect.gen(function*() {
  const store = yield* ResultStore.ResultStore
  // A record is created, then persisted; the state carries only its metadata (as a Prefect server does).
  const record = yield* store.persistResultRecord(yield* store.createResultRecord(42, { key: "answer" }))
  const state = State.Completed({ data: record.metadata })
  // Reading hydrates the record from storage, retrying on a schedule if it is not there yet.
  return yield* StateResult.getStateResult(state)
}).pipe(Effect.provide(ResultStore.layerMemory))
