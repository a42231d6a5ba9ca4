import { Effect } from "effect"
import { Aggregate, ResultStore, State, StateGroup } from "@runstate/core"

export const program = Effect.gen(function*() {
  // The counts behind the messages, as Prefect prints them.
  const group = StateGroup.make([State.Failed(), State.Running(), State.Crashed(), State.Running()])
  const counts = StateGroup.countsMessage(group) // "total=4, not_final=2, 'FAILED'=1, 'RUNNING'=2, 'CRASHED'=1"

  // Prefect does not look inside other values; `nested: true` does (opt-in).
  const value = { extract: State.Completed(), load: [State.Failed()] }
  const plain = yield* Aggregate.returnValueToState(value) // COMPLETED: the object is plain data
  const nested = yield* Aggregate.returnValueToState(value, { nested: true }) // FAILED "1/2 states failed."
  return { counts, plain: plain.type, nested: nested.type }
}).pipe(Effect.provide(ResultStore.layerMemory))
