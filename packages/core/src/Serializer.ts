/**
 * Prefect's result serializers (`prefect.serializers`): a serializer turns a
 * value into bytes and back, and is recorded in a result record's metadata as a
 * JSON object whose `type` names it. `json` writes exactly the bytes Python's
 * `json.dumps(value, default=prefect_json_object_encoder)` writes, so Prefect
 * reads what runstate writes and the other way round; `compressedJson` wraps it
 * in zlib, gzip or lzma (xz) and base64; `schema` types a result with an `effect/Schema`
 * while recording it as `json`; `unknown` stands for a serializer this runtime
 * cannot run (Prefect's `pickle`, custom ones): metadata naming it loads, using
 * it fails with Prefect's text.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Base64 from "effect/encoding/Base64"
import * as Equal from "effect/Equal"
import * as Formatter from "effect/Formatter"
import * as Hash from "effect/Hash"
import * as Inspectable from "effect/Inspectable"
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Compression from "./Compression.ts"
import * as FastJson from "./internal/fastJson.ts"
import { reprString } from "./internal/pyrepr.ts"
import * as PyJson from "./internal/pythonJson.ts"
import { SerializationError } from "./RunError.ts"

/**
 * @category type ids
 * @since 0.1.0
 */
export const TypeId = "~@runstate/core/Serializer"

/**
 * @category type ids
 * @since 0.1.0
 */
export type TypeId = typeof TypeId

/**
 * A serializer. `type` is Prefect's type string and `fields` the JSON object
 * written to a record's `metadata.serializer` (every field in Prefect's order,
 * `type` first). Two serializers are equal when their `fields` are.
 *
 * Two optional members let a serializer go faster or be typed; stores use them
 * when present and work without them:
 *
 * - `text`: a text form of `dumps` / `loads` (see {@link TextCodec}), so a
 *   store writes and reads records without UTF-8 round trips;
 * - `typed`: the serializer is a typed view over another (see {@link Typed}),
 *   so a store decodes every read with it, cached or not.
 *
 * Build one with {@link make}.
 *
 * @category models
 * @since 0.1.0
 */
export interface Serializer extends Equal.Equal, Inspectable.Inspectable {
  readonly [TypeId]: TypeId
  readonly type: string
  readonly fields: { readonly [k: string]: unknown }
  readonly dumps: (value: unknown) => Effect.Effect<Uint8Array, SerializationError>
  readonly loads: (bytes: Uint8Array) => Effect.Effect<unknown, SerializationError>
  /** The text form of `dumps` / `loads`, for serializers whose bytes are always UTF-8 text. */
  readonly text?: TextCodec | undefined
  /** Set when this serializer is a typed view over another: `dumps` encodes first, `loads` decodes last. */
  readonly typed?: Typed | undefined
}

/**
 * The text form of a serializer whose bytes are always UTF-8 text, used by the
 * stores as a fast path: a record's envelope holds the result as text, so a
 * serializer with a text form is written and read without a `TextEncoder` /
 * `TextDecoder` round trip.
 *
 * - `dumps(value)` must return the text whose UTF-8 bytes
 *   `serializer.dumps(value)` succeeds with, and throw where `dumps` fails;
 * - `loads(text)` must return what `serializer.loads` returns for the UTF-8
 *   bytes of `text` (a well-formed string: the stores never pass lone
 *   surrogates), and throw where `loads` fails.
 *
 * A thrown error becomes a `SerializationError` with the error's message.
 * Either member may be absent: that direction then uses the byte form.
 *
 * @category models
 * @since 0.2.0
 */
export interface TextCodec {
  readonly dumps?: ((value: unknown) => string) | undefined
  readonly loads?: ((text: string) => unknown) | undefined
}

/**
 * A typed serializer's parts (what `Serializer.schema` builds): values are
 * `encode`d to the form the untyped `encoded` serializer writes, and what it
 * reads is `decode`d. Stores write through `encoded` and decode every read —
 * from storage or from their cache — with `decode`, as Effect's
 * `KeyValueStore.toSchemaStore` does.
 *
 * @category models
 * @since 0.2.0
 */
