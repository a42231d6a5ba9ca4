import { Effect } from "effect"
import { Compression, Serializer } from "@runstate/core"

// Records compressed with zlib or gzip read with no setup (the web CompressionStream);
// a record naming a library the platform lacks is a typed error; every read is bounded.
export const program = Effect.gen(function*() {
  const zlib = Serializer.compressedJson()
  const text = new TextDecoder().decode(yield* zlib.dumps({ rows: 42 }))
  const back = yield* zlib.loads(new TextEncoder().encode(text))
  const lzma = yield* Effect.flip(Serializer.compressedJson({ compressionlib: "lzma" }).dumps(1))
  const bounded = yield* Effect.flip(
    zlib.loads(new TextEncoder().encode(text)).pipe(Compression.withMaxDecompressedBytes(4))
  )
  return { back, lzma: lzma.message, bounded: bounded.message }
})
