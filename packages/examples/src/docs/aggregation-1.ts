import { Effect } from "effect"
import { Aggregate, ResultStore, State } from "@runstate/core"

const summarize = (states: ReadonlyArray<State.State<unknown>>) =>
  Effect.map(Aggregate.returnValueToState(states), (state) => `${state.type} ${state.message}`)

export const program = Effect.all([
  summarize([State.Completed(), State.Failed(), State.Failed()]), // "FAILED 2/3 states failed."
  summarize([State.Completed(), State.Cancelled()]) // "CANCELLED 1/2 states cancelled."
]).pipe(Effect.provide(ResultStore.layerMemory))
