import { Effect } from "effect"
import { ResultStore, Run } from "@runstate/core"

// Interruption is not a failure of the user's code: CRASHED, with Prefect's message.
export const program = Effect.map(
  Run.run(Effect.interrupt),
  (state) => `${state.type}: ${state.message}` // "CRASHED: Execution was cancelled by the runtime environment."
).pipe(Effect.provide(ResultStore.layerMemory))
