/**
 * Prefect's result records (`prefect._internal.result_records`): a persisted
 * result is its serialized value plus metadata (storage key, expiration,
 * serializer, the Prefect version that wrote it, storage block id), and this
 * module reads and writes them in Prefect's on-disk JSON layout byte for byte —
 * the full envelope `{"metadata":...,"result":"..."}`, split metadata files,
 * raw results read through a backup serializer, and Prefect 3.0's old
 * `{"serializer":...,"data":...}` blobs. Records and metadata are immutable
 * values with structural `Equal` / `Hash`; where Prefect marks a record
 * persisted in place, `markPersisted` returns a new record.
 *
 * Datetimes are `DateTime.Utc` (millisecond precision): Prefect's microsecond
 * fractions are read and truncated to milliseconds, and written back as
 * `.678000`.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Exit from "effect/Exit"
import * as Formatter from "effect/Formatter"
import * as Hash from "effect/Hash"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Result from "effect/Result"
import * as FastJson from "./internal/fastJson.ts"
import { formatEpochMillis, parseEpochMillis } from "./internal/isoDate.ts"
import * as PyJson from "./internal/pythonJson.ts"
import * as RecordText from "./internal/recordText.ts"
import { SerializationError } from "./RunError.ts"
import * as Serializer from "./Serializer.ts"

/**
 * The Prefect release whose on-disk layout runstate reproduces; written as
 * `prefect_version` by default.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultPrefectVersion = "3.8.4"

/**
 * Where a result is stored, until when it is valid, how it is serialized, and
 * which Prefect version wrote it (Prefect's `ResultRecordMetadata`).
 *
 * @category models
 * @since 0.1.0
 */
export interface ResultRecordMetadata extends Equal.Equal, Inspectable.Inspectable {
  readonly _tag: "ResultRecordMetadata"
  readonly storageKey: string | null
  readonly expiration: DateTime.Utc | null
  readonly serializer: Serializer.Serializer
  readonly prefectVersion: string
  readonly storageBlockId: string | null
}

/**
 * A result with its metadata. `persisted` tells whether it was written to (or
 * read from) storage; it does not take part in equality.
 *
 * @category models
 * @since 0.1.0
 */
export interface ResultRecord<A = unknown> extends Equal.Equal, Inspectable.Inspectable {
  readonly _tag: "ResultRecord"
  readonly metadata: ResultRecordMetadata
  readonly result: A
  readonly persisted: boolean
}

const MetadataTypeId = "~@runstate/core/ResultRecordMetadata"
const RecordTypeId = "~@runstate/core/ResultRecord"

const MetadataProto = {
  [MetadataTypeId]: MetadataTypeId,
  [Equal.symbol](this: ResultRecordMetadata, that: unknown): boolean {
    return isResultRecordMetadata(that) &&
      this.storageKey === that.storageKey &&
      this.prefectVersion === that.prefectVersion &&
      this.storageBlockId === that.storageBlockId &&
      (this.expiration === null
        ? that.expiration === null
        : that.expiration !== null && this.expiration.epochMilliseconds === that.expiration.epochMilliseconds) &&
      Equal.equals(this.serializer, that.serializer)
  },
  [Hash.symbol](this: ResultRecordMetadata): number {
    let h = Hash.hash(this.storageKey)
    h = Hash.combine(h)(Hash.hash(this.expiration === null ? null : this.expiration.epochMilliseconds))
    h = Hash.combine(h)(Hash.hash(this.serializer))
    h = Hash.combine(h)(Hash.string(this.prefectVersion))
    return Hash.combine(h)(Hash.hash(this.storageBlockId))
  },
  toJSON(this: ResultRecordMetadata) {
    return {
      _id: "ResultRecordMetadata",
      storageKey: this.storageKey,
      expiration: this.expiration === null ? null : formatDateTime(this.expiration),
      serializer: this.serializer.fields,
      prefectVersion: this.prefectVersion,
      storageBlockId: this.storageBlockId
    }
  },
  toString(this: ResultRecordMetadata) {
    return Formatter.format(this.toJSON())
  },
  [Inspectable.NodeInspectSymbol](this: ResultRecordMetadata) {
    return this.toJSON()
  }
}

