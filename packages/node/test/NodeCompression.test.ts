import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { deflateSync, gzipSync } from "node:zlib"
import { Compression, ResultRecord, RunError, Serializer } from "@runstate/core"
import { NodeCompression } from "@runstate/node"

const enc = new TextEncoder()
const dec = new TextDecoder()
const bytes = (s: string) => enc.encode(s)

// Generated with CPython 3.11 (liblzma 5.4): base64.encodebytes(lzma.compress(json.dumps(v).encode())) etc.
const v1 = { a: [1, 2, 3], b: null, s: "The results are in..." }
const python = {
  lzma1:
    "/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQA4eyJhIjogWzEsIDIsIDNdLCAiYiI6IG51bGwsICJz\nIjogIlRoZSByZXN1bHRzIGFyZSBpbi4uLiJ9AAAAAIHK9y6kbl/TAAFROTZRI9wftvN9AQAAAAAE\nWVo=\n",
  // v2 = [{"i": i, "name": "item %d" % i, "ok": i % 3 == 0} for i in range(60)] (2,540 bytes of JSON)
  lzma2:
    "/Td6WFoAAATm1rRGAgAhARYAAAB0L+Wj4AnrAQpdAC2ewEaRJG9eKsRs9XGvGtCF/Vj88uNWjFsa\nhh/OVhLPBlGNfvQSaHJrgYNR4334LhNZbk6kW134DwETkvHl0+Lju0t+kv7IvK6+yMt6cahP6ABB\ngd81Zu5yu/af4fNFVwA40alDvXvystGRAD5oEpCrADgS3CWy1hebhgvgA3PmfSKY6QqvhzEVFLYV\nlf7f1uhmyQgf83qZssEPz7zIN7V1v9ZTDWNPG0axO5XRzCfHKvl3wIvnOTMQcviIgRmlSuniAOjS\nVL5QoKFEbmvTNJNRGnktgcpLee9HBwwemN0lArwHuwsoOeRY3em76Kn1xMKA6CG8nuRrtOjqJ8a4\nvowfsuZzlpwBA0rAAAAARAU/lCkoaDgAAaYC7BMAAOeWGfSxxGf7AgAAAAAEWVo=\n",
  lzmaEmpty: "/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQABIiIAAADIe5u8LD35pAABGgLcLqV+H7bzfQEAAAAA\nBFla\n",
  zlib1: "eJyrVkpUslKINtRRMNJRMI7VUVBKAvLzSnNygMxiIFMpJCNVoSi1uDSnpFghsShVITNPT09PqRYA\no/sPsg==\n",
  // gzip.compress(..., mtime=0)
  gzip1: "H4sIAAAAAAACA6tWSlSyUog21FEw0lEwjtVRUEoC8vNKc3KAzGIgUykkI1WhKLW4NKekWCGxKFUh\nM09PT0+pFgAaOZlUOQAAAA==\n"
}
const v2 = Array.from({ length: 60 }, (_, i) => ({ i, name: `item ${i}`, ok: i % 3 === 0 }))

const lzma = Serializer.compressedJson({ compressionlib: "lzma" })

const base64Lines = (b: Uint8Array): Uint8Array => {
  const text = Buffer.from(b).toString("base64")
  let out = ""
  for (let i = 0; i < text.length; i += 76) out += text.slice(i, i + 76) + "\n"
  return bytes(out)
}

