/**
 * `runstate inspect`: find the files of a result-storage directory and tell
 * what each one is — a full record envelope, a Prefect 3.0 result blob, split
 * metadata, a raw result — decoding JSON values with the library's own
 * `ResultRecord` readers. A file that cannot be read or decoded becomes an
 * entry with an error note; nothing here fails.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as ResultRecord from "@runstate/core/ResultRecord"
import * as Serializer from "@runstate/core/Serializer"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/** What a file is. */
export type EntryKind = "record" | "record-3.0" | "metadata" | "raw" | "unreadable"

/** One file of the directory. */
export interface Entry {
  /** Path relative to the inspected directory, `/`-separated (the key Prefect's local storage resolves). */
  readonly file: string
  readonly kind: EntryKind
  /** `metadata.storage_key` when the file has metadata. */
  readonly storageKey: string | null
  /** The serializer's `type` (`json`, `pickle`, `compressed/json`, …), `null` when unknown. */
  readonly serializer: string | null
  /** ISO expiration from the metadata; `null` = never (or no metadata). */
  readonly expiration: string | null
  readonly expired: boolean
  readonly prefectVersion: string | null
  readonly size: number
  /** Whether `value` holds the decoded result. */
  readonly decoded: boolean
  readonly value?: unknown
  /** Why the value is not shown (pickle, unavailable serializer, metadata without its result). */
  readonly note?: string
  /** Why the file could not be read or decoded. */
  readonly error?: string
}

/** The outcome of inspecting a path. */
export interface Report {
  readonly path: string
  readonly entries: ReadonlyArray<Entry>
  /** Temp files of interrupted atomic writes, not inspected. */
  readonly skipped: number
}

/** Progress callback: files done, files in total. */
export type OnProgress = (done: number, total: number) => Effect.Effect<void>

export const pickleNote = "pickle: not readable outside Python"

const tempFile = /(^|\/)\.[^/]*\.runstate-tmp$/

