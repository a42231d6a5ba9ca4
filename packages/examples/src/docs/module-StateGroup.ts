import { Effect } from "effect"
import { State, StateGroup } from "@runstate/core"

export const program = Effect.sync(() => {
  const group = StateGroup.make([State.Completed(), State.Failed(), State.Paused()])
  return {
    failCount: group.failCount, // 1
    allFinal: StateGroup.allFinal(group), // false: PAUSED is not final
    aggregate: StateGroup.aggregate(group) // { type: "PAUSED", message: "1/3 states paused." }
  }
})
