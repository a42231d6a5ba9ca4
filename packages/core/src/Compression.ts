/**
 * The compression libraries a `compressed` serializer (Prefect's
 * `compressed/json`) runs, as a provided service. A record names its library
 * by Prefect's `compressionlib` string (`"lzma"`, `"zlib"`, `"gzip"`); the
 * serializer looks it up here when it runs. The default, available
 * everywhere, uses the web `CompressionStream` for `zlib` and `gzip`;
 * `@runstate/node`'s `NodeCompression.layer` adds `lzma` (xz, byte-compatible
 * with CPython's `lzma.compress`) and swaps in `node:zlib`, which is much
 * faster for small payloads. A library the service lacks is a
 * {@link CompressionError}, never a crash.
 *
 * Every decompression is bounded: output beyond `maxDecompressedBytes`
 * (default {@link defaultMaxDecompressedBytes}, 256 MiB) stops the
 * decompression and fails with {@link DecompressedSizeExceeded}, so a small
 * "decompression bomb" cannot exhaust memory.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import { reprString } from "./internal/pyrepr.ts"

/**
 * A library failed to compress or decompress (corrupt or truncated data), or
 * the running platform has no library of that name.
 *
 * @category errors
 * @since 0.2.0
 */
export class CompressionError extends Data.TaggedError("CompressionError")<{
  readonly library: string
  readonly operation: "compress" | "decompress"
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * Decompressing produced more than the allowed number of bytes. `limit` is
 * the limit in force (`maxDecompressedBytes` of the `Compression` service).
 *
 * @category errors
 * @since 0.2.0
 */
export class DecompressedSizeExceeded extends Data.TaggedError("DecompressedSizeExceeded")<{
  readonly library: string
  readonly limit: number
  readonly message: string
}> {}

/**
 * Builds the {@link DecompressedSizeExceeded} error for `library` and `limit`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const sizeExceeded = (library: string, limit: number): DecompressedSizeExceeded =>
  new DecompressedSizeExceeded({
    library,
    limit,
    message: `Decompressed data (${reprString(library)}) exceeds the limit of ${limit} bytes (maxDecompressedBytes)`
  })

/**
 * One compression library: `compress` writes exactly the bytes of Python's
 * `<library>.compress(data)` where the library can, `decompress` reads them
 * and fails with {@link DecompressedSizeExceeded} once the output would pass
 * `maxBytes`.
 *
 * @category models
 * @since 0.2.0
 */
export interface Library {
  readonly compress: (bytes: Uint8Array) => Effect.Effect<Uint8Array, CompressionError>
  readonly decompress: (
    bytes: Uint8Array,
    maxBytes: number
  ) => Effect.Effect<Uint8Array, CompressionError | DecompressedSizeExceeded>
}

/**
 * The service: the libraries by Prefect's `compressionlib` name, and the
 * bound on decompressed size.
 *
 * @category models
 * @since 0.2.0
 */
export interface Compression {
  readonly libraries: { readonly [name: string]: Library }
  readonly maxDecompressedBytes: number
}

/**
 * The default bound on decompressed size: 256 MiB.
 *
 * @category constants
 * @since 0.2.0
 */
export const defaultMaxDecompressedBytes: number = 256 * 1024 * 1024

const messageOf = (e: unknown): string => {
  const message = e instanceof Error ? e.message : String(e)
  if (message !== "") return message
  // Stream errors of some runtimes have an empty message and the reason in `cause` or `code`.
  const cause = (e as { readonly cause?: unknown }).cause
  if (cause instanceof Error && cause.message !== "") return cause.message
  const code = (e as { readonly code?: unknown }).code
  return typeof code === "string" ? code : "invalid or truncated data"
}

const webCompress = (library: string, format: CompressionFormat) => (bytes: Uint8Array) =>
  Effect.tryPromise({
    try: () =>
      new Response(new Blob([bytes.slice()]).stream().pipeThrough(new CompressionStream(format))).arrayBuffer().then(
        (b) => new Uint8Array(b)
      ),
    catch: (cause) =>
      new CompressionError({
        library,
        operation: "compress",
        message: `Failed to compress with ${reprString(library)}: ${messageOf(cause)}`,
        cause
      })
  })

const SizeExceeded = Symbol.for("@runstate/core/Compression/SizeExceeded")

const webDecompress = (library: string, format: CompressionFormat) => (bytes: Uint8Array, maxBytes: number) =>
  Effect.flatMap(
    Effect.tryPromise({
      try: async (signal) => {
        const reader = new Blob([bytes.slice()]).stream().pipeThrough(new DecompressionStream(format)).getReader()
        const chunks: Array<Uint8Array> = []
        let total = 0
        try {
          while (!signal.aborted) {
            const next = await reader.read()
            if (next.done) break
            total += next.value.byteLength
            if (total > maxBytes) return SizeExceeded
            chunks.push(next.value)
          }
        } finally {
          reader.cancel().catch(() => undefined)
        }
        const out = new Uint8Array(total)
        let offset = 0
        for (const c of chunks) {
          out.set(c, offset)
          offset += c.byteLength
        }
        return out
      },
      catch: (cause) =>
        new CompressionError({
          library,
          operation: "decompress",
          message: `Failed to decompress with ${reprString(library)}: ${messageOf(cause)}`,
          cause
        })
    }),
    (out): Effect.Effect<Uint8Array, DecompressedSizeExceeded> =>
      out === SizeExceeded ? Effect.fail(sizeExceeded(library, maxBytes)) : Effect.succeed(out)
  )

/**
 * A library backed by the web `CompressionStream` / `DecompressionStream`
 * (`"deflate"` is Python's `zlib`, `"gzip"` its `gzip`).
 *
 * @category constructors
 * @since 0.2.0
 */
export const webLibrary = (library: string, format: CompressionFormat): Library => ({
  compress: webCompress(library, format),
  decompress: webDecompress(library, format)
})

/**
 * The default service: `zlib` and `gzip` through the web
 * `CompressionStream`, and the default size bound. `lzma` is not here: no
 * platform-neutral implementation exists, so a record naming it needs
 * `NodeCompression.layer` from `@runstate/node` (or another provided service).
 *
 * @category constructors
 * @since 0.2.0
 */
export const web: Compression = {
  libraries: { zlib: webLibrary("zlib", "deflate"), gzip: webLibrary("gzip", "gzip") },
  maxDecompressedBytes: defaultMaxDecompressedBytes
}

/**
 * The service's key. It has a default ({@link web}), so nothing needs to
 * provide it; provide another with `Effect.provideService(Compression, …)` or
 * a layer such as `NodeCompression.layer`.
 *
 * @category services
 * @since 0.2.0
 */
export const Compression: Context.Reference<Compression> = Context.Reference<Compression>(
  "@runstate/core/Compression",
  { defaultValue: () => web }
)

/** A limit that is not a number ≥ 0 (`NaN`, negative) falls back to the default; `Infinity` means no limit. */
const validLimit = (limit: number): number =>
  typeof limit === "number" && limit >= 0 ? Math.floor(limit) : defaultMaxDecompressedBytes

const notAvailableMessage = (library: string, operation: "compress" | "decompress"): string =>
  `Compression library ${reprString(library)} is not available in this environment, so ${
    operation === "compress" ? "serialization" : "deserialization"
  } cannot be performed.`

const lookup = (
  service: Compression,
  library: string,
  operation: "compress" | "decompress"
): Effect.Effect<Library, CompressionError> =>
  Object.hasOwn(service.libraries, library)
    ? Effect.succeed(service.libraries[library]!)
    : Effect.fail(new CompressionError({ library, operation, message: notAvailableMessage(library, operation) }))

/**
 * Compresses `bytes` with the named library of the current service.
 *
 * @category operations
 * @since 0.2.0
 */
export const compress = (library: string, bytes: Uint8Array): Effect.Effect<Uint8Array, CompressionError> =>
  Effect.flatMap(
    Effect.service(Compression),
    (service) => Effect.flatMap(lookup(service, library, "compress"), (lib) => lib.compress(bytes))
  )

/**
 * Decompresses `bytes` with the named library of the current service, bounded
 * by its `maxDecompressedBytes` (checked again on the library's output, so a
 * library that ignores the bound still cannot return more). A bound that is
 * not a number ≥ 0 counts as the default; `Infinity` lifts it.
 *
 * @category operations
 * @since 0.2.0
 */
export const decompress = (
  library: string,
  bytes: Uint8Array
): Effect.Effect<Uint8Array, CompressionError | DecompressedSizeExceeded> =>
  Effect.flatMap(
    Effect.service(Compression),
    (service) =>
      Effect.flatMap(lookup(service, library, "decompress"), (lib) => {
        const limit = validLimit(service.maxDecompressedBytes)
        return Effect.flatMap(
          lib.decompress(bytes, limit),
          (out) => out.byteLength > limit ? Effect.fail(sizeExceeded(library, limit)) : Effect.succeed(out)
        )
      })
  )

/**
 * Runs `effect` with another bound on decompressed size (in bytes;
 * `Infinity` for none), keeping the current libraries.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Compression, Serializer } from "@runstate/core"
 *
 * const bytes = new TextEncoder().encode("eJyrVspMUbJSMlCqBQALkgJy\n")
 * const value = Serializer.compressedJson().loads(bytes).pipe(
 *   Compression.withMaxDecompressedBytes(1024 * 1024)
 * )
 * ```
 *
 * @category combinators
 * @since 0.2.0
 */
export const withMaxDecompressedBytes: {
  (maxBytes: number): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, maxBytes: number): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(effect: Effect.Effect<A, E, R>, maxBytes: number): Effect.Effect<A, E, R> =>
    Effect.updateService(effect, Compression, (service) => ({ ...service, maxDecompressedBytes: maxBytes }))
)
