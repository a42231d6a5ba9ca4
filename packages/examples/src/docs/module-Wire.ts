import { Effect } from "effect"
import { State, Wire } from "@runstate/core"

export const program = Effect.gen(function*() {
  // Unknown state names decode (the type must be one of the nine).
  const state = yield* Wire.decodeStateResponse({ type: "SCHEDULED", name: "WaitingForApproval" })
  const json = yield* Wire.encodeStateResponse(state)
  return { format: State.format(state), keys: Object.keys(json) }
})