const RecordProto = {
  [RecordTypeId]: RecordTypeId,
  [Equal.symbol](this: ResultRecord, that: unknown): boolean {
    return isResultRecord(that) && Equal.equals(this.metadata, that.metadata) && Equal.equals(this.result, that.result)
  },
  [Hash.symbol](this: ResultRecord): number {
    return Hash.combine(Hash.hash(this.metadata))(Hash.hash(this.result))
  },
  toJSON(this: ResultRecord) {
    return {
      _id: "ResultRecord",
      metadata: this.metadata.toJSON(),
      result: Inspectable.toJson(this.result),
      persisted: this.persisted
    }
  },
  toString(this: ResultRecord) {
    return Formatter.format(this.toJSON())
  },
  [Inspectable.NodeInspectSymbol](this: ResultRecord) {
    return this.toJSON()
  }
}

/**
 * Tells whether a value is a `ResultRecordMetadata`.
 *
 * @category guards
 * @since 0.1.0
 */
export const isResultRecordMetadata = (u: unknown): u is ResultRecordMetadata =>
  Predicate.hasProperty(u, MetadataTypeId)

/**
 * Tells whether a value is a `ResultRecord`.
 *
 * @category guards
 * @since 0.1.0
 */
export const isResultRecord = (u: unknown): u is ResultRecord<unknown> => Predicate.hasProperty(u, RecordTypeId)

/**
 * Builds metadata. `expiration` and `storageBlockId` default to `null`,
 * `prefectVersion` to {@link defaultPrefectVersion}.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeMetadata = (options: {
  readonly storageKey: string | null
  readonly serializer: Serializer.Serializer
  readonly expiration?: DateTime.Utc | null | undefined
  readonly prefectVersion?: string | undefined
  readonly storageBlockId?: string | null | undefined
}): ResultRecordMetadata => {
  const self = Object.create(MetadataProto)
  self._tag = "ResultRecordMetadata"
  self.storageKey = options.storageKey
  self.expiration = options.expiration ?? null
  self.serializer = options.serializer
  self.prefectVersion = options.prefectVersion ?? defaultPrefectVersion
  self.storageBlockId = options.storageBlockId ?? null
  return self
}

/**
 * Builds a record, unpersisted unless `persisted` says otherwise.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <A>(options: {
  readonly metadata: ResultRecordMetadata
  readonly result: A
  readonly persisted?: boolean | undefined
}): ResultRecord<A> => {
  const self = Object.create(RecordProto)
  self._tag = "ResultRecord"
  self.metadata = options.metadata
  self.result = options.result
  self.persisted = options.persisted ?? false
  return self
}

/**
 * The same record marked persisted (Prefect's `mark_persisted`, as a new value).
 *
 * @category combinators
 * @since 0.1.0
 */
export const markPersisted = <A>(self: ResultRecord<A>): ResultRecord<A> =>
  self.persisted ? self : make({ metadata: self.metadata, result: self.result, persisted: true })

// ---------------------------------------------------------------------------------------
// Datetimes
// ---------------------------------------------------------------------------------------

/**
 * A datetime as Prefect writes it (Python's `isoformat()` of a UTC datetime):
 * `2024-01-02T03:04:05.678000Z`, with the 6-digit fraction only when it is
 * not zero (`2024-01-02T03:04:05Z`).
 *
 * @category formatting
 * @since 0.1.0
 */
export const formatDateTime = (dt: DateTime.Utc): string => formatEpochMillis(dt.epochMilliseconds)

/**
 * Parses an ISO-8601 datetime as Prefect writes or accepts it: 0–9 fraction
 * digits (truncated to milliseconds), `Z` or a `±HH:MM` offset (converted to
 * UTC), no offset read as UTC. `None` when the text is not such a datetime.
 *
 * @category parsing
 * @since 0.1.0
 */
