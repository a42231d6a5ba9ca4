import { Effect } from "effect"
import { ResultStore, RunError, State, StateResult } from "@runstate/core"

export const program = Effect.gen(function*() {
  // The exception a failed state stands for (Prefect's get_state_exception) ...
  const exception = yield* StateResult.getStateException(State.Failed({ message: "bad input" }))
  // ... and the errors for states that have no result yet.
  const unfinished = yield* Effect.flip(StateResult.getStateResult(State.Running()))
  return [exception.message, RunError.isRunError(unfinished) ? unfinished._tag : "other"]
  // ["bad input", "UnfinishedRun"]
}).pipe(Effect.provide(ResultStore.layerMemory))
