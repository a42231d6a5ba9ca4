import { Effect } from "effect"
import { ResultStore, Run, StateResult } from "@runstate/core"

class Upstream extends Error {
  override readonly name = "Upstream"
}

export const program = Effect.gen(function*() {
  // A run's state is typed by its effect: RunState<{ rows: number }, Upstream>.
  const report = Effect.succeed({ rows: 42 }) as Effect.Effect<{ rows: number }, Upstream>
  const state = yield* report.pipe(Run.run({ key: "daily-report" }))
  // ... so reading the result back gives `{ rows: number }`, no casts.
  const { rows } = yield* StateResult.getStateResult(state)
  // `key` names a success's record only: a failure's error gets a fresh random key.
  const failed = yield* Effect.fail(new Upstream("503")).pipe(Run.run({ key: "daily-report" }))
  return { rows, failed: failed.message, failedUnderKey: JSON.stringify(failed.data).includes("daily-report") }
  // { rows: 42, failed: "Upstream: 503", failedUnderKey: false }
}).pipe(Effect.provide(ResultStore.layerMemory))
