import { Effect } from "effect"
import { State } from "@runstate/core"

// Named states are states of one of the nine types, with their own name.
export const program = Effect.sync(() => [
  State.format(State.Completed()), // "Completed()"
  State.format(State.AwaitingRetry()), // "AwaitingRetry(type=SCHEDULED)"
  State.format(State.Late({ message: "behind" })) // "Late('behind', type=SCHEDULED)"
])
