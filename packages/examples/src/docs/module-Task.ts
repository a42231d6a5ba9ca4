import { Effect, Logger } from "effect"
import { ResultStore, StateResult, Task } from "@runstate/core"

export const program = Effect.gen(function*() {
  const double = yield* Task.make({ name: "double", retries: 1 }, (n: number) => Effect.succeed(n * 2))
  const state = yield* Task.run(double, 21)
  const bad = yield* Effect.flip(Task.make({ name: "bad", retries: -1 }, () => Effect.void))
  return [state.name, yield* StateResult.getStateResult(state), bad._tag]
  // ["Completed", 42, "InvalidTaskOptions"]
}).pipe(Effect.provide([ResultStore.layerMemory, Logger.layer([])]))