export interface Typed {
  readonly encoded: Serializer
  readonly encode: (value: unknown) => Effect.Effect<unknown, SerializationError>
  readonly decode: (encoded: unknown) => Effect.Effect<unknown, SerializationError>
}

const Proto = {
  [TypeId]: TypeId,
  [Equal.symbol](this: Serializer, that: unknown): boolean {
    return isSerializer(that) && Equal.equals(this.fields, that.fields)
  },
  [Hash.symbol](this: Serializer): number {
    return Hash.hash(this.fields)
  },
  toJSON(this: Serializer) {
    return { _id: "Serializer", ...this.fields }
  },
  toString(this: Serializer) {
    return Formatter.format(this.toJSON())
  },
  [Inspectable.NodeInspectSymbol](this: Serializer) {
    return this.toJSON()
  }
}

/**
 * Builds a serializer. `fields` is what a record's `metadata.serializer` holds
 * (`type` is taken from it; other fields in the order given); `text` and
 * `typed` are the optional members described on {@link Serializer}. A store
 * reads records whose metadata names these fields with this serializer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Serializer } from "@runstate/core"
 *
 * // Plain UTF-8 text, with a text form so stores skip the byte round trip.
 * const text = Serializer.make({
 *   fields: { type: "text/plain" },
 *   dumps: (value) => Effect.succeed(new TextEncoder().encode(String(value))),
 *   loads: (bytes) => Effect.succeed(new TextDecoder().decode(bytes)),
 *   text: { dumps: (value) => String(value), loads: (text) => text }
 * })
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (options: {
  readonly fields: { readonly type: string; readonly [k: string]: unknown }
  readonly dumps: Serializer["dumps"]
  readonly loads: Serializer["loads"]
  readonly text?: TextCodec | undefined
  readonly typed?: Typed | undefined
}): Serializer =>
  makeWith(options.fields.type, { ...options.fields }, options.dumps, options.loads, options.text, options.typed)

const makeWith = (
  type: string,
  fields: { readonly [k: string]: unknown },
  dumps: Serializer["dumps"],
  loads: Serializer["loads"],
  text?: TextCodec,
  typed?: Typed
): Serializer => {
  const self = Object.create(Proto)
  self.type = type
  self.fields = fields
  self.dumps = dumps
  self.loads = loads
  if (text !== undefined) self.text = text
  if (typed !== undefined) self.typed = typed
  return self
}

/**
 * Tells whether a value is a `Serializer`.
 *
 * @category guards
 * @since 0.1.0
 */
export const isSerializer = (u: unknown): u is Serializer => Predicate.hasProperty(u, TypeId)

const messageOf = (e: unknown): string => e instanceof Error ? e.message : String(e)

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder("utf-8", { fatal: true })

const decodeUtf8 = (bytes: Uint8Array, what: string): Effect.Effect<string, SerializationError> =>
  Effect.try({
    try: () => utf8Decoder.decode(bytes),
    catch: (cause) => new SerializationError({ message: `${what} is not valid UTF-8`, cause })
  })

// ---------------------------------------------------------------------------------------
// json
// ---------------------------------------------------------------------------------------

const defaultEncoder = "prefect.serializers.prefect_json_object_encoder"
const defaultDecoder = "prefect.serializers.prefect_json_object_decoder"

const jsonFields = (fields?: {
  readonly jsonlib?: string
  readonly object_encoder?: string | null
  readonly object_decoder?: string | null
  readonly dumps_kwargs?: { readonly [k: string]: unknown }
  readonly loads_kwargs?: { readonly [k: string]: unknown }
}): { readonly [k: string]: unknown } => ({
  type: "json",
  jsonlib: fields?.jsonlib ?? "json",
  object_encoder: fields?.object_encoder === undefined ? defaultEncoder : fields.object_encoder,
  object_decoder: fields?.object_decoder === undefined ? defaultDecoder : fields.object_decoder,
  dumps_kwargs: fields?.dumps_kwargs ?? {},
  loads_kwargs: fields?.loads_kwargs ?? {}
})

