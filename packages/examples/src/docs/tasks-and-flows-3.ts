import { Effect, Logger } from "effect"
import { Flow, ResultStore, State, Task } from "@runstate/core"

export const program = Effect.gen(function*() {
  const load = yield* Task.make(
    { name: "load" },
    (n: number) => n === 3 ? Effect.fail(new RangeError(`no partition ${n}`)) : Effect.succeed(n * 10)
  )
  // The flow's program: any Effect, with any concurrency.
  const etl = Effect.forEach([1, 2, 3], (n) => Task.run(load, n), { concurrency: 3 })
  const flow = yield* Flow.run(etl, { name: "etl" })
  return State.format(flow)
}).pipe(Effect.provide([ResultStore.layerMemory, Logger.layer([])]))
// "Failed('1/3 states failed.')"
