import { Effect } from "effect"
import { Failure, ResultStore, Run } from "@runstate/core"

const outcomes = [
  Effect.fail(new Error("boom")), // a typed failure: FAILED
  Effect.sleep("1 second").pipe(Effect.timeout("5 millis")), // a timeout: FAILED, named TimedOut
  Effect.fail(new Failure.TerminationSignal({ signal: 15 })) // a signal: CRASHED
]

export const program = Effect.forEach(outcomes, (effect) => Effect.map(Run.run(effect), (state) => state.type))
  .pipe(Effect.provide(ResultStore.layerMemory))