const notAvailable = (what: string, operation: "serialization" | "deserialization"): SerializationError =>
  new SerializationError({
    message: `${what} is not available in this environment, so ${operation} cannot be performed.`
  })

/** Python's `json.dumps` text of `value`: the fast path for plain JSON values, else the exact encoder. Throws. */
const pythonDumpsText = (value: unknown, prefect: boolean): string =>
  FastJson.dumpsPython(value) ?? PyJson.dumps(value, { python: true, prefect })

/** Python's `json.loads` of `text` (with Prefect's object decoder when `prefect`): fast path, else exact. Throws. */
const pythonLoadsText = (text: string, prefect: boolean): unknown => {
  const fast = FastJson.parse(text, prefect)
  return fast !== FastJson.NotFast ? fast : PyJson.parse(text, prefect ? PyJson.prefectObjectHook : undefined)
}

const pythonDumps = (value: unknown, prefect: boolean): Effect.Effect<Uint8Array, SerializationError> =>
  Effect.try({
    try: () => utf8Encoder.encode(pythonDumpsText(value, prefect)),
    catch: (cause) => new SerializationError({ message: messageOf(cause), cause })
  })

const pythonLoads = (bytes: Uint8Array, prefect: boolean): Effect.Effect<unknown, SerializationError> =>
  Effect.flatMap(decodeUtf8(bytes, "JSON text"), (text) =>
    Effect.try({
      try: () => pythonLoadsText(text, prefect),
      catch: (cause) => new SerializationError({ message: messageOf(cause), cause })
    }))

/** `TextDecoder` strips a leading UTF-8 BOM; the text forms do the same so they match the byte forms. */
const stripBom = (text: string): string => text.charCodeAt(0) === 0xfeff ? text.slice(1) : text

const makeJson = (fields: { readonly [k: string]: unknown }): Serializer => {
  const encoder = fields["object_encoder"]
  const decoder = fields["object_decoder"]
  const dumpsKwargs = Object.keys(fields["dumps_kwargs"] as object)
  const dumpsPrefect = dumpsKwargs.length > 0 ? undefined : encoder === defaultEncoder ? true : encoder === null
    ? false
    : undefined
  const loadsPrefect = decoder === defaultDecoder ? true : decoder === null ? false : undefined
  const dumps: Serializer["dumps"] = dumpsKwargs.length > 0
    ? () => Effect.fail(notAvailable(`Serializer 'json' with dumps_kwargs ${dumpsKwargs.join(", ")}`, "serialization"))
    : dumpsPrefect !== undefined
    ? (value) => pythonDumps(value, dumpsPrefect)
    : () => Effect.fail(notAvailable(`Object encoder ${reprString(String(encoder))}`, "serialization"))
  const loads: Serializer["loads"] = loadsPrefect !== undefined
    ? (bytes) => pythonLoads(bytes, loadsPrefect)
    : () => Effect.fail(notAvailable(`Object decoder ${reprString(String(decoder))}`, "deserialization"))
  return makeWith("json", fields, dumps, loads, {
    dumps: dumpsPrefect === undefined ? undefined : (value) => pythonDumpsText(value, dumpsPrefect),
    loads: loadsPrefect === undefined ? undefined : (text) => pythonLoadsText(stripBom(text), loadsPrefect)
  })
}

