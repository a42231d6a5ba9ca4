import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Compression, RunError, Serializer } from "@runstate/core"

const enc = new TextEncoder()
const bytes = (s: string) => enc.encode(s)

/** `n` zero bytes deflated by the web `CompressionStream` (Python's zlib format): a small "bomb". */
const deflatedZeros = (n: number) =>
  Effect.promise(() =>
    new Response(new Blob([new Uint8Array(n)]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer()
      .then((b) => new Uint8Array(b))
  )

const base64Lines = (b: Uint8Array): Uint8Array => {
  const text = Buffer.from(b).toString("base64")
  let out = ""
  for (let i = 0; i < text.length; i += 76) out += text.slice(i, i + 76) + "\n"
  return bytes(out)
}

describe("Compression (core default: web CompressionStream)", () => {
  it.effect("compresses and decompresses zlib and gzip without any layer", () =>
    Effect.gen(function*() {
      for (const lib of ["zlib", "gzip"]) {
        const data = bytes(`{"a": [1, 2, 3], "lib": "${lib}"}`)
        const back = yield* Compression.decompress(lib, yield* Compression.compress(lib, data))
        expect(back).toEqual(data)
      }
    }))

  it.effect("a library the platform lacks is a typed CompressionError with Prefect-style text", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Compression.decompress("lzma", bytes("x")))
      assert.instanceOf(error, Compression.CompressionError)
      expect(error.message).toBe(
        "Compression library 'lzma' is not available in this environment, so deserialization cannot be performed."
      )
      const viaSerializer = yield* Effect.flip(Serializer.compressedJson({ compressionlib: "lzma" }).dumps(1))
      assert.instanceOf(viaSerializer, RunError.SerializationError)
      expect(viaSerializer.message).toBe(
        "Compression library 'lzma' is not available in this environment, so serialization cannot be performed."
      )
    }))

  it.effect("output past maxDecompressedBytes stops with DecompressedSizeExceeded naming the limit", () =>
    Effect.gen(function*() {
      const bomb = yield* deflatedZeros(1_000_000)
      assert.isBelow(bomb.byteLength, 2_000)
      const error = yield* Effect.flip(
        Compression.decompress("zlib", bomb).pipe(Compression.withMaxDecompressedBytes(100_000))
      )
      assert.instanceOf(error, Compression.DecompressedSizeExceeded)
      expect(error.limit).toBe(100_000)
      expect(error.message).toBe(
        "Decompressed data ('zlib') exceeds the limit of 100000 bytes (maxDecompressedBytes)"
      )
      // At the limit exactly it succeeds.
      const exact = yield* Compression.decompress("zlib", bomb).pipe(Compression.withMaxDecompressedBytes(1_000_000))
      expect(exact.byteLength).toBe(1_000_000)
    }))

  it.effect("a compressed/json bomb is a SerializationError caused by the limit, not 'not valid UTF-8'", () =>
    Effect.gen(function*() {
      const record = base64Lines(yield* deflatedZeros(2_000_000))
      const error = yield* Effect.flip(
        Serializer.compressedJson().loads(record).pipe(Compression.withMaxDecompressedBytes(1_000_000))
      )
      assert.instanceOf(error, RunError.SerializationError)
      assert.instanceOf(error.cause, Compression.DecompressedSizeExceeded)
      expect(error.message).toContain("exceeds the limit of 1000000 bytes")
      expect(error.message).not.toContain("UTF-8")
    }))

  it.effect("a library that ignores the bound still cannot return more; bad bounds fall back to the default", () =>
    Effect.gen(function*() {
      const careless: Compression.Compression = {
        libraries: {
          fill: { compress: Effect.succeed, decompress: () => Effect.succeed(new Uint8Array(1_000)) }
        },
        maxDecompressedBytes: 999
      }
      const error = yield* Effect.flip(
        Compression.decompress("fill", new Uint8Array(1)).pipe(Effect.provideService(Compression.Compression, careless))
      )
      assert.instanceOf(error, Compression.DecompressedSizeExceeded)
      expect(error.limit).toBe(999)
      for (const bad of [Number.NaN, -1]) {
        const out = yield* Compression.decompress("fill", new Uint8Array(1)).pipe(
          Effect.provideService(Compression.Compression, { ...careless, maxDecompressedBytes: bad })
        )
        expect(out.byteLength).toBe(1_000)
      }
      const unbounded = yield* Compression.decompress("zlib", yield* deflatedZeros(10_000)).pipe(
        Compression.withMaxDecompressedBytes(Infinity)
      )
      expect(unbounded.byteLength).toBe(10_000)
    }))

  it("the default bound is 256 MiB", () => {
    expect(Compression.defaultMaxDecompressedBytes).toBe(256 * 1024 * 1024)
    expect(Compression.web.maxDecompressedBytes).toBe(Compression.defaultMaxDecompressedBytes)
  })

  it.effect("a provided service replaces the default", () =>
    Effect.gen(function*() {
      const calls: Array<string> = []
      const service: Compression.Compression = {
        libraries: {
          rot: {
            compress: (b) => Effect.sync(() => (calls.push("compress"), b.map((x) => x ^ 1))),
            decompress: (b) => Effect.sync(() => (calls.push("decompress"), b.map((x) => x ^ 1)))
          }
        },
        maxDecompressedBytes: 10
      }
      const serializer = yield* Serializer.fromJson({ type: "compressed/json", compressionlib: "rot" })
      const value = yield* Effect.flatMap(serializer.dumps({ a: 1 }), serializer.loads).pipe(
        Effect.provideService(Compression.Compression, service)
      )
      expect(value).toEqual({ a: 1 })
      expect(calls).toEqual(["compress", "decompress"])
      // Outside the provided service, the default has no 'rot'.
      expect((yield* Effect.flip(serializer.dumps(1))).message).toContain("'rot' is not available")
    }))
})
