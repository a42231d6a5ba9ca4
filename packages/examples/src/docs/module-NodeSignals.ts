import { Effect } from "effect"
import { ResultStore } from "@runstate/core"
import { NodeSignals } from "@runstate/node"

// While the run is in progress, SIGINT/SIGTERM crash the run instead of killing the process.
export const program = Effect.gen(function*() {
  const state = yield* NodeSignals.runWithSignals(Effect.succeed("done"))
  return [state.type, NodeSignals.exitCode("SIGTERM")] // ["COMPLETED", 143]
}).pipe(Effect.provide(ResultStore.layerMemory))

// In a program's entry point: `NodeSignals.runMain(program)` exits with 130/143 after a signal.