/**
 * Prefect's `json` serializer (`JSONSerializer` with its defaults).
 *
 * `dumps` writes the bytes of Python's
 * `json.dumps(value, default=prefect_json_object_encoder)`: `", "` and `": "`
 * separators, non-ASCII escaped as `\uXXXX` (astral characters as surrogate
 * pairs), `NaN` / `Infinity` / `-Infinity` bare. Numbers: safe integers and
 * `bigint`s are written as Python `int`s; every other number as a Python
 * `float` (`1.5`, `1e+16`, `1.5e-05`, `-0.0`), including integral numbers at
 * or beyond 2^53, which JS holds only approximately (`2 ** 60` →
 * `1.152921504606847e+18`). Values JSON cannot hold follow Prefect's object
 * encoder: `DateTime` and `Date` → `datetime.datetime` (in UTC), `Set` →
 * `builtins.set`, `Uint8Array` → `builtins.bytes` (UTF-8 text; other bytes
 * fail), errors → `__exc_type__` (see below). A `Map` is written as an object
 * when its keys are strings, numbers, bigints, booleans or null (Python's
 * rule for dict keys); other keys fail. `undefined` is `null` in arrays and at
 * the top level and is left out of objects; an object with `toJSON` is written
 * as its `toJSON()`; other objects as their own enumerable string keys.
 * Functions, symbols, promises, other typed arrays and circular references
 * fail with a `SerializationError`; nesting depth is unbounded (no recursion).
 *
 * Errors: a plain `Error` is `builtins.Exception`; an error whose name (a
 * tagged error's `_tag`, else `name`) is a Python builtin exception keeps it
 * (`builtins.ValueError`); any other name is written as `builtins.Exception`
 * with an extra `"name"` key that Prefect ignores and `loads` restores.
 *
 * `loads` parses Python's JSON (including `NaN`, `Infinity`, `-Infinity`;
 * integers beyond 2^53 become `bigint`s) and applies Prefect's object decoder
 * to every object: `datetime.datetime` → `DateTime.Utc`, `uuid.UUID` →
 * string, `builtins.set` → `Set`, `builtins.bytes` → `Uint8Array`,
 * `datetime.date`, `datetime.timedelta`, `decimal.Decimal` and other scalar
 * classes → their JSON `data`, unknown classes → the object unchanged;
 * `__exc_type__` → an `Error` named after the class (`builtins.ValueError` →
 * `name` "ValueError").
 *
 * @category serializers
 * @since 0.1.0
 */
export const json: Serializer = makeJson(jsonFields())

// ---------------------------------------------------------------------------------------
// compressed
// ---------------------------------------------------------------------------------------

/** Python's `base64.encodebytes`: lines of 76 characters, each ending in a newline. */
const encodeBytes = (bytes: Uint8Array): Uint8Array => {
  const text = Base64.encode(bytes)
  let out = ""
  for (let i = 0; i < text.length; i += 76) out += text.slice(i, i + 76) + "\n"
  return utf8Encoder.encode(out)
}

const decodeBytes = (bytes: Uint8Array): Effect.Effect<Uint8Array, SerializationError> =>
  Effect.flatMap(decodeUtf8(bytes, "Base64 text"), (text) => {
    const decoded = Base64.decode(text.replace(/[\t\n\v\f\r ]/g, ""))
    return Result.isFailure(decoded)
      ? Effect.fail(new SerializationError({ message: "Invalid base64 data", cause: decoded.failure }))
      : Effect.succeed(decoded.success)
  })

/** A compression failure (including the size bound) as a `SerializationError` carrying it as `cause`. */
const compressionFailure = (
  cause: Compression.CompressionError | Compression.DecompressedSizeExceeded
): SerializationError => new SerializationError({ message: cause.message, cause })

const makeCompressed = (type: string, inner: Serializer, compressionlib: string): Serializer =>
  makeWith(
    type,
    { type, serializer: inner.fields, compressionlib },
    (value) =>
      Effect.flatMap(inner.dumps(value), (blob) =>
        Effect.mapBoth(Compression.compress(compressionlib, blob), {
          onFailure: compressionFailure,
          onSuccess: encodeBytes
        })),
    (bytes) =>
      Effect.flatMap(decodeBytes(bytes), (compressed) =>
        Effect.flatMap(
          Effect.mapError(Compression.decompress(compressionlib, compressed), compressionFailure),
          inner.loads
        ))
  )

