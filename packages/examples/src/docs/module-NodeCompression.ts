import { Effect } from "effect"
import { ResultRecord, Serializer } from "@runstate/core"
import { NodeCompression } from "@runstate/node"

// Prefect's default compressed serializer (`compressed/json` with lzma), read and written
// byte for byte as CPython writes it, once NodeCompression.layer is provided.
export const program = Effect.gen(function*() {
  const lzma = Serializer.compressedJson({ compressionlib: "lzma" })
  const text = new TextDecoder().decode(yield* lzma.dumps({ a: [1, 2, 3], b: null, s: "The results are in..." }))
  const record = ResultRecord.make({
    metadata: ResultRecord.makeMetadata({ storageKey: "k", serializer: lzma }),
    result: { rows: 42 }
  })
  const read = yield* ResultRecord.deserialize(yield* ResultRecord.serialize(record))
  return { text, result: read.result }
}).pipe(Effect.provide(NodeCompression.layer))
