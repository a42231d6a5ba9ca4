import { Effect, Schedule } from "effect"
import { ResultStore, Run, StateResult } from "@runstate/core"

export const program = Effect.gen(function*() {
  const failed = yield* Run.run(Effect.fail(new Error("disk full")))
  // By default reading a failed state's result fails with its error ...
  const error = yield* Effect.flip(StateResult.getStateResult(failed))
  // ... `raiseOnFailure: false` returns it instead; `retrySchedule` replaces the read retries.
  const value = yield* StateResult.getStateResult(failed, {
    raiseOnFailure: false,
    retrySchedule: Schedule.spaced("50 millis").pipe(Schedule.upTo({ times: 3 }))
  })
  return { error: String(error), same: value === error }
}).pipe(Effect.provide(ResultStore.layerMemory))
