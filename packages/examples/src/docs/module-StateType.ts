import { Effect } from "effect"
import { StateType } from "@runstate/core"

export const program = Effect.sync(() => ({
  all: StateType.all, // Prefect's order: SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, CRASHED, PAUSED, CANCELLING
  terminal: StateType.all.filter(StateType.isTerminal) // COMPLETED, FAILED, CANCELLED, CRASHED
}))
