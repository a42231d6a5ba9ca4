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

/** The envelope text from `,"expiration":` to `"result":` (throws when serializer fields are not JSON). */
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
  const text = ",\"expiration\":" +
    (expiration === null ? "null" : PyJson.unicodeString(formatEpochMillis(expiration.epochMilliseconds))) +
    ",\"serializer\":" + PyJson.dumps(fields, { python: false, prefect: false }) +
    ",\"prefect_version\":" + PyJson.unicodeString(metadata.prefectVersion) +
    ",\"storage_block_id\":" + nullableString(metadata.storageBlockId) +
    "},\"result\":"
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
