import { Effect } from "effect"
import { State } from "@runstate/core"

export const program = Effect.sync(() => {
  const running = State.Running({ message: "attempt 1" })
  // States are immutable: `update` returns a new state, `freshCopy` one with a new id and timestamps.
  const done = State.update(running, { data: "ok" })
  return {
    format: State.format(State.Completed({ message: "ok" })), // "Completed('ok')"
    inspect: State.inspect(State.Completed()), // "Completed(message=None, type=COMPLETED, result=None)"
    generic: State.format(State.make({ type: "FAILED", name: "Exploded" })), // "Exploded(type=FAILED)"
    before: running.data, // null
    after: done.data // "ok"
  }
})
