import { Effect } from "effect"
import { Aggregate, ResultStore, State } from "@runstate/core"

export const program = Effect.gen(function*() {
  // A plain value becomes COMPLETED with a result record; a hand-made state is kept as it is.
  const value = yield* Aggregate.returnValueToState({ rows: 3 }, { key: "rows" })
  const manual = yield* Aggregate.returnValueToState(State.Cancelled({ message: "skipped" }))
  return [State.format(value), State.format(manual)] // ["Completed()", "Cancelled('skipped')"]
}).pipe(Effect.provide(ResultStore.layerMemory))