/**
 * Prefect's `compressed/json` serializer: `json` output compressed, then
 * base64 with a newline every 76 characters and a final newline (Python's
 * `base64.encodebytes`); reading accepts base64 with or without newlines.
 * `compressionlib` names the library as Prefect does: `"zlib"` (the default
 * here), `"gzip"`, or `"lzma"` (Prefect's own default: the xz container,
 * byte-compatible with CPython's `lzma.compress`).
 *
 * The libraries run through the `Compression` service, looked up when the
 * serializer runs: the core's default has `zlib` and `gzip` (web
 * `CompressionStream`); `NodeCompression.layer` from `@runstate/node` adds
 * `lzma` and uses `node:zlib`. A library the service lacks fails with a
 * `SerializationError` (`Compression library 'lzma' is not available in this
 * environment, …`). Decompressed output is bounded by the service's
 * `maxDecompressedBytes` (256 MiB unless changed with
 * `Compression.withMaxDecompressedBytes`): past it, reading fails with a
 * `SerializationError` whose `cause` is a `DecompressedSizeExceeded` naming
 * the limit.
 *
 * @category serializers
 * @since 0.1.0
 */
export const compressedJson = (
  options?: { readonly compressionlib?: "zlib" | "gzip" | "lzma" | undefined }
): Serializer => makeCompressed("compressed/json", json, options?.compressionlib ?? "zlib")

// ---------------------------------------------------------------------------------------
// schema
// ---------------------------------------------------------------------------------------

/**
 * A schema that needs no services to encode or decode: what
 * {@link schema} and typed store reads accept.
 *
 * @category models
 * @since 0.2.0
 */
export type SchemaWithoutServices = Schema.Top & {
  readonly DecodingServices: never
  readonly EncodingServices: never
}

/**
 * A typed serializer: `dumps` encodes the value with `schema` and writes the
 * encoded value like `json`; `loads` reads like `json` and decodes with
 * `schema`, failing with a `SerializationError` that names the offending path.
 * It is recorded as Prefect's `json` type (same fields, so it equals `json`
 * and Prefect can read what it writes).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Serializer } from "@runstate/core"
 *
 * const Point = Schema.Struct({ x: Schema.Number, y: Schema.Number })
 * const serializer = Serializer.schema(Point)
 * ```
 *
 * @category serializers
 * @since 0.1.0
 */
export const schema = <S extends SchemaWithoutServices>(schema: S): Serializer => {
  const typed = typedBySchema(schema)
  return makeWith(
    "json",
    json.fields,
    (value) => Effect.flatMap(typed.encode(value), json.dumps),
    (bytes) => Effect.flatMap(json.loads(bytes), typed.decode),
    undefined,
    typed
  )
}

/**
 * The {@link Typed} parts of `schema` over `json`: `encode` / `decode` with
 * the schema, failing with a `SerializationError` (`Value does not match the
 * schema: …` / `Stored value does not match the schema: …`, the schema's
 * message capped in length) whose `cause` is the schema error. What
 * `Serializer.schema` and a store read with a `schema` option use.
 *
 * @category serializers
 * @since 0.2.0
 */
export const typedBySchema = <S extends SchemaWithoutServices>(schema: S): Typed => {
  const encode = Schema.encodeUnknownEffect(schema) as (u: unknown) => Effect.Effect<unknown, Schema.SchemaError>
  const decode = Schema.decodeUnknownEffect(schema) as (u: unknown) => Effect.Effect<unknown, Schema.SchemaError>
  return {
    encoded: json,
    encode: (value) =>
      Effect.mapError(
        encode(value),
        (cause) =>
          new SerializationError({
            message: `Value does not match the schema: ${PyJson.capLines(cause.message)}`,
            cause
          })
      ),
    decode: (u) =>
      Effect.mapError(
        decode(u),
        (cause) =>
          new SerializationError({
            message: `Stored value does not match the schema: ${PyJson.capLines(cause.message)}`,
            cause
          })
      )
  }
}

// ---------------------------------------------------------------------------------------
// unknown
// ---------------------------------------------------------------------------------------

/**
 * A placeholder for a serializer this runtime cannot run (Prefect's
 * `UnknownSerializer`), e.g. `pickle` or a custom type: it keeps every field so
 * metadata naming it round-trips, and `dumps` / `loads` fail with Prefect's
 * text `Serializer 'pickle' is not available in this environment, so
 * serialization cannot be performed.` (`... deserialization ...`).
 *
 * @category serializers
 * @since 0.1.0
 */
