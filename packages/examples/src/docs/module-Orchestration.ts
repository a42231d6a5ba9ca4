import { DateTime, Effect } from "effect"
import { Orchestration, State } from "@runstate/core"

const now = DateTime.makeUnsafe("2026-01-01T12:00:00Z")

// A task run with two retries, 10 seconds apart, that has just run once.
const run = Orchestration.makeTaskRun({ runCount: 1, retries: 2, retryDelay: 10 })
const running = State.Running({ timestamp: now })

export const program = Effect.sync(() => {
  // FAILED with retries left: Prefect's server answers REJECT with an AwaitingRetry state instead.
  const failed = Orchestration.taskPolicy(running, State.Failed({ message: "boom" }), { now, run })
  // A client-built failure says retriable: false, so it is accepted as is.
  const final = Orchestration.taskPolicy(
    running,
    State.Failed({ message: "boom", stateDetails: { retriable: false } }),
    { now, run }
  )
  // A final run cannot crash.
  const crashed = Orchestration.taskPolicy(State.Completed(), State.Crashed(), { now, run })
  return {
    failed: [
      failed.status,
      failed.status === "REJECT" ? failed.reason : null,
      failed.status === "REJECT" ? failed.state?.name : null
    ],
    final: final.status,
    crashed: [crashed.status, crashed.status === "ABORT" ? crashed.reason : null]
  }
  // { failed: ["REJECT", "Retrying", "AwaitingRetry"], final: "ACCEPT", crashed: ["ABORT", "Run is already COMPLETED."] }
})
