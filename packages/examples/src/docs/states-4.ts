import { Effect } from "effect"
import { Failure, ResultStore } from "@runstate/core"

// Interruption is not a failure of the user's code: CRASHED, with Prefect's message.
export const program = Effect.map(
  Failure.run(Effect.interrupt),
  (state) => `${state.type}: ${state.message}` // "CRASHED: Execution was cancelled by the runtime environment."
).pipe(Effect.provide(ResultStore.layerMemory))
