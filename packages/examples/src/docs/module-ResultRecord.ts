import { Effect } from "effect"
import { ResultRecord, Serializer } from "@runstate/core"

export const program = Effect.gen(function*() {
  const record = ResultRecord.make({
    metadata: ResultRecord.makeMetadata({ storageKey: "/root/.prefect/storage/the-key", serializer: Serializer.json }),
    result: "The results are in..."
  })
  // Prefect's envelope, byte for byte ...
  const bytes = yield* ResultRecord.serialize(record)
  const text = new TextDecoder().decode(bytes)
  // ... and back; a raw value (Prefect's flow results) reads through a backup serializer.
  const back = yield* ResultRecord.deserialize(bytes)
  const raw = yield* ResultRecord.deserialize(new TextEncoder().encode(`{"rows": 42}`), Serializer.json)
  return { starts: text.slice(0, 60), result: back.result, raw: raw.result }
})
