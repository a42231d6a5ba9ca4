/**
 * A result record's envelope as text: writing it, and reading back envelopes
 * whose metadata text was seen before without parsing that text again. Holds
 * no state of its own: the memos are made per record codec
 * (`ResultRecord.makeCodec`), so each store owns its memos and they go with it.
 *
 * The envelope is the compact JSON
 * `{"metadata":{"storage_key":K,"expiration":E,"serializer":{...},"prefect_version":V,"storage_block_id":B},"result":R}`.
 * Everything after `E` up to `"result":` — the "tail" — depends only on the
 * serializer's fields, the Prefect version and the storage block id, which
 * records of one store share; the storage key, the expiration and the result
 * differ per record and are written (and read) on their own.
 *
 * @internal
 */
import type { ResultRecord, ResultRecordMetadata } from "../ResultRecord.ts"
import { SerializationError } from "../RunError.ts"
import type { Serializer } from "../Serializer.ts"
import { formatEpochMillis, parseEpochMillis } from "./isoDate.ts"
import * as Lru from "./lru.ts"
import { reprString } from "./pyrepr.ts"
import * as PyJson from "./pythonJson.ts"

const messageOf = (e: unknown): string => PyJson.capLines(e instanceof Error ? e.message : String(e))

const extraInfo =
  "You can try a different serializer (e.g. result_serializer=\"json\") or disabling persistence (persist_result=False) for this flow or task."

/** `ResultRecord.serializeResult`'s error for a failure `cause` of the serializer. */
export const serializeResultError = (record: ResultRecord<unknown>, cause: SerializationError): SerializationError =>
  new SerializationError({
    message: `Failed to serialize object of type ${reprString(PyJson.typeName(record.result))} with serializer ${
      PyJson.describe(record.metadata.serializer.type)
    }. ${extraInfo}`,
    cause
  })

/** The error of a compact JSON write of `what` that threw `cause`. */
export const writeError = (what: string, cause: unknown): SerializationError =>
  new SerializationError({ message: `Failed to write ${what}: ${messageOf(cause)}`, cause })

const nullableString = (s: string | null): string => s === null ? "null" : PyJson.unicodeString(s)

const head = "{\"metadata\":{\"storage_key\":"
const expirationLabel = ",\"expiration\":"
const tailEnd = "},\"result\":"

/** The expiration as the envelope writes it. */
const expirationText = (metadata: ResultRecordMetadata): string =>
  metadata.expiration === null ? "null" : "\"" + formatEpochMillis(metadata.expiration.epochMilliseconds) + "\""

/**
 * The envelope text from `,"serializer":` to `"result":` (throws when the
 * serializer's fields are not JSON).
 */
export const tailText = (metadata: ResultRecordMetadata): string =>
  ",\"serializer\":" + PyJson.dumps(metadata.serializer.fields, { python: false, prefect: false }) +
  ",\"prefect_version\":" + PyJson.unicodeString(metadata.prefectVersion) +
  ",\"storage_block_id\":" + nullableString(metadata.storageBlockId) + tailEnd

/** The envelope of `metadata` with its tail given and a result's text. */
const envelopeWith = (metadata: ResultRecordMetadata, tail: string, resultText: string): string =>
  head + nullableString(metadata.storageKey) + expirationLabel + expirationText(metadata) + tail +
  PyJson.unicodeString(resultText) + "}"

/**
 * The envelope of `metadata` and a result's text: the compact JSON that
 * `ResultRecord.serialize` writes. Throws when the serializer's fields are not
 * JSON.
 */
export const envelope = (metadata: ResultRecordMetadata, resultText: string): string =>
  envelopeWith(metadata, tailText(metadata), resultText)

/**
 * `serializer`'s text of `value` when it has a text form (else `undefined`),
 * or the `SerializationError` its `dumps` fails with.
 */
const dumpsText = (record: ResultRecord<unknown>): string | SerializationError | undefined => {
  const dumps = record.metadata.serializer.text?.dumps
  if (dumps === undefined) return undefined
  try {
    return dumps(record.result)
  } catch (cause) {
    return serializeResultError(record, new SerializationError({ message: messageOf(cause), cause }))
  }
}

/**
 * A writer of envelopes: `write(record)` is the envelope text when the
 * record's serializer has a text form (else `undefined`), or the
 * `SerializationError` writing fails with. It keeps the metadata text between
 * storage key and result of the last record written (one entry: the records
 * of one store share it, unless their expirations differ).
 */
