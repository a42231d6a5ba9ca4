import { Effect } from "effect"
import { State, StateDetails } from "@runstate/core"

export const program = Effect.sync(() => {
  const details = StateDetails.make({
    flowRunId: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70",
    cacheKey: "orders-2024-01-01"
  })
  const state = State.Completed({ stateDetails: details })
  return { flowRunId: state.stateDetails.flowRunId, taskRunId: state.stateDetails.taskRunId } // taskRunId: null
})
