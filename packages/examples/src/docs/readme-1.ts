import { Effect } from "effect"
import { Aggregate, ResultStore, Run, State } from "@runstate/core"

const tasks = [Effect.succeed(1), Effect.fail(new Error("boom")), Effect.succeed(3)]

const flow = Effect.gen(function*() {
  const states = yield* Effect.forEach(tasks, (task) => Run.run(task))
  const final = yield* Aggregate.returnValueToState(states)
  return State.format(final) // "Failed('1/3 states failed.')"
})

export const program = flow.pipe(Effect.provide(ResultStore.layerMemory))

if (import.meta.main) Effect.runPromise(program).then(console.log)
