import { Effect } from "effect"
import { ResultStore, RunError, State, StateResult } from "@runstate/core"

export const program = StateResult.getStateResult(State.Paused()).pipe(
  Effect.catchTag("PausedRun", (error) => Effect.succeed(error.message)),
  Effect.catchIf(RunError.isRunError, (error) => Effect.succeed(error._tag)),
  Effect.provide(ResultStore.layerMemory)
) // "Run is paused, its result is not available."
