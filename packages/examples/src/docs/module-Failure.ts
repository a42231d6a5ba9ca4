import { Effect } from "effect"
import { Failure, ResultStore, Run } from "@runstate/core"

class Upstream extends Error {
  override readonly name = "Upstream"
}

export const program = Effect.gen(function*() {
  // `message` prefixes the failure text, as Prefect's exception_to_failed_state does.
  const failed = yield* Run.run(Effect.fail(new Upstream("503")), { message: "While fetching:" })
  const crashed = yield* Failure.exceptionToCrashedState(new Failure.InterruptSignal())
  return [failed.message, crashed.message]
  // ["While fetching: Upstream: 503", "Execution was aborted by an interrupt signal."]
}).pipe(Effect.provide(ResultStore.layerMemory))
