/**
 * A result record's envelope as text, without `TextEncoder` / `TextDecoder`
 * round trips: `ResultRecord.serialize` encodes it, and `ResultStore` writes it
 * to its `KeyValueStore` as a string (whose UTF-8 bytes are the envelope's).
 *
 * The envelope is `pythonJson.dumps({ metadata, result }, { python: false })`:
 * everything but the storage key and the result text depends only on the
 * metadata's expiration, serializer fields, Prefect version and storage block
 * id, so that middle part is kept for the last metadata seen (records of one
 * store share it) and only the two strings are escaped per record.
 *
 * @internal
 */
import type * as DateTime from "effect/DateTime"
import type { ResultRecord, ResultRecordMetadata } from "../ResultRecord.ts"
import { SerializationError } from "../RunError.ts"
import { formatEpochMillis } from "./isoDate.ts"
import { reprString } from "./pyrepr.ts"
import * as PyJson from "./pythonJson.ts"
import { textCodecs } from "./textCodec.ts"

const messageOf = (e: unknown): string => e instanceof Error ? e.message : String(e)

const extraInfo =
  "You can try a different serializer (e.g. result_serializer=\"json\") or disabling persistence (persist_result=False) for this flow or task."

/** `ResultRecord.serializeResult`'s error for a failure `cause` of the serializer. */
export const serializeResultError = (record: ResultRecord<unknown>, cause: SerializationError): SerializationError =>
  new SerializationError({
    message: `Failed to serialize object of type ${reprString(PyJson.typeName(record.result))} with serializer ${
      reprString(record.metadata.serializer.type)
    }. ${extraInfo}`,
    cause
  })

/** The error of a compact JSON write of `what` that threw `cause`. */
export const writeError = (what: string, cause: unknown): SerializationError =>
  new SerializationError({ message: `Failed to write ${what}: ${messageOf(cause)}`, cause })

const nullableString = (s: string | null): string => s === null ? "null" : PyJson.unicodeString(s)

let lastFields: unknown = undefined
let lastExpiration: DateTime.Utc | null = null
let lastVersion = ""
let lastBlockId: string | null = null
let lastMiddle: string | undefined = undefined

/** Each serializer's fields as compact JSON (a serializer and its fields never change). */
const fieldsTexts = new WeakMap<object, string>()

const fieldsText = (serializer: ResultRecordMetadata["serializer"]): string => {
  let text = fieldsTexts.get(serializer)
  if (text === undefined) {
    text = PyJson.dumps(serializer.fields, { python: false, prefect: false })
    fieldsTexts.set(serializer, text)
  }
  return text
}

/** The envelope text from `,"expiration":` to `"result":` (throws when serializer fields are not JSON). */
const middleText = (metadata: ResultRecordMetadata): string => {
  const expiration = metadata.expiration
  return ",\"expiration\":" +
    (expiration === null ? "null" : PyJson.unicodeString(formatEpochMillis(expiration.epochMilliseconds))) +
    ",\"serializer\":" + fieldsText(metadata.serializer) +
    ",\"prefect_version\":" + PyJson.unicodeString(metadata.prefectVersion) +
    ",\"storage_block_id\":" + nullableString(metadata.storageBlockId) +
    "},\"result\":"
}

/** `middleText`, kept for the last metadata seen. */
const middle = (metadata: ResultRecordMetadata): string => {
  const fields = metadata.serializer.fields
  const expiration = metadata.expiration
  if (
    lastMiddle !== undefined && fields === lastFields && metadata.prefectVersion === lastVersion &&
    metadata.storageBlockId === lastBlockId &&
    (expiration === null
      ? lastExpiration === null
      : lastExpiration !== null && expiration.epochMilliseconds === lastExpiration.epochMilliseconds)
  ) return lastMiddle
  const text = middleText(metadata)
  lastFields = fields
  lastExpiration = expiration
  lastVersion = metadata.prefectVersion
  lastBlockId = metadata.storageBlockId
  lastMiddle = text
  return text
}

/**
 * The envelope of `metadata` and a result's text: the compact JSON
 * `{"metadata":{...},"result":"..."}` that `ResultRecord.serialize` writes.
 * Throws when the serializer's fields are not JSON.
 */
export const envelope = (metadata: ResultRecordMetadata, resultText: string): string =>
  "{\"metadata\":{\"storage_key\":" + nullableString(metadata.storageKey) + middle(metadata) +
  PyJson.unicodeString(resultText) + "}"