export const unknown = (fields: { readonly type: string; readonly [k: string]: unknown }): Serializer => {
  const what = `Serializer ${reprString(fields.type)}`
  return makeWith(
    fields.type,
    { ...fields },
    () => Effect.fail(notAvailable(what, "serialization")),
    () => Effect.fail(notAvailable(what, "deserialization"))
  )
}

// ---------------------------------------------------------------------------------------
// fromJson
// ---------------------------------------------------------------------------------------

type Decoded = Result.Result<Serializer, string>

const isPlainRecord = (u: unknown): u is { readonly [k: string]: unknown } =>
  typeof u === "object" && u !== null && !Array.isArray(u) && !isSerializer(u)

const describe = PyJson.describe

const checkKeys = (
  o: { readonly [k: string]: unknown },
  allowed: ReadonlyArray<string>,
  type: string
): string | undefined => {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k))
  return extra.length === 0
    ? undefined
    : `unknown field ${reprString(extra[0]!)} for serializer type ${reprString(type)}`
}

const field = <A>(
  o: { readonly [k: string]: unknown },
  key: string,
  fallback: A,
  valid: (u: unknown) => boolean,
  expected: string
): Result.Result<A, string> => {
  if (!Object.hasOwn(o, key)) return Result.succeed(fallback)
  const value = o[key]
  return valid(value) ? Result.succeed(value as A) : Result.fail(`${key}: expected ${expected}, got ${describe(value)}`)
}

const isString = (u: unknown): boolean => typeof u === "string"
const isStringOrNull = (u: unknown): boolean => u === null || typeof u === "string"

const isEmptyPlainObject = (u: unknown): boolean =>
  typeof u === "object" && u !== null && Object.getPrototypeOf(u) === Object.prototype && Object.keys(u).length === 0

/** Whether `o` (whose `type` is `"json"`) decodes to a serializer equal to `json`: every key known, every value the default. */
const isDefaultJson = (o: { readonly [k: string]: unknown }): boolean => {
  for (const k of Object.keys(o)) {
    const v = o[k]
    switch (k) {
      case "type":
      case "jsonlib":
        if (v !== "json") return false
        break
      case "object_encoder":
        if (v !== defaultEncoder) return false
        break
      case "object_decoder":
        if (v !== defaultDecoder) return false
        break
      case "dumps_kwargs":
      case "loads_kwargs":
        if (!isEmptyPlainObject(v)) return false
        break
      default:
        return false
    }
  }
  return true
}

const decodeJsonType = (o: { readonly [k: string]: unknown }): Decoded => {
  // The common case (Prefect's defaults, as `json` writes them) needs no validation and no new serializer.
  if (isDefaultJson(o)) return Result.succeed(json)
  const bad = checkKeys(
    o,
    ["type", "jsonlib", "object_encoder", "object_decoder", "dumps_kwargs", "loads_kwargs"],
    "json"
  )
  if (bad !== undefined) return Result.fail(bad)
  const jsonlib = field(o, "jsonlib", "json", isString, "a string")
  const encoder = field<string | null>(o, "object_encoder", defaultEncoder, isStringOrNull, "a string or null")
  const decoder = field<string | null>(o, "object_decoder", defaultDecoder, isStringOrNull, "a string or null")
  const dumpsKwargs = field<{ readonly [k: string]: unknown }>(o, "dumps_kwargs", {}, isPlainRecord, "an object")
  const loadsKwargs = field<{ readonly [k: string]: unknown }>(o, "loads_kwargs", {}, isPlainRecord, "an object")
  const checks: ReadonlyArray<Result.Result<unknown, string>> = [jsonlib, encoder, decoder, dumpsKwargs, loadsKwargs]
  for (const r of checks) {
    if (Result.isFailure(r)) return Result.fail(r.failure)
  }
  const dk = Result.getOrThrow(dumpsKwargs)
  const lk = Result.getOrThrow(loadsKwargs)
  if (Object.hasOwn(dk, "default")) return Result.fail("`default` cannot be provided. Use `object_encoder` instead.")
  if (Object.hasOwn(lk, "object_hook")) {
    return Result.fail("`object_hook` cannot be provided. Use `object_decoder` instead.")
  }
  return Result.succeed(makeJson(jsonFields({
    jsonlib: Result.getOrThrow(jsonlib),
    object_encoder: Result.getOrThrow(encoder),
    object_decoder: Result.getOrThrow(decoder),
    dumps_kwargs: dk,
    loads_kwargs: lk
  })))
}

