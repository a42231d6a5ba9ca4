/**
 * Node's compression libraries for the `Compression` service of
 * `@runstate/core`: `zlib` and `gzip` through `node:zlib` (synchronous, far
 * faster than the web `CompressionStream` for the small payloads results
 * usually are), and `lzma` — Prefect's default `compressionlib` — through
 * liblzma itself, compiled to WebAssembly and shipped inside the npm package
 * `node-liblzma` (no native build, every platform Node runs on). It writes the
 * xz container with the defaults of CPython's `lzma.compress` (preset 6,
 * CRC64 check), byte for byte, and reads xz and legacy `.lzma` data as
 * `lzma.decompress` does (concatenated streams; trailing data after a complete
 * stream ignored).
 *
 * Every decompression stops at the service's `maxDecompressedBytes` and fails
 * with `Compression.DecompressedSizeExceeded`.
 *
 * `node-liblzma` is an optional dependency: where it is missing, `lzma` fails
 * with a `CompressionError` saying so, and `zlib`/`gzip` still work.
 *
 * @since 0.2.0
 */
import * as buffer from "node:buffer"
import * as zlib from "node:zlib"
import * as Compression from "@runstate/core/Compression"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as LiblzmaWasm from "node-liblzma/wasm"

const messageOf = (e: unknown): string => e instanceof Error ? e.message : String(e)

const failure = (library: string, operation: "compress" | "decompress", cause: unknown) =>
  new Compression.CompressionError({
    library,
    operation,
    message: `Failed to ${operation} with '${library}': ${messageOf(cause)}`,
    cause
  })

const isTooLarge = (e: unknown): boolean =>
  e instanceof RangeError && (e as { readonly code?: unknown }).code === "ERR_BUFFER_TOO_LARGE"

const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

const zlibLibrary = (
  library: string,
  compressSync: (bytes: Uint8Array) => Buffer,
  decompressSync: (bytes: Uint8Array, options: zlib.ZlibOptions) => Buffer
): Compression.Library => ({
  compress: (bytes) =>
    Effect.try({ try: () => toBytes(compressSync(bytes)), catch: (cause) => failure(library, "compress", cause) }),
  decompress: (bytes, maxBytes) =>
    Effect.suspend(() => {
      try {
        // `maxOutputLength` makes zlib stop (RangeError ERR_BUFFER_TOO_LARGE) instead of inflating a bomb.
        const maxOutputLength = Math.min(Math.max(1, maxBytes), buffer.constants.MAX_LENGTH)
        return Effect.succeed(toBytes(decompressSync(bytes, { maxOutputLength })))
      } catch (cause) {
        return Effect.fail(
          isTooLarge(cause) ? Compression.sizeExceeded(library, maxBytes) : failure(library, "decompress", cause)
        )
      }
    })
})

// ---------------------------------------------------------------------------------------
// lzma (xz) through liblzma compiled to WebAssembly
// ---------------------------------------------------------------------------------------

type Wasm = typeof LiblzmaWasm

/** Loads the WebAssembly liblzma once per process (Node caches the module; its instance is machinery, no data). */
const loadWasm: Effect.Effect<
  { readonly wasm: Wasm; readonly module: Awaited<ReturnType<Wasm["initModule"]>> },
  Compression.CompressionError
> = Effect.tryPromise({
  try: async () => {
    const wasm = await import("node-liblzma/wasm")
    return { wasm, module: await wasm.initModule() }
  },
  catch: (cause) =>
    new Compression.CompressionError({
      library: "lzma",
      operation: "decompress",
      message:
        `Compression library 'lzma' is not available in this environment: the optional dependency node-liblzma could not be loaded (${
          messageOf(cause)
        })`,
      cause
    })
})

const LZMA_OK = 0
const LZMA_STREAM_END = 1
const LZMA_RUN = 0
const LZMA_FINISH = 3
const LZMA_CHECK_CRC64 = 4
/** liblzma's own bound on the decoder's memory (dictionary and state), as `lzma.decompress(memlimit=None)` has none. */
const decoderMemlimit = 2n ** 62n
const outChunk = 64 * 1024

const lzmaErrors: { readonly [code: number]: string } = {
  5: "Memory allocation failed",
  6: "Memory usage limit was reached",
  7: "Input format not supported by decoder",
  8: "Invalid or unsupported options",
  9: "Corrupt input data",
  10: "Compressed data ended before the end-of-stream marker was reached",
  11: "Internal error"
}

/** Too much output: the code loop stops and this is returned instead of the bytes. */
const Exceeded = Symbol.for("@runstate/node/NodeCompression/Exceeded")

/**
 * Runs a liblzma stream over `input` (`init` sets it up as encoder or
 * decoder), collecting output in 64 KiB steps; stops once more than `maxBytes`
 * came out. Throws a message for liblzma errors.
 */