/**
 * The envelope text of `record` when its serializer has a text form (else
 * `undefined`), or the `SerializationError` `ResultRecord.serialize` fails
 * with.
 */
export const serialize = (record: ResultRecord<unknown>): string | SerializationError | undefined => {
  const dumps = textCodecs.get(record.metadata.serializer)?.dumps
  if (dumps === undefined) return undefined
  let text: string
  try {
    text = dumps(record.result)
  } catch (cause) {
    return serializeResultError(record, new SerializationError({ message: messageOf(cause), cause }))
  }
  try {
    return envelope(record.metadata, text)
  } catch (cause) {
    return writeError("result record", cause)
  }
}

const loneSurrogate = /\p{Cs}/u

/**
 * `serializer.loads(utf8(text))` without the bytes, when `serializer` has a
 * text form and `text` is well-formed (else `undefined`): the value, or the
 * `SerializationError` `loads` fails with.
 */
export const loads = (
  serializer: object,
  text: string
): { readonly value: unknown } | SerializationError | undefined => {
  const codecLoads = textCodecs.get(serializer)?.loads
  if (codecLoads === undefined || loneSurrogate.test(text)) return undefined
  try {
    return { value: codecLoads(text) }
  } catch (cause) {
    return new SerializationError({ message: messageOf(cause), cause })
  }
}

// ---------------------------------------------------------------------------------------
// Reading envelopes back
// ---------------------------------------------------------------------------------------

const envelopePrefix = "{\"metadata\":{\"storage_key\":\""

/** A storage key written without escapes: no quote, backslash or control character. */
const plainKey = /^[\x20\x21\x23-\x5b\x5d-\uffff]*$/

/**
 * The middle text of the last envelope read in full whose layout is the one
 * `envelope` writes, and the metadata that read gave. Parsing is
 * deterministic, so any envelope `{"metadata":{"storage_key":"K"` + middle +
 * `V}` whose `V` is one JSON value reads as that metadata with storage key
 * `K` and result `V`: no need to parse the metadata again.
 */
let readMiddle: string | undefined = undefined
let readMetadata: ResultRecordMetadata | undefined = undefined

/**
 * After `text` was read in full as a record with `metadata` and a string
 * result: remembers its middle when `text` has `envelope`'s layout, so that
 * {@link readKnown} can read the next envelopes with that middle without
 * parsing their metadata.
 */
export const learn = (text: string, metadata: ResultRecordMetadata): void => {
  const key = metadata.storageKey
  if (key === null || !plainKey.test(key) || !text.startsWith(envelopePrefix)) return
  const at = envelopePrefix.length + key.length
  if (!text.startsWith(key, envelopePrefix.length) || text.charCodeAt(at) !== 0x22) return
  let m: string
  try {
    m = middleText(metadata)
  } catch {
    return
  }
  if (!text.startsWith(m, at + 1)) return
  readMiddle = m
  readMetadata = metadata
}

/**
 * The storage key, the metadata (but its storage key) and the loaded result of
 * an envelope whose middle {@link learn} remembered, as a full read would give
 * them, or the `SerializationError` loading the result fails with;
 * `undefined` when `text` is anything else or its serializer has no text form
 * (the caller reads it in full).
 */
export const readKnown = (
  text: string
):
  | { readonly storageKey: string; readonly metadata: ResultRecordMetadata; readonly value: unknown }
  | SerializationError
  | undefined =>
{
  const m = readMiddle
  if (m === undefined || !text.startsWith(envelopePrefix)) return undefined
  const keyEnd = text.indexOf("\"", envelopePrefix.length)
  if (keyEnd < 0 || !text.startsWith(m, keyEnd + 1) || text.charCodeAt(text.length - 1) !== 0x7d) return undefined
  const storageKey = text.slice(envelopePrefix.length, keyEnd)
  if (!plainKey.test(storageKey)) return undefined
  const start = keyEnd + 1 + m.length
  if (text.charCodeAt(start) !== 0x22) return undefined
  let result: unknown
  try {
    result = JSON.parse(text.slice(start, text.length - 1))
  } catch {
    return undefined
  }
  if (typeof result !== "string") return undefined
  const metadata = readMetadata!
  const loaded = loads(metadata.serializer, result)
  return loaded === undefined || loaded instanceof SerializationError
    ? loaded
    : { storageKey, metadata, value: loaded.value }
}

/** Forgets what {@link learn} remembered (for tests that compare both reads). */
export const forget = (): void => {
  readMiddle = undefined
  readMetadata = undefined
}