const pickleDefaults = { type: "pickle", picklelib: "cloudpickle", picklelib_version: null }

const decodePickleType = (o: { readonly [k: string]: unknown }): Decoded => {
  const bad = checkKeys(o, ["type", "picklelib", "picklelib_version"], "pickle")
  if (bad !== undefined) return Result.fail(bad)
  const picklelib = field(o, "picklelib", "cloudpickle", isString, "a string")
  if (Result.isFailure(picklelib)) return Result.fail(picklelib.failure)
  const version = field<string | null>(o, "picklelib_version", null, isStringOrNull, "a string or null")
  if (Result.isFailure(version)) return Result.fail(version.failure)
  return Result.succeed(
    unknown({ type: "pickle", picklelib: picklelib.success, picklelib_version: version.success })
  )
}

const decodeCompressedType = (o: { readonly [k: string]: unknown }, type: string, depth: number): Decoded => {
  const bad = checkKeys(o, ["type", "serializer", "compressionlib"], type)
  if (bad !== undefined) return Result.fail(bad)
  const lib = field(o, "compressionlib", "lzma", isString, "a string")
  if (Result.isFailure(lib)) return Result.fail(lib.failure)
  let inner: Decoded
  if (!Object.hasOwn(o, "serializer")) {
    if (type === "compressed/json") inner = Result.succeed(json)
    else if (type === "compressed/pickle") inner = Result.succeed(unknown(pickleDefaults))
    else return Result.fail("serializer: field required")
  } else {
    const s = o["serializer"]
    inner = typeof s === "string" ? decode({ type: s }, depth + 1) : decode(s, depth + 1)
    if (Result.isFailure(inner)) return Result.fail(`serializer: ${inner.failure}`)
  }
  return Result.map(inner, (i) => makeCompressed(type, i, lib.success))
}

const decode = (u: unknown, depth: number): Decoded => {
  if (isSerializer(u)) return Result.succeed(u)
  if (!isPlainRecord(u)) return Result.fail(`expected an object with a 'type' key, got ${describe(u)}`)
  if (depth > 32) return Result.fail("serializers nested too deeply")
  const type = u["type"]
  if (typeof type !== "string") {
    return Result.fail(
      Object.hasOwn(u, "type") ? `type: expected a string, got ${describe(type)}` : "type: field required"
    )
  }
  switch (type) {
    case "json":
      return decodeJsonType(u)
    case "pickle":
      return decodePickleType(u)
    case "compressed":
    case "compressed/json":
    case "compressed/pickle":
      return decodeCompressedType(u, type, depth)
    default:
      return Result.succeed(unknown({ ...u, type }))
  }
}

/**
 * Builds a serializer from the JSON object of a record's `metadata.serializer`,
 * with Prefect's tolerance: `json`, `pickle`, `compressed`, `compressed/json`
 * and `compressed/pickle` are validated (a wrong field value or an extra key
 * fails; missing fields take Prefect's defaults; a compressed serializer's
 * inner `serializer` may be a type string or an object; any `compressionlib`
 * string loads; it runs when the `Compression` service has that library). `pickle` and every
 * other type become an `unknown` placeholder keeping all fields. A value that
 * is already a `Serializer` is returned as is.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromJson = (u: unknown): Effect.Effect<Serializer, SerializationError> =>
  Effect.suspend(() => {
    const r = decode(u, 0)
    return Result.isFailure(r)
      ? Effect.fail(new SerializationError({ message: `Invalid serializer: ${r.failure}` }))
      : Effect.succeed(r.success)
  })