const messageOf = (u: unknown): string => {
  if (u instanceof Error) return u.message
  if (typeof u === "object" && u !== null && "message" in u && typeof u.message === "string") return u.message
  return String(u)
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Files under `root` (or `root` itself when it is a file), sorted, temp files apart. */
export const listFiles = (
  root: string
): Effect.Effect<{ readonly files: Array<string>; readonly skipped: number; readonly single: boolean }, string> =>
  Effect.tryPromise({
    try: async () => {
      const stat = await fs.stat(root)
      if (!stat.isDirectory()) return { files: [path.basename(root)], skipped: 0, single: true }
      const dirents = await fs.readdir(root, { recursive: true, withFileTypes: true })
      const files: Array<string> = []
      let skipped = 0
      for (const d of dirents) {
        if (d.isDirectory()) continue
        const rel = path.relative(root, path.join(d.parentPath, d.name)).split(path.sep).join("/")
        if (tempFile.test(rel)) skipped++
        else files.push(rel)
      }
      files.sort()
      return { files, skipped, single: false }
    },
    catch: (cause) => `cannot read ${root}: ${messageOf(cause)}`
  })

const serializerType = (s: unknown): string | null => isObject(s) && typeof s["type"] === "string" ? s["type"] : null

const stringOrNull = (u: unknown): string | null => typeof u === "string" ? u : null

/** A base64 pickle (protocol 2–5 starts with 0x80 0x02..0x05: `gAI`, `gAM`, `gAS`, `gAW`). */
const looksLikePickle = (text: string): boolean => /^gA[IMSW][A-Za-z0-9+/=\s]*$/.test(text.trim())

const notReadableNote = (type: string | null): string | undefined => {
  if (type === "pickle") return pickleNote
  if (type === null) return "no serializer in the metadata"
  if (type !== "json" && type !== "compressed/json") return `serializer '${type}' is not available outside Python`
  return undefined
}

interface Base {
  readonly file: string
  readonly size: number
}

const unreadable = (base: Base, error: string): Entry => ({
  ...base,
  kind: "unreadable",
  storageKey: null,
  serializer: null,
  expiration: null,
  expired: false,
  prefectVersion: null,
  decoded: false,
  error
})

const expiredAt = (expiration: string | null, now: number): boolean => {
  if (expiration === null) return false
  const at = Date.parse(expiration)
  return Number.isFinite(at) && at <= now
}

/** Decodes `bytes` with the library's reader; the result value or an error message. */
const decodeWith = (
  read: Effect.Effect<ResultRecord.ResultRecord<unknown>, unknown>
): Effect.Effect<{ readonly value: unknown } | { readonly error: string }> =>
  read.pipe(
    Effect.map((record) => ({ value: record.result })),
    Effect.catchCause((cause) => Effect.succeed({ error: messageOf(Cause.squash(cause)) }))
  )

const withOutcome = (
  entry: Omit<Entry, "decoded">,
  outcome: { readonly value: unknown } | { readonly error: string }
): Entry =>
  "value" in outcome
    ? { ...entry, decoded: true, value: outcome.value }
    : { ...entry, decoded: false, error: outcome.error }

/** Classifies and decodes one file. */
export const inspectFile = (
  root: string,
  file: string,
  single: boolean,
  now: number
): Effect.Effect<Entry> =>
  Effect.gen(function*() {
    const absolute = single ? root : path.join(root, file)
    const read = yield* Effect.result(Effect.tryPromise(() => fs.readFile(absolute)))
    if (read._tag === "Failure") return unreadable({ file, size: 0 }, `cannot read: ${messageOf(read.failure)}`)
    const bytes = new Uint8Array(read.success.buffer, read.success.byteOffset, read.success.byteLength)
    const base: Base = { file, size: bytes.byteLength }
    if (bytes.byteLength === 0) return unreadable(base, "empty file")
    // A record (full envelope or Prefect 3.0's blob) whose metadata fields sit in `fields`.
    const readRecord = (
      kind: "record" | "record-3.0",
      fields: { readonly [k: string]: unknown },
      storageKey: string | null
    ): Effect.Effect<Entry> => {
      const type = serializerType(fields["serializer"])
      const expiration = stringOrNull(fields["expiration"])
      const entry = {
        ...base,
        kind,
        storageKey,
        serializer: type,
        expiration,
        expired: expiredAt(expiration, now),
        prefectVersion: stringOrNull(fields["prefect_version"])
      }
      const note = notReadableNote(type)
      if (note !== undefined) return Effect.succeed({ ...entry, decoded: false, note })
      return Effect.map(decodeWith(ResultRecord.deserialize(bytes)), (outcome) => withOutcome(entry, outcome))
    }
    const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes)
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (cause) {
      if (looksLikePickle(text)) {
        return {
          ...base,
          kind: "raw",
          storageKey: null,
          serializer: "pickle",
          expiration: null,
          expired: false,
          prefectVersion: null,
          decoded: false,
          note: pickleNote
        }
      }
      return unreadable(base, `not a result record: not JSON (${messageOf(cause)})`)
    }

    // A full envelope: {"metadata": {...}, "result": ...}.
    if (isObject(json) && isObject(json["metadata"]) && "result" in json) {
      const m = json["metadata"]
      return yield* readRecord("record", m, stringOrNull(m["storage_key"]))
    }

    // Prefect 3.0's result blob: {"serializer": {...}, "data": "...", "prefect_version": ..., "expiration": ...}.
    if (isObject(json) && isObject(json["serializer"]) && "data" in json) {
      return yield* readRecord("record-3.0", json, null)
    }

    // Split metadata: {"storage_key": ..., "serializer": {...}, ...} with no result.
    if (isObject(json) && "storage_key" in json && isObject(json["serializer"]) && !("result" in json)) {
      const type = serializerType(json["serializer"])
      const storageKey = stringOrNull(json["storage_key"])
      const expiration = stringOrNull(json["expiration"])
      const entry = {
        ...base,
        kind: "metadata" as const,
        storageKey,
        serializer: type,
        expiration,
        expired: expiredAt(expiration, now),
        prefectVersion: stringOrNull(json["prefect_version"])
      }
      const note = notReadableNote(type)
      if (note !== undefined) return { ...entry, decoded: false, note }
      // The result lives at the storage key: read it when it is a file we can reach.
      const resultPath = storageKey === null ? undefined : path.isAbsolute(storageKey) ? storageKey : undefined
      if (resultPath === undefined) {
        return { ...entry, decoded: false, note: "metadata only: its result lives in the result storage" }
      }
      const result = yield* Effect.result(Effect.tryPromise(() => fs.readFile(resultPath)))
      if (result._tag === "Failure") {
        return { ...entry, decoded: false, note: `metadata only: result file ${resultPath} not readable here` }
      }
      const resultBytes = new Uint8Array(result.success.buffer, result.success.byteOffset, result.success.byteLength)
      return withOutcome(
        entry,
        yield* decodeWith(ResultRecord.deserializeFromResultAndMetadata(resultBytes, bytes))
      )
    }

    // Anything else that is JSON: a raw result (Prefect's flow results), read with the JSON serializer.
    const entry = {
      ...base,
      kind: "raw" as const,
      storageKey: null,
      serializer: "json",
      expiration: null,
      expired: false,
      prefectVersion: null
    }
    return withOutcome(entry, yield* decodeWith(ResultRecord.deserialize(bytes, Serializer.json)))
  })

/**
 * Inspects a directory (recursively) or one file, `concurrency` files at a
 * time, calling `onProgress` every `progressEvery` files and at the end.
 */
export const inspect = (
  root: string,
  options: {
    readonly onProgress?: OnProgress | undefined
    readonly progressEvery?: number | undefined
    readonly concurrency?: number | undefined
    readonly onListed?: ((total: number) => Effect.Effect<void>) | undefined
  } = {}
): Effect.Effect<Report, string> =>
  Effect.gen(function*() {
    const absolute = path.resolve(root)
    const listed = yield* listFiles(absolute)
    const single = listed.single
    const total = listed.files.length
    if (options.onListed !== undefined) yield* options.onListed(total)
    const now = yield* Clock.currentTimeMillis
    const every = options.progressEvery ?? 100
    let done = 0
    const entries = yield* Effect.forEach(
      listed.files,
      (file) =>
        Effect.tap(inspectFile(absolute, file, single, now), () => {
          done++
          return options.onProgress !== undefined && (done % every === 0 || done === total)
            ? options.onProgress(done, total)
            : Effect.void
        }),
      { concurrency: options.concurrency ?? 16 }
    )
    return { path: absolute, entries, skipped: listed.skipped }
  })
