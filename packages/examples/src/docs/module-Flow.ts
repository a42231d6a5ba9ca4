import { Effect, Logger } from "effect"
import { Flow, ResultStore, State, Task } from "@runstate/core"

export const program = Effect.gen(function*() {
  const step = yield* Task.make({ name: "step" }, (n: number) => Effect.succeed(n))
  const flow = yield* Effect.forEach([1, 2], (n) => Task.run(step, n)).pipe(Flow.run({ name: "two-steps" }))
  return State.format(flow) // "Completed('All states completed.')"
}).pipe(Effect.provide([ResultStore.layerMemory, Logger.layer([])]))
