import { DateTime, Effect, Schema } from "effect"
import { ResultStore, Serializer } from "@runstate/core"

const Report = Schema.Struct({ rows: Schema.NumberFromString, at: Schema.DateTimeUtcFromString })

export const program = Effect.gen(function*() {
  // A typed store: values are encoded with the schema (storage holds Prefect's json of the encoded form) ...
  const typed = yield* ResultStore.ResultStore
  yield* typed.write({ rows: 42, at: DateTime.makeUnsafe("2026-01-02T03:04:05Z") }, { key: "report" })
  // ... and every read decodes — from the cache here, from storage in a fresh process.
  const report = (yield* typed.read("report")).result as typeof Report.Type
  // Any read can name a schema: the record's type follows it.
  const again = yield* typed.read("report", { schema: Report })
  return { rows: report.rows, at: DateTime.formatIso(again.result.at) }
}).pipe(Effect.provide(ResultStore.layerMemoryWith({ serializer: Serializer.schema(Report) })))
