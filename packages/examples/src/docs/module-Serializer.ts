import { Effect, Schema } from "effect"
import { ResultStore, Serializer } from "@runstate/core"

// Typed results: encoded and validated with a Schema, recorded as Prefect's `json` type.
const Report = Schema.Struct({ day: Schema.String, rows: Schema.Number })

export const program = Effect.gen(function*() {
  const store = yield* ResultStore.ResultStore
  yield* store.write({ day: "2024-01-01", rows: 42 }, { key: "report" })
  const invalid = yield* Effect.flip(store.write({ day: "2024-01-02", rows: "many" }, { key: "bad" }))
  // A serializer this runtime cannot run (Python's pickle) fails with a clear error, never a crash.
  const pickle = yield* Effect.flip(Serializer.unknown({ type: "pickle" }).loads(new Uint8Array([128, 5])))
  return { recordedAs: store.serializer.type, invalid: invalid._tag, pickle: pickle.message }
}).pipe(Effect.provide(ResultStore.layerMemoryWith({ serializer: Serializer.schema(Report) })))
