import { Effect } from "effect"
import { Aggregate, ResultRecord, ResultStore, State, StateGroup } from "@runstate/core"

const states = [State.Completed(), State.Failed(), State.Running(), State.Cancelled()]
const group = StateGroup.make(states)

const aggregate = StateGroup.aggregate(group) // { type: "CANCELLED", message: "1/4 states cancelled." }
const counts = StateGroup.countsMessage(group)
// "total=4, not_final=1, 'COMPLETED'=1, 'FAILED'=1, 'RUNNING'=1, 'CANCELLED'=1"

const final = Aggregate.returnValueToState(states).pipe(Effect.provide(ResultStore.layerMemory))
// a CANCELLED state, message "1/4 states cancelled.", data: a result record of `states`

export const program = Effect.map(final, (state) => ({
  aggregate,
  counts,
  final: {
    type: state.type,
    message: state.message,
    data: ResultRecord.isResultRecord(state.data) && state.data.result === states
  }
}))
