import { Effect, Logger, Schema } from "effect"
import { KeyValueStore } from "effect/persistence"
import { ResultRecord, ResultStore, State, Task } from "@runstate/core"

class Upstream extends Schema.TaggedError<Upstream>()("Upstream", { status: Schema.Number, message: Schema.String }) {}

export const program = Effect.gen(function*() {
  const storage = yield* KeyValueStore.KeyValueStore
  const fetch = yield* Task.make(
    { name: "fetch", errorSchema: Upstream, persistResult: true },
    () => Effect.fail(new Upstream({ status: 503, message: "try later" }))
  )
  const failed = yield* Task.run(fetch).pipe(
    Effect.provideServiceEffect(ResultStore.ResultStore, ResultStore.make({ store: storage }))
  )
  // Another process has only the record's metadata (what Prefect's API keeps) and its own store.
  // A FAILED state holds the error, or (persisted) a record of it.
  const metadata = ResultRecord.isResultRecord(failed.data) ? failed.data.metadata : null
  const error = yield* Task.getError(fetch, State.Failed({ data: metadata })).pipe(
    Effect.provideServiceEffect(ResultStore.ResultStore, ResultStore.make({ store: storage }))
  )
  return { isUpstream: error instanceof Upstream, status: error.status, message: failed.message }
}).pipe(Effect.provide([KeyValueStore.layerMemory, Logger.layer([])]))
// { isUpstream: true, status: 503, message: "Task run encountered an exception Upstream: try later" }
