import { Effect } from "effect"
import { State, Wire } from "@runstate/core"

// A state as Prefect's API returns it (snake_case, microsecond timestamps, result metadata in data).
const fromPrefect = {
  id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e8f",
  type: "COMPLETED",
  name: "Completed",
  timestamp: "2024-01-01T12:00:03.517204Z",
  message: null,
  data: { storage_key: "/root/.prefect/storage/the-key", serializer: { type: "json" } },
  state_details: { flow_run_id: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70" }
}

export const program = Effect.gen(function*() {
  const state = yield* Wire.decodeStateResponse(fromPrefect)
  // ... and a proposal to send back to `set_state`.
  const proposal = yield* Wire.encodeStateCreate(Wire.toStateCreate(State.Running()))
  return { state: State.format(state), flowRunId: state.stateDetails.flowRunId, proposal: proposal.type }
})