describe("NodeCompression", () => {
  it.effect("lzma: dumps writes CPython's lzma.compress + base64.encodebytes bytes exactly", () =>
    Effect.gen(function*() {
      expect(dec.decode(yield* lzma.dumps(v1))).toBe(python.lzma1)
      expect(dec.decode(yield* lzma.dumps(v2))).toBe(python.lzma2)
      expect(dec.decode(yield* lzma.dumps(""))).toBe(python.lzmaEmpty)
    }).pipe(Effect.provide(NodeCompression.layer)))

  it.effect("lzma: loads reads CPython's output, with or without newlines", () =>
    Effect.gen(function*() {
      expect(yield* lzma.loads(bytes(python.lzma1))).toEqual(v1)
      expect(yield* lzma.loads(bytes(python.lzma2.replace(/\n/g, "")))).toEqual(v2)
      expect(yield* lzma.loads(bytes(python.lzmaEmpty))).toBe("")
    }).pipe(Effect.provide(NodeCompression.layer)))

  it.effect("lzma: concatenated streams are joined and trailing garbage is ignored, as lzma.decompress does", () =>
    Effect.gen(function*() {
      const one = Buffer.from(python.lzma1, "base64")
      const text = (b: Uint8Array) => dec.decode(b)
      const expected = JSON.stringify(v1).replace(/,/g, ", ").replace(/:/g, ": ")
      expect(text(yield* Compression.decompress("lzma", Buffer.concat([one, one])))).toBe(expected + expected)
      expect(text(yield* Compression.decompress("lzma", Buffer.concat([one, Buffer.from("garbage")])))).toBe(expected)
      // Garbage alone, or a truncated first stream, is an error.
      assert.instanceOf(
        yield* Effect.flip(Compression.decompress("lzma", Buffer.from("garbage"))),
        Compression.CompressionError
      )
      // The bound counts every stream.
      const error = yield* Effect.flip(
        Compression.decompress("lzma", Buffer.concat([one, one])).pipe(
          Compression.withMaxDecompressedBytes(expected.length + 1)
        )
      )
      assert.instanceOf(error, Compression.DecompressedSizeExceeded)
    }).pipe(Effect.provide(NodeCompression.layer)))

  it.effect("a record with Prefect's default compressed/json metadata (lzma) reads back", () =>
    Effect.gen(function*() {
      const record =
        `{"metadata":{"storage_key":"/root/.prefect/storage/k","expiration":null,"serializer":{"type":"compressed/json","serializer":{"type":"json","jsonlib":"json","object_encoder":"prefect.serializers.prefect_json_object_encoder","object_decoder":"prefect.serializers.prefect_json_object_decoder","dumps_kwargs":{},"loads_kwargs":{}},"compressionlib":"lzma"},"prefect_version":"3.8.4","storage_block_id":null},"result":${
          JSON.stringify(python.lzma1)
        }}`
      const read = yield* ResultRecord.deserialize(bytes(record))
      expect(read.result).toEqual(v1)
      expect(read.metadata.serializer.fields["compressionlib"]).toBe("lzma")
      // Without the Node layer the same record is a typed error, not a crash.
      const error = yield* Effect.flip(
        ResultRecord.deserialize(bytes(record)).pipe(Effect.provideService(Compression.Compression, Compression.web))
      )
      assert.instanceOf(error, RunError.SerializationError)
      expect(error.message).toContain("'lzma' is not available in this environment")
    }).pipe(Effect.provide(NodeCompression.layer)))

  it.effect("zlib and gzip: read CPython's output and round-trip through node:zlib", () =>
    Effect.gen(function*() {
      const zlib = Serializer.compressedJson()
      const gzip = Serializer.compressedJson({ compressionlib: "gzip" })
      expect(yield* zlib.loads(bytes(python.zlib1))).toEqual(v1)
      expect(yield* gzip.loads(bytes(python.gzip1))).toEqual(v1)
      for (const s of [zlib, gzip, lzma]) expect(yield* Effect.flatMap(s.dumps(v2), s.loads)).toEqual(v2)
      // What node:zlib writes, the web default reads (and the other way round).
      const written = yield* zlib.dumps(v1)
      expect(yield* zlib.loads(written).pipe(Effect.provideService(Compression.Compression, Compression.web)))
        .toEqual(v1)
    }).pipe(Effect.provide(NodeCompression.layer)))

  it.effect("corrupt or truncated data is a typed CompressionError", () =>
    Effect.gen(function*() {
      const good = Buffer.from(python.lzma1, "base64")
      for (const lib of ["zlib", "gzip", "lzma"]) {
        const truncated = lib === "lzma" ? good.subarray(0, 40) : Buffer.from("not compressed at all")
        const error = yield* Effect.flip(Compression.decompress(lib, truncated))
        assert.instanceOf(error, Compression.CompressionError)
        expect(error.message).toMatch(new RegExp(`^Failed to decompress with '${lib}': `))
      }
      const error = yield* Effect.flip(Compression.decompress("bz2", good))
      expect(error.message).toBe(
        "Compression library 'bz2' is not available in this environment, so deserialization cannot be performed."
      )
    }).pipe(Effect.provide(NodeCompression.layer)))

  it.effect("bombs: every library stops at maxDecompressedBytes with DecompressedSizeExceeded", () =>
    Effect.gen(function*() {
      const zeros = new Uint8Array(4_000_000)
      const bombs: ReadonlyArray<readonly [string, Uint8Array]> = [
        ["zlib", deflateSync(zeros)],
        ["gzip", gzipSync(zeros)],
        ["lzma", yield* Compression.compress("lzma", zeros)]
      ]
      for (const [lib, bomb] of bombs) {
        assert.isBelow(bomb.byteLength, 10_000)
        const error = yield* Effect.flip(
          Compression.decompress(lib, bomb).pipe(Compression.withMaxDecompressedBytes(1_000_000))
        )
        assert.instanceOf(error, Compression.DecompressedSizeExceeded, lib)
        expect(error.limit).toBe(1_000_000)
        expect(error.library).toBe(lib)
        // Through the serializer: a SerializationError naming the limit, no "not valid UTF-8".
        const serializer = Serializer.compressedJson({ compressionlib: lib as "zlib" })
        const viaSerializer = yield* Effect.flip(
          serializer.loads(base64Lines(bomb)).pipe(Compression.withMaxDecompressedBytes(1_000_000))
        )
        expect(viaSerializer.message).toBe(
          `Decompressed data ('${lib}') exceeds the limit of 1000000 bytes (maxDecompressedBytes)`
        )
        // Exactly at the limit it is read.
        const exact = yield* Compression.decompress(lib, bomb).pipe(Compression.withMaxDecompressedBytes(4_000_000))
        expect(exact.byteLength).toBe(4_000_000)
      }
    }).pipe(Effect.provide(NodeCompression.layerWith({ maxDecompressedBytes: 1 }))))

  it.effect("layerWith sets the bound; the default layer allows 256 MiB", () =>
    Effect.gen(function*() {
      const bomb = deflateSync(new Uint8Array(2_000))
      const error = yield* Effect.flip(
        Compression.decompress("zlib", bomb).pipe(
          Effect.provide(NodeCompression.layerWith({ maxDecompressedBytes: 1_000 }))
        )
      )
      assert.instanceOf(error, Compression.DecompressedSizeExceeded)
      expect(error.limit).toBe(1_000)
      expect(NodeCompression.make().maxDecompressedBytes).toBe(256 * 1024 * 1024)
    }))
})
