import { Effect } from "effect"
import { Aggregate, ResultStore, Run, State } from "@runstate/core"

// Four tasks: one succeeds, one fails, one times out, one cancels itself.
const tasks = [
  Effect.succeed([1, 2, 3]),
  Effect.fail(new Error("connection refused")),
  Effect.sleep("1 second").pipe(Effect.timeout("10 millis")),
  Effect.succeed(State.Cancelled({ message: "switched off" }))
]

// The flow: run each task to its final state, then aggregate them (Prefect's rule).
export const flow = Effect.gen(function*() {
  const states = yield* Effect.forEach(tasks, (task) => Run.run(task))
  const final = yield* Aggregate.returnValueToState(states)
  return State.format(final)
})

// Run it on the in-memory store: "Cancelled('1/4 states cancelled.')"
export const program = flow.pipe(Effect.provide(ResultStore.layerMemory))