const runStream = (
  loaded: Effect.Success<typeof loadWasm>,
  input: Uint8Array,
  init: (ptr: number) => number,
  maxBytes: number
): { readonly out: Uint8Array; readonly rest: number } | typeof Exceeded => {
  const { module, wasm } = loaded
  const stream = new wasm.WasmLzmaStream(module)
  const inPtr = wasm.copyToWasm(module, input)
  const outPtr = module._malloc(outChunk)
  try {
    const ret = init(stream.ptr)
    if (ret !== LZMA_OK) throw new Error(lzmaErrors[ret] ?? `liblzma error ${ret}`)
    stream.setInput(inPtr, input.byteLength)
    const chunks: Array<Uint8Array> = []
    let total = 0
    for (;;) {
      stream.setOutput(outPtr, outChunk)
      const code = module._lzma_code(stream.ptr, stream.availIn === 0 ? LZMA_FINISH : LZMA_RUN)
      const produced = outChunk - stream.availOut
      if (produced > 0) {
        total += produced
        if (total > maxBytes) return Exceeded
        chunks.push(wasm.copyFromWasm(module, outPtr, produced))
      }
      if (code === LZMA_STREAM_END) break
      if (code !== LZMA_OK) throw new Error(lzmaErrors[code] ?? `liblzma error ${code}`)
    }
    const out = new Uint8Array(total)
    let offset = 0
    for (const c of chunks) {
      out.set(c, offset)
      offset += c.byteLength
    }
    return { out, rest: stream.availIn }
  } finally {
    module._lzma_end(stream.ptr)
    stream.free()
    module._free(inPtr)
    module._free(outPtr)
  }
}

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.byteLength
  }
  return out
}

/**
 * CPython's `lzma.decompress`: streams one after another (xz or legacy
 * `.lzma`, detected per stream), until the input ends; data after at least one
 * complete stream that is not another stream (padding, garbage) is ignored.
 */
const decodeAll = (
  loaded: Effect.Success<typeof loadWasm>,
  input: Uint8Array,
  maxBytes: number
): Uint8Array | typeof Exceeded => {
  const parts: Array<Uint8Array> = []
  let total = 0
  let offset = 0
  do {
    let step: ReturnType<typeof runStream>
    try {
      step = runStream(
        loaded,
        input.subarray(offset),
        (ptr) => loaded.module._lzma_auto_decoder(ptr, decoderMemlimit, 0),
        maxBytes - total
      )
    } catch (cause) {
      if (parts.length > 0) break
      throw cause
    }
    if (step === Exceeded) return Exceeded
    parts.push(step.out)
    total += step.out.byteLength
    offset = input.byteLength - step.rest
  } while (offset < input.byteLength)
  return concat(parts)
}

const lzmaLibrary: Compression.Library = {
  compress: (bytes) =>
    Effect.flatMap(
      Effect.mapError(loadWasm, (e) => new Compression.CompressionError({ ...e, operation: "compress" })),
      (loaded) =>
        Effect.try({
          try: () => {
            const step = runStream(
              loaded,
              bytes,
              (ptr) => loaded.module._lzma_easy_encoder(ptr, 6, LZMA_CHECK_CRC64),
              Number.POSITIVE_INFINITY
            )
            if (step === Exceeded) throw new Error("unreachable: no bound on compression")
            return step.out
          },
          catch: (cause) => failure("lzma", "compress", cause)
        })
    ),
  decompress: (bytes, maxBytes) =>
    Effect.flatMap(loadWasm, (loaded) =>
      Effect.flatMap(
        Effect.try({
          try: () => decodeAll(loaded, bytes, maxBytes),
          catch: (cause) => failure("lzma", "decompress", cause)
        }),
        (out) => out === Exceeded ? Effect.fail(Compression.sizeExceeded("lzma", maxBytes)) : Effect.succeed(out)
      ))
}

/**
 * The libraries: `zlib` (`node:zlib` deflate, Python's `zlib`), `gzip` and
 * `lzma` (xz, as CPython's `lzma`).
 *
 * @category constructors
 * @since 0.2.0
 */
export const libraries: { readonly [name: string]: Compression.Library } = {
  zlib: zlibLibrary("zlib", (b) => zlib.deflateSync(b), (b, o) => zlib.inflateSync(b, o)),
  gzip: zlibLibrary("gzip", (b) => zlib.gzipSync(b), (b, o) => zlib.gunzipSync(b, o)),
  lzma: lzmaLibrary
}

/**
 * The Node service with a given bound on decompressed size (default
 * `Compression.defaultMaxDecompressedBytes`, 256 MiB).
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (options?: { readonly maxDecompressedBytes?: number | undefined }): Compression.Compression => ({
  libraries,
  maxDecompressedBytes: options?.maxDecompressedBytes ?? Compression.defaultMaxDecompressedBytes
})

/**
 * Provides the Node compression libraries (`zlib`, `gzip`, `lzma`) to the
 * `Compression` service, with the default bound on decompressed size.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Serializer } from "@runstate/core"
 * import { NodeCompression } from "@runstate/node"
 *
 * // Prefect's default compressed serializer: xz, then base64.
 * const program = Serializer.compressedJson({ compressionlib: "lzma" }).dumps({ a: 1 }).pipe(
 *   Effect.provide(NodeCompression.layer)
 * )
 * ```
 *
 * @category layers
 * @since 0.2.0
 */
export const layer: Layer.Layer<never> = Layer.succeed(Compression.Compression, make())

/**
 * {@link layer} with another bound on decompressed size, in bytes.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerWith = (options: { readonly maxDecompressedBytes?: number | undefined }): Layer.Layer<never> =>
  Layer.succeed(Compression.Compression, make(options))