export const makeWriter = (): (record: ResultRecord<unknown>) => string | SerializationError | undefined => {
  let lastSerializer: Serializer | undefined
  let lastVersion = ""
  let lastBlockId: string | null = null
  let lastExpiration: number | null = null
  let lastTail = ""
  let lastMiddle = ""
  return (record) => {
    const text = dumpsText(record)
    if (typeof text !== "string") return text
    const metadata = record.metadata
    const expiration = metadata.expiration === null ? null : metadata.expiration.epochMilliseconds
    try {
      if (
        metadata.serializer !== lastSerializer || metadata.prefectVersion !== lastVersion ||
        metadata.storageBlockId !== lastBlockId
      ) {
        lastTail = tailText(metadata)
        lastSerializer = metadata.serializer
        lastVersion = metadata.prefectVersion
        lastBlockId = metadata.storageBlockId
        lastExpiration = expiration
        lastMiddle = expirationLabel + expirationText(metadata) + lastTail
      } else if (expiration !== lastExpiration) {
        lastExpiration = expiration
        lastMiddle = expirationLabel + expirationText(metadata) + lastTail
      }
      return head + nullableString(metadata.storageKey) + lastMiddle + PyJson.unicodeString(text) + "}"
    } catch (cause) {
      return writeError("result record", cause)
    }
  }
}

/** The envelope text of `record` (no memo), as {@link makeWriter}'s writers give it. */
export const serialize = (record: ResultRecord<unknown>): string | SerializationError | undefined => {
  const text = dumpsText(record)
  if (typeof text !== "string") return text
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
  serializer: Serializer,
  text: string
): { readonly value: unknown } | SerializationError | undefined => {
  const codecLoads = serializer.text?.loads
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

const keyPrefix = head + "\""

/** A JSON string's content written without escapes: no quote, backslash or control character. */
const plainText = /^[\x20\x21\x23-\x5b\x5d-\uffff]*$/

/**
 * An envelope split where its metadata text is known: the storage key, the
 * expiration (epoch milliseconds or `null`), the metadata the tail was read
 * as when it was learned, and where the result's JSON starts.
 */
export interface Split {
  readonly storageKey: string
  readonly expiration: number | null
  readonly metadata: ResultRecordMetadata
  readonly resultStart: number
}

/** The end of the storage key's string (its closing quote) when it is plain, else -1. */
const keyEnd = (text: string): number => {
  if (!text.startsWith(keyPrefix)) return -1
  const end = text.indexOf("\"", keyPrefix.length)
  return end < 0 || !plainText.test(text.slice(keyPrefix.length, end)) ? -1 : end
}

/** Where the tail starts after the expiration at `at`, and the expiration; `undefined` when not plain. */
const readExpiration = (
  text: string,
  at: number
): { readonly tail: number; readonly expiration: number | null } | undefined => {
  if (!text.startsWith(expirationLabel, at)) return undefined
  const start = at + expirationLabel.length
  if (text.startsWith("null", start)) return { tail: start + 4, expiration: null }
  if (text.charCodeAt(start) !== 0x22) return undefined
  const end = text.indexOf("\"", start + 1)
  if (end < 0) return undefined
  const content = text.slice(start + 1, end)
  if (!plainText.test(content)) return undefined
  const ms = parseEpochMillis(content)
  return ms === undefined ? undefined : { tail: end + 1, expiration: ms }
}

/**
 * A reader's memo: the tails of envelopes read in full, each with the
 * metadata it was read as, keyed by the tail's text (the metadata text without
 * storage key and expiration, so records whose keys and expirations differ
 * share an entry). Bounded: the least recently used tails are dropped.
 */
export interface ReadMemo {
  /**
   * After `text` was read in full as an envelope with `metadata`: remembers
   * its tail when `text` has the envelope layout with a plain key and
   * expiration.
   */
  readonly learn: (text: string, metadata: ResultRecordMetadata) => void
  /**
   * `text` split at a known tail, or `undefined` when it is not an envelope
   * with a plain key and expiration and a tail this memo knows. The caller
   * still parses the result from `resultStart` (to the final `}`).
   */
  readonly split: (text: string) => Split | undefined
}

/** A new, empty read memo of at most `capacity` tails. */
export const makeReadMemo = (capacity: number): ReadMemo => {
  const tails = Lru.make<string, ResultRecordMetadata>(capacity)
  return {
    learn: (text, metadata) => {
      const key = metadata.storageKey
      if (key === null) return
      const end = keyEnd(text)
      if (end !== keyPrefix.length + key.length || !text.startsWith(key, keyPrefix.length)) return
      const expiration = readExpiration(text, end + 1)
      if (expiration === undefined) return
      let tail: string
      try {
        tail = tailText(metadata)
      } catch {
        return
      }
      if (text.startsWith(tail, expiration.tail)) tails.set(tail, metadata)
    },
    split: (text) => {
      const end = keyEnd(text)
      if (end < 0) return undefined
      const expiration = readExpiration(text, end + 1)
      if (expiration === undefined) return undefined
      const close = text.indexOf(tailEnd, expiration.tail)
      if (close < 0) return undefined
      const resultStart = close + tailEnd.length
      const metadata = tails.get(text.slice(expiration.tail, resultStart))
      if (metadata === undefined) return undefined
      return {
        storageKey: text.slice(keyPrefix.length, end),
        expiration: expiration.expiration,
        metadata,
        resultStart
      }
    }
  }
}
