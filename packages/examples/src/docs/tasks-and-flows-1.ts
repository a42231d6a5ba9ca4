import { Effect, Logger } from "effect"
import { ResultStore, RunLog, State, StateResult, Task } from "@runstate/core"

class Unavailable extends Error {
  override name = "Unavailable"
}

export const program = Effect.gen(function*() {
  let calls = 0
  // Fails twice, then answers: two retries are enough.
  const fetchPrices = yield* Task.make(
    { name: "fetch-prices", retries: 2 },
    (sku: string) =>
      Effect.suspend(() => ++calls <= 2 ? Effect.fail(new Unavailable("503")) : Effect.succeed({ sku, price: 4.5 }))
  )
  const state = yield* Task.run(fetchPrices, "tea")
  // The value is typed: { sku: string; price: number }.
  const { price } = yield* StateResult.getStateResult(state)
  // Every transition went to the run history.
  const history = yield* (yield* RunLog.RunLog).history(state.stateDetails.taskRunId!)
  return { final: State.format(state), price, history: history.map((t) => t.to.name) }
}).pipe(
  Effect.provide([ResultStore.layerMemory, RunLog.layerMemory, Logger.layer([])])
)
// { final: "Completed()", price: 4.5,
//   history: ["Pending", "Running", "Retrying", "Retrying", "Completed"] }
