import { Effect } from "effect"
import { State } from "@runstate/core"

// Predicates look at the type only, never at the name.
export const program = Effect.sync(() => {
  const retry = State.AwaitingRetry()
  return {
    scheduled: State.isScheduled(retry), // true: AwaitingRetry is a SCHEDULED state
    final: State.isFinal(retry), // false
    crashedIsFinal: State.isFinal(State.Crashed()), // true
    pausedIsFinal: State.isFinal(State.Paused()) // false: PAUSED is not terminal
  }
})