export const parseDateTime = (s: string): Option.Option<DateTime.Utc> => {
  const ms = parseEpochMillis(s)
  return ms === undefined ? Option.none() : Option.some(DateTime.makeUnsafe(ms))
}

// ---------------------------------------------------------------------------------------
// Metadata as JSON
// ---------------------------------------------------------------------------------------

/**
 * Metadata as the plain JSON object Prefect writes, keys in Prefect's order:
 * `storage_key`, `expiration`, `serializer` (every field), `prefect_version`,
 * `storage_block_id`.
 *
 * @category conversions
 * @since 0.1.0
 */
export const metadataToJson = (metadata: ResultRecordMetadata): { readonly [k: string]: unknown } => ({
  storage_key: metadata.storageKey,
  expiration: metadata.expiration === null ? null : formatDateTime(metadata.expiration),
  serializer: metadata.serializer.fields,
  prefect_version: metadata.prefectVersion,
  storage_block_id: metadata.storageBlockId
})

const defaultSerializer = (): Serializer.Serializer =>
  Serializer.unknown({ type: "pickle", picklelib: "cloudpickle", picklelib_version: null })

const describe = PyJson.describe

const isObject = (u: unknown): u is { readonly [k: string]: unknown } =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const readExpiration = (u: unknown): Result.Result<DateTime.Utc | null, string> => {
  if (u === null || u === undefined) return Result.succeed(null)
  if (DateTime.isDateTime(u)) return Result.succeed(DateTime.toUtc(u))
  if (typeof u === "string") {
    const ms = parseEpochMillis(u)
    if (ms !== undefined) return Result.succeed(DateTime.makeUnsafe(ms))
  }
  if (typeof u === "number" && Number.isFinite(u)) {
    // pydantic reads numbers as Unix time: seconds, or milliseconds beyond 2e10.
    const ms = Math.floor(Math.abs(u) > 2e10 ? u : u * 1000)
    // outside JS's date range (±8.64e15 ms) it is not a datetime: a typed failure, not a throw
    if (Math.abs(ms) <= 8.64e15) return Result.succeed(DateTime.makeUnsafe(ms))
  }
  return Result.fail(`expiration: expected a datetime, got ${describe(u)}`)
}

const readMetadata = (u: unknown): Result.Result<{
  readonly storageKey: string | null
  readonly expiration: DateTime.Utc | null
  readonly serializer: unknown
  readonly prefectVersion: string
  readonly storageBlockId: string | null
}, string> => {
  if (!isObject(u)) return Result.fail(`expected an object, got ${describe(u)}`)
  const storageKey = u["storage_key"] ?? null
  if (storageKey !== null && typeof storageKey !== "string") {
    return Result.fail(`storage_key: expected a string or null, got ${describe(storageKey)}`)
  }
  const expiration = readExpiration(u["expiration"])
  if (Result.isFailure(expiration)) return Result.fail(expiration.failure)
  const prefectVersion = Object.hasOwn(u, "prefect_version") ? u["prefect_version"] : defaultPrefectVersion
  if (typeof prefectVersion !== "string") {
    return Result.fail(`prefect_version: expected a string, got ${describe(prefectVersion)}`)
  }
  const blockId = u["storage_block_id"] ?? null
  let storageBlockId: string | null = null
  if (blockId !== null) {
    const uuid = typeof blockId === "string" ? PyJson.normalizeUuid(blockId) : undefined
    if (uuid === undefined) return Result.fail(`storage_block_id: expected a UUID or null, got ${describe(blockId)}`)
    storageBlockId = uuid
  }
  return Result.succeed({
    storageKey,
    expiration: expiration.success,
    serializer: Object.hasOwn(u, "serializer") ? u["serializer"] : undefined,
    prefectVersion,
    storageBlockId
  })
}

/**
 * Reads metadata from its JSON object, tolerantly as Prefect does: unknown keys
 * are ignored; a missing `storage_key`, `expiration` or `storage_block_id` is
 * `null`; a missing `prefect_version` is {@link defaultPrefectVersion}; a
 * missing `serializer` is Prefect's default, `pickle` (an `unknown`
 * placeholder here). `serializer` goes through `Serializer.fromJson`.
 * Datetimes may have 0–6 fraction digits and a `Z` or `±HH:MM` offset; they are
 * converted to UTC with millisecond precision. Metadata values are returned as is.
 *
 * @category conversions
 * @since 0.1.0
 */
export const metadataFromJson = (u: unknown): Effect.Effect<ResultRecordMetadata, SerializationError> =>
  Effect.suspend(() => {
    if (isResultRecordMetadata(u)) return Effect.succeed(u)
    const read = readMetadata(u)
    if (Result.isFailure(read)) {
      return Effect.fail(new SerializationError({ message: `Invalid result record metadata: ${read.failure}` }))
    }
    const fields = read.success
    const serializer = fields.serializer === undefined
      ? Effect.succeed(defaultSerializer())
      : Effect.mapError(
        Serializer.fromJson(fields.serializer),
        (cause) => new SerializationError({ message: `Invalid result record metadata: ${cause.message}`, cause })
      )
    return Effect.map(serializer, (serializer) =>
      makeMetadata({
        storageKey: fields.storageKey,
        expiration: fields.expiration,
        serializer,
        prefectVersion: fields.prefectVersion,
        storageBlockId: fields.storageBlockId
      }))
  })

// ---------------------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------------------

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder("utf-8", { fatal: true })

const compactJson = (value: unknown, what: string): Effect.Effect<Uint8Array, SerializationError> =>
  Effect.try({
    try: () => utf8Encoder.encode(PyJson.dumps(value, { python: false, prefect: false })),
    catch: (cause) => RecordText.writeError(what, cause)
  })

/** `bytes` as UTF-8 text, or `undefined` when they are not valid UTF-8. */
const utf8Text = (bytes: Uint8Array): string | undefined => {
  try {
    return utf8Decoder.decode(bytes)
  } catch {
    return undefined
  }
}

/** Python's `json.loads` of `text` (no object hook), or the error naming `what`. */
const parseJsonText = (text: string, what: string): { readonly value: unknown } | SerializationError => {
  const fast = FastJson.parse(text, false)
  if (fast !== FastJson.NotFast) return { value: fast }
  try {
    return { value: PyJson.parse(text) }
  } catch (cause) {
    return new SerializationError({
      message: `${what} is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause
    })
  }
}

/** Python's `json.loads` of `bytes` (no object hook), or the error naming `what`. */
const parseJsonSync = (bytes: Uint8Array, what: string): { readonly value: unknown } | SerializationError => {
  let text: string
  try {
    text = utf8Decoder.decode(bytes)
  } catch (cause) {
    return new SerializationError({ message: `${what} is not valid UTF-8`, cause })
  }
  return parseJsonText(text, what)
}

const parseJson = (bytes: Uint8Array, what: string): Effect.Effect<unknown, SerializationError> =>
  Effect.suspend(() => {
    const parsed = parseJsonSync(bytes, what)
    return parsed instanceof SerializationError ? Effect.fail(parsed) : Effect.succeed(parsed.value)
  })

/**
 * The result's bytes, `metadata.serializer.dumps(result)`. A failure is
 * Prefect's `Failed to serialize object of type 'function' with serializer
 * 'json'. You can try a different serializer (e.g. result_serializer="json")
 * or disabling persistence (persist_result=False) for this flow or task.`,
 * with the serializer's error as `cause`. The type name is the JS type of the
 * result: `typeof` for primitives (`'function'`, `'symbol'`, `'bigint'`),
 * `'null'`, `'Array'`, `'object'` for plain objects, else the class name
 * (`'Map'`, `'Set'`, `'Error'`).
 *
 * @category serialization
 * @since 0.1.0
 */
export const serializeResult = <A>(self: ResultRecord<A>): Effect.Effect<Uint8Array, SerializationError> =>
  Effect.mapError(self.metadata.serializer.dumps(self.result), (cause) => RecordText.serializeResultError(self, cause))

/**
 * The metadata's bytes (Prefect's `dump_bytes`): compact JSON in Prefect's key
 * order, UTF-8. Fails only when an `unknown` serializer carries a field JSON
 * cannot hold.
 *
 * @category serialization
 * @since 0.1.0
 */
export const serializeMetadata = (metadata: ResultRecordMetadata): Effect.Effect<Uint8Array, SerializationError> =>
  Effect.suspend(() => compactJson(metadataToJson(metadata), "result record metadata"))

/**
 * The record's bytes in Prefect's layout: compact JSON
 * `{"metadata":{...},"result":"<serialized result as text>"}`, UTF-8, no
 * trailing newline — e.g. for `"The results are in..."` with `Serializer.json`:
 * `{"metadata":{"storage_key":"...","expiration":null,"serializer":{"type":"json",...},"prefect_version":"3.8.4","storage_block_id":null},"result":"\"The results are in...\""}`.
 * Strings are escaped as pydantic does (quotes, backslashes and control
 * characters only; other characters written as UTF-8).
 *
 * @category serialization
 * @since 0.1.0
 */
export const serialize = <A>(self: ResultRecord<A>): Effect.Effect<Uint8Array, SerializationError> =>
  Effect.suspend(() => {
    const text = RecordText.serialize(self)
    if (text === undefined) {
      // A serializer without a text form: its bytes, decoded.
      return Effect.flatMap(serializeResult(self), (bytes) =>
        Effect.try({
          try: () => utf8Decoder.decode(bytes),
          catch: (cause) => new SerializationError({ message: "Serialized result is not valid UTF-8", cause })
        }).pipe(Effect.flatMap((text) =>
          Effect.try({
            try: () => utf8Encoder.encode(RecordText.envelope(self.metadata, text)),
            catch: (cause) => RecordText.writeError("result record", cause)
          })
        )))
    }
    return typeof text === "string" ? Effect.succeed(utf8Encoder.encode(text)) : Effect.fail(text)
  })

/**
 * Reads metadata bytes (Prefect's `load_bytes`), see {@link metadataFromJson}.
 *
 * @category serialization
 * @since 0.1.0
 */
export const deserializeMetadata = (bytes: Uint8Array): Effect.Effect<ResultRecordMetadata, SerializationError> =>
  Effect.flatMap(parseJson(bytes, "Result record metadata"), metadataFromJson)

const hasOwn = (o: object, key: string): boolean => Object.hasOwn(o, key)

/** Prefect's old-format coercion, without mutating the parsed value. */
const coerce = (u: unknown): Result.Result<{ readonly metadata: unknown; readonly result: unknown }, string> => {
  if (!isObject(u)) return Result.fail(`expected a JSON object, got ${describe(u)}`)
  const result: { readonly value: unknown } | undefined = hasOwn(u, "data")
    ? { value: u["data"] }
    : hasOwn(u, "result")
    ? { value: u["result"] }
    : undefined
  let metadata: unknown = hasOwn(u, "metadata") ? u["metadata"] : {}
  const moved = ["expiration", "serializer", "prefect_version"].filter((k) => hasOwn(u, k))
  if (moved.length > 0) {
    if (!isObject(metadata)) return Result.fail("'metadata' must be an object")
    const copy: Record<string, unknown> = {}
    for (const k of Object.keys(metadata)) PyJson.setOwn(copy, k, metadata[k])
    for (const k of moved) copy[k] = u[k]
    metadata = copy
  }
  if (result === undefined) return Result.fail("field 'result' is required")
  return Result.succeed({ metadata, result: result.value })
}

/**
 * The stored text of a record: `stored` itself when it is a well-formed
 * string, else its UTF-8 text (a string with lone surrogates goes through
 * UTF-8 as a byte store would keep it); `undefined` for bytes that are not
 * UTF-8.
 */
const storedText = (stored: string | Uint8Array): string | undefined =>
  typeof stored === "string"
    ? stored.isWellFormed() ? stored : utf8Decoder.decode(utf8Encoder.encode(stored))
    : utf8Text(stored)

/**
 * A stored record's metadata and its `result` field as stored (the
 * serializer's text for a string result; any other JSON value as is), before
 * the result is loaded.
 *
 * @category models
 * @since 0.2.0
 */
export interface Envelope {
  readonly metadata: ResultRecordMetadata
  readonly result: unknown
}

const parseEnvelopeText = (text: string | undefined): Effect.Effect<Envelope, SerializationError> =>
  Effect.flatMap(
    Effect.suspend(() => {
      if (text === undefined) {
        return Effect.fail(new SerializationError({ message: "Result record is not valid UTF-8" }))
      }
      const parsed = parseJsonText(text, "Result record")
      return parsed instanceof SerializationError ? Effect.fail(parsed) : Effect.succeed(parsed.value)
    }),
    (u) => {
      const coerced = coerce(u)
      if (Result.isFailure(coerced)) {
        return Effect.fail(new SerializationError({ message: `Not a result record: ${coerced.failure}` }))
      }
      return Effect.map(
        metadataFromJson(coerced.success.metadata),
        (metadata): Envelope => ({ metadata, result: coerced.success.result })
      )
    }
  )

/**
 * Parses a stored record up to its result (the one envelope parser: `deserialize`,
 * a store's `read` and its `exists` all use it): Python-compatible JSON
 * (`NaN`, `Infinity` and big integers included), Prefect's old-format
 * coercion (`data` → `result`; top-level `expiration`, `serializer`,
 * `prefect_version` moved into `metadata`; a missing `metadata` is `{}`), and
 * the metadata read by {@link metadataFromJson}. The result is not loaded: a
 * record whose serializer cannot run here still parses. Fails with a
 * `SerializationError` on anything that is not a record (not UTF-8, not JSON,
 * not an object, no `result`, invalid metadata).
 *
 * @category serialization
 * @since 0.2.0
 */
export const deserializeEnvelope = (stored: string | Uint8Array): Effect.Effect<Envelope, SerializationError> =>
  Effect.suspend(() => parseEnvelopeText(storedText(stored)))

/** Loads an envelope's result: a string with `serializer`'s text form when it has one, else its bytes. */
const loadResult = (serializer: Serializer.Serializer, result: unknown): Effect.Effect<unknown, SerializationError> => {
  if (typeof result !== "string") return Effect.succeed(result)
  const loaded = RecordText.loads(serializer, result)
  if (loaded === undefined) return serializer.loads(utf8Encoder.encode(result))
  return loaded instanceof SerializationError ? Effect.fail(loaded) : Effect.succeed(loaded.value)
}

/** A raw result read with `backupSerializer`, after `error` said the bytes are not a record. */
const readRaw = (
  stored: string | Uint8Array,
  error: SerializationError,
  backupSerializer: Serializer.Serializer
): Effect.Effect<ResultRecord<unknown>, SerializationError> =>
  Effect.mapBoth(backupSerializer.loads(typeof stored === "string" ? utf8Encoder.encode(stored) : stored), {
    onFailure: (cause) =>
      new SerializationError({
        message: `${error.message}; nor a raw result for serializer ${PyJson.describe(backupSerializer.type)}: ${
          PyJson.capLines(cause.message)
        }`,
        cause
      }),
    onSuccess: (result) => make({ metadata: makeMetadata({ storageKey: null, serializer: backupSerializer }), result })
  })

/**
 * Reads a record from bytes (Prefect's `ResultRecord.deserialize`):
 *
 * 1. The bytes are parsed by {@link deserializeEnvelope}.
 * 2. If they are not a record (not UTF-8, not JSON, not an object, no
 *    `result`, invalid metadata) and `backupSerializer` is given, the whole
 *    bytes are a raw result: `backupSerializer.loads(bytes)` with fresh
 *    metadata naming `backupSerializer`; without it the error is returned.
 * 3. A string `result` is loaded with the metadata's serializer (a `pickle` or
 *    other unknown serializer fails with Prefect's "deserialization cannot be
 *    performed" text); any other JSON value is kept as is.
 *
 * Hence Prefect's ambiguity: a raw JSON result that is an object with a `data`
 * key reads as an old-format record with the default `pickle` metadata:
 * `{"data": 5}` reads as `5`, `{"data": "x"}` fails. The record is returned
 * unpersisted; the store marks what it reads.
 *
 * @category serialization
 * @since 0.1.0
 */
export const deserialize = (
  bytes: Uint8Array,
  backupSerializer?: Serializer.Serializer
): Effect.Effect<ResultRecord<unknown>, SerializationError> =>
  Effect.matchEffect(deserializeEnvelope(bytes), {
    onFailure: (error) => backupSerializer === undefined ? Effect.fail(error) : readRaw(bytes, error, backupSerializer),
    onSuccess: ({ metadata, result }) =>
      Effect.map(loadResult(metadata.serializer, result), (value) => make({ metadata, result: value }))
  })

/**
 * Reads a record stored as separate result and metadata bytes (Prefect's
 * `deserialize_from_result_and_metadata`): the metadata names the serializer
 * that loads the result bytes.
 *
 * @category serialization
 * @since 0.1.0
 */
export const deserializeFromResultAndMetadata = (
  resultBytes: Uint8Array,
  metadataBytes: Uint8Array
): Effect.Effect<ResultRecord<unknown>, SerializationError> =>
  Effect.flatMap(
    deserializeMetadata(metadataBytes),
    (metadata) => Effect.map(metadata.serializer.loads(resultBytes), (result) => make({ metadata, result }))
  )

// ---------------------------------------------------------------------------------------
// Codec
// ---------------------------------------------------------------------------------------

/**
 * A record codec: {@link serialize} and {@link deserialize} for one store.
 * It remembers the metadata texts it has read (without storage key and
 * expiration, so records that differ in those share an entry; at most
 * `capacity` of them, least recently used dropped) and the last one it wrote,
 * so the records of a store are written and read without building or parsing
 * their metadata again — with exactly the results of the plain functions.
 * Nothing is shared between codecs: a store's memo goes with it.
 *
 * `serializers` are serializers this codec reads with: a record whose metadata
 * names the fields of one of them (by `Equal`) is loaded with it rather than
 * with the serializer `Serializer.fromJson` builds — how a store reads what
 * its own custom serializer wrote.
 *
 * @category models
 * @since 0.2.0
 */
export interface Codec {
  /**
   * The record's envelope (see {@link serialize}): its text when the
   * serializer has a text form (`Serializer.text`), else its bytes. With a
   * text form the answer is a finished `Exit`, which callers may read without
   * running it.
   */
  readonly serialize: (record: ResultRecord<unknown>) => Effect.Effect<string | Uint8Array, SerializationError>
  /** {@link deserialize} of the stored text or bytes. */
  readonly deserialize: (
    stored: string | Uint8Array,
    backupSerializer?: Serializer.Serializer
  ) => Effect.Effect<ResultRecord<unknown>, SerializationError>
  /** {@link deserializeEnvelope}'s metadata of the stored text or bytes (the result is not loaded). */
  readonly deserializeMetadata: (stored: string | Uint8Array) => Effect.Effect<ResultRecordMetadata, SerializationError>
}

/**
 * A new record codec with its own, empty memo (see {@link Codec}).
 * `capacity` (default 64) bounds the metadata texts it remembers.
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeCodec = (options?: {
  readonly capacity?: number | undefined
  readonly serializers?: ReadonlyArray<Serializer.Serializer> | undefined
}): Codec => {
  const write = RecordText.makeWriter()
  const memo = RecordText.makeReadMemo(Math.max(1, Math.floor(options?.capacity ?? 64)))
  const serializers = options?.serializers ?? []

  const runnable = (metadata: ResultRecordMetadata): ResultRecordMetadata => {
    for (const s of serializers) {
      if (s !== metadata.serializer && Equal.equals(s, metadata.serializer)) {
        return makeMetadata({
          storageKey: metadata.storageKey,
          serializer: s,
          expiration: metadata.expiration,
          prefectVersion: metadata.prefectVersion,
          storageBlockId: metadata.storageBlockId
        })
      }
    }
    return metadata
  }

  const serializeRecord: Codec["serialize"] = (record) => {
    const text = write(record)
    if (text === undefined) return serialize(record)
    return typeof text === "string" ? Exit.succeed(text) : Exit.fail(text)
  }

  /** The metadata of a split envelope, with its own storage key and expiration. */
  const splitMetadata = (split: RecordText.Split): ResultRecordMetadata => {
    const m = split.metadata
    return makeMetadata({
      storageKey: split.storageKey,
      serializer: m.serializer,
      expiration: split.expiration === null ? null : DateTime.makeUnsafe(split.expiration),
      prefectVersion: m.prefectVersion,
      storageBlockId: m.storageBlockId
    })
  }

  /** The result JSON of a split envelope when it is one JSON value up to the final `}`, else `NotFast`. */
  const splitResult = (text: string, split: RecordText.Split): unknown => {
    if (text.charCodeAt(text.length - 1) !== 0x7d) return FastJson.NotFast
    return FastJson.parse(text.slice(split.resultStart, text.length - 1), false)
  }

  const full = (
    stored: string | Uint8Array,
    text: string | undefined,
    backupSerializer: Serializer.Serializer | undefined
  ): Effect.Effect<ResultRecord<unknown>, SerializationError> =>
    Effect.matchEffect(parseEnvelopeText(text), {
      onFailure: (error) =>
        backupSerializer === undefined ? Effect.fail(error) : readRaw(stored, error, backupSerializer),
      onSuccess: (envelope) => {
        const metadata = runnable(envelope.metadata)
        if (text !== undefined && typeof envelope.result === "string") memo.learn(text, metadata)
        return Effect.map(
          loadResult(metadata.serializer, envelope.result),
          (value) => make({ metadata, result: value })
        )
      }
    })

  const deserializeRecord: Codec["deserialize"] = (stored, backupSerializer) =>
    Effect.suspend(() => {
      const text = storedText(stored)
      const split = text === undefined ? undefined : memo.split(text)
      if (split !== undefined) {
        const result = splitResult(text!, split)
        if (typeof result === "string") {
          const loaded = RecordText.loads(split.metadata.serializer, result)
          if (loaded !== undefined) {
            return loaded instanceof SerializationError
              ? Effect.fail(loaded)
              : Effect.succeed(make({ metadata: splitMetadata(split), result: loaded.value }))
          }
        }
      }
      return full(stored, text, backupSerializer)
    })

  const deserializeMetadata: Codec["deserializeMetadata"] = (stored) =>
    Effect.suspend(() => {
      const text = storedText(stored)
      const split = text === undefined ? undefined : memo.split(text)
      if (split !== undefined && splitResult(text!, split) !== FastJson.NotFast) {
        return Effect.succeed(splitMetadata(split))
      }
      return Effect.map(parseEnvelopeText(text), (envelope) => {
        const metadata = runnable(envelope.metadata)
        if (text !== undefined && typeof envelope.result === "string") memo.learn(text, metadata)
        return metadata
      })
    })

  return { serialize: serializeRecord, deserialize: deserializeRecord, deserializeMetadata }
}
