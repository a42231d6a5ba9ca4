/**
 * `runstate inspect`: find the records of a result storage — a directory
 * (runstate's file store, Prefect's local storage), a Redis store
 * (`redis://…`) or a SQL store (`postgres://…`) — and tell what each one is:
 * a full record envelope, a Prefect 3.0 result blob, split metadata, a raw
 * result — decoding values with the library's own `ResultRecord` readers. A
 * file that cannot be read or decoded becomes an entry with an error; nothing
 * about one entry stops the others.
 *
 * Reading is defensive: only regular files are opened (non-blocking, so a
 * FIFO never hangs), at most `maxBytes` are read from any file and
 * decompressed from any record, symbolic links are followed only to regular
 * files inside the inspected directory, and a split-layout metadata file's
 * result is read only inside the inspected directory unless `allowOutside`.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as ResultRecord from "@runstate/core/ResultRecord"
import * as RunLog from "@runstate/core/RunLog"
import * as Serializer from "@runstate/core/Serializer"
import * as Timeline from "@runstate/core/Timeline"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as Redacted from "effect/Redacted"
import * as References from "effect/References"
import type * as Scope from "effect/Scope"
import * as NodeCompression from "../NodeCompression.ts"
import { oneLine } from "./cliText.ts"
import * as FileStore from "./fileStore.ts"

/** What a file is. */
export type EntryKind = "record" | "record-3.0" | "metadata" | "raw" | "unreadable"

/** One file of the directory. */
export interface Entry {
  /** Path relative to the inspected directory, `/`-separated (the key Prefect's local storage resolves), or the store key. */
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
  /** Why the file could not be read or decoded (one line). */
  readonly error?: string
}

/** The outcome of inspecting a path. */
export interface Report {
  readonly path: string
  readonly entries: ReadonlyArray<Entry>
  /** Temp files of interrupted atomic writes, not inspected. */
  readonly skipped: number
  /**
   * Files or keys of the run history (`runstate-history/…`, see `--runs`),
   * not listed as records; absent when there are none.
   */
  readonly history?: number | undefined
}

/** Progress callback: files done, files in total. */
export type OnProgress = (done: number, total: number) => Effect.Effect<void>

/** Options of {@link inspect}. */
export interface Options {
  readonly onProgress?: OnProgress | undefined
  readonly progressEvery?: number | undefined
  readonly concurrency?: number | undefined
  readonly onListed?: ((total: number) => Effect.Effect<void>) | undefined
  /** The most bytes read from one file and decompressed from one record. Default {@link defaultMaxBytes}. */
  readonly maxBytes?: number | undefined
  /** Read split-layout results outside the inspected directory. Default `false`. */
  readonly allowOutside?: boolean | undefined
  /** The key prefix of a Redis store. Default `runstate:`. */
  readonly prefix?: string | undefined
  /** The table of a SQL store. Default `effect_key_value_store` (`KeyValueStore.layerSql`'s). */
  readonly table?: string | undefined
}

/** 64 MiB. */
export const defaultMaxBytes = 64 * 1024 * 1024

export const pickleNote = "pickle: not readable outside Python"

/** A temp file of the file store (a path component starting with `.runstate-tmp.`, a name no key can reach). */
const isTempFile = (rel: string): boolean => rel.split("/").some(FileStore.isTemporaryName)

/** Where `RunLog.layerKeyValueStore()` keeps run histories, beside the results. */
export const historyPrefix = "runstate-history/"

/** Keys of the run history: listed by `--runs`, not as result records. */
const isHistoryKey = (key: string): boolean => key.startsWith(historyPrefix)

const messageOf = (u: unknown, depth = 0): string => {
  if (typeof u === "object" && u !== null) {
    const message = "message" in u && typeof u.message === "string" ? u.message : ""
    const cause = (u as { readonly cause?: unknown }).cause
    // Effect's UnknownError and client errors wrap the thrown value: show the original message.
    if ((message === "" || message.startsWith("An error occurred in")) && cause !== undefined && depth < 8) {
      return messageOf(cause, depth + 1)
    }
    if (message !== "") return message
    const code = (u as { readonly code?: unknown }).code
    if (typeof code === "string") return code
    if (u instanceof Error) return u.name
  }
  return String(u)
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

// -----------------------------------------------------------------------------
// sources: a directory or a key-value store
// -----------------------------------------------------------------------------

type Read = { readonly bytes: Uint8Array } | { readonly error: string }

/** Where entries come from. */
interface Source {
  readonly path: string
  readonly files: ReadonlyArray<string>
  readonly skipped: number
  /** Files or keys of the run history (under {@link historyPrefix}), not listed. */
  readonly history: number
  readonly read: (file: string) => Effect.Effect<Read>
  /** Reads the result a split-layout metadata file names, or says why not. */
  readonly readResult: (storageKey: string) => Effect.Effect<Read>
}

const kindOf = (
  stat: {
    isFIFO(): boolean
    isSocket(): boolean
    isDirectory(): boolean
    isCharacterDevice(): boolean
    isBlockDevice(): boolean
  }
) =>
  stat.isDirectory()
    ? "a directory"
    : stat.isFIFO()
    ? "a FIFO"
    : stat.isSocket()
    ? "a socket"
    : stat.isCharacterDevice() || stat.isBlockDevice()
    ? "a device"
    : "not a regular file"

const isInside = (root: string, file: string): boolean => {
  const rel = path.relative(root, file)
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel))
}

/**
 * Reads a regular file, at most `maxBytes`: symbolic links only to regular
 * files inside `root` (any, when `root` is undefined); never opens a FIFO,
 * socket or device, and opens non-blocking so a file swapped for one cannot
 * block.
 */
const readRegular = (file: string, root: string | undefined, maxBytes: number): Promise<Read> =>
  (async (): Promise<Read> => {
    const lstat = await fs.lstat(file)
    let target = file
    if (lstat.isSymbolicLink()) {
      target = await fs.realpath(file)
      const stat = await fs.stat(target)
      if (stat.isDirectory()) return { error: "symbolic link to a directory: not followed" }
      if (root !== undefined && !isInside(root, target)) {
        return { error: "symbolic link to outside the inspected directory: not followed" }
      }
      if (!stat.isFile()) return { error: `symbolic link to ${kindOf(stat)}: not read` }
    } else if (!lstat.isFile()) return { error: `${kindOf(lstat)}: not read` }
    const handle = await fs.open(target, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
    try {
      const stat = await handle.stat()
      if (!stat.isFile()) return { error: `${kindOf(stat)}: not read` }
      if (stat.size > maxBytes) return { error: `larger than the limit of ${maxBytes} bytes (--max-size): not read` }
      const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1)
      let length = 0
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.byteLength - length, length)
        if (bytesRead === 0) break
        length += bytesRead
        if (length > maxBytes) return { error: `larger than the limit of ${maxBytes} bytes (--max-size): not read` }
        if (length === buffer.byteLength) break
      }
      return { bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, length) }
    } finally {
      await handle.close()
    }
  })().catch((cause) => ({ error: `cannot read: ${messageOf(cause)}` }))

/** Reads one regular file (never a FIFO or device), at most `maxBytes`. */
export const readFile = (file: string, maxBytes: number): Promise<Read> => readRegular(file, undefined, maxBytes)

const directorySource = (
  arg: string,
  options: Options
): Effect.Effect<Source, string> =>
  Effect.tryPromise({
    try: async (): Promise<Source> => {
      const maxBytes = options.maxBytes ?? defaultMaxBytes
      const resolved = path.resolve(arg)
      const root = await fs.realpath(resolved)
      const stat = await fs.stat(root)
      const outside = (storageKey: string) =>
        options.allowOutside === true
          ? readRegular(storageKey, undefined, maxBytes)
          : Promise.resolve<Read>({
            error: `result file ${storageKey} is outside the inspected directory (--allow-outside reads it)`
          })
      if (!stat.isDirectory()) {
        if (!stat.isFile()) throw new Error(`${kindOf(stat)}, not a result file or directory`)
        // One file: its split-layout result may sit next to it, in its directory.
        const dir = path.dirname(root)
        return {
          path: resolved,
          files: [path.basename(resolved)],
          skipped: 0,
          history: 0,
          read: () => Effect.promise(() => readRegular(root, undefined, maxBytes)),
          readResult: (storageKey) =>
            Effect.promise(() =>
              path.isAbsolute(storageKey) && isInside(dir, storageKey)
                ? readRegular(storageKey, dir, maxBytes)
                : outside(storageKey)
            )
        }
      }
      const dirents = await fs.readdir(root, { recursive: true, withFileTypes: true })
      const files: Array<string> = []
      let skipped = 0
      let history = 0
      for (const d of dirents) {
        if (d.isDirectory()) continue
        const rel = path.relative(root, path.join(d.parentPath, d.name)).split(path.sep).join("/")
        if (isTempFile(rel)) skipped++
        else if (isHistoryKey(rel)) history++
        else files.push(rel)
      }
      files.sort()
      return {
        path: resolved,
        files,
        skipped,
        history,
        read: (file) => Effect.promise(() => readRegular(path.join(root, file), root, maxBytes)),
        readResult: (storageKey) =>
          Effect.promise(async () => {
            if (!path.isAbsolute(storageKey)) return readRegular(path.join(root, storageKey), root, maxBytes)
            // Prefect writes absolute keys; a key inside the directory (as given or as resolved) is read.
            if (isInside(root, storageKey) || isInside(resolved, storageKey)) {
              const inside = isInside(root, storageKey)
                ? storageKey
                : path.join(root, path.relative(resolved, storageKey))
              return readRegular(inside, root, maxBytes)
            }
            return outside(storageKey)
          })
      }
    },
    catch: (cause) => `cannot read ${arg}: ${messageOf(cause)}`
  })

/** `redis://user:secret@host` → `redis://user:***@host`. */
export const redactUrl = (url: string): string => {
  try {
    const u = new URL(url)
    if (u.password !== "") u.password = "***"
    return u.toString()
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//***@")
  }
}

/** Entries of a key-value store (Redis or SQL) through the library's own layers. */
const storeSource = (
  url: string,
  layer: Layer.Layer<KeyValueStore.KeyValueStore, unknown>,
  options: Options
) =>
  Effect.gen(function*() {
    const shown = redactUrl(url)
    const maxBytes = options.maxBytes ?? defaultMaxBytes
    const context = yield* Layer.build(layer).pipe(
      // The client logs each failed connection attempt; the CLI reports the outcome in one line instead.
      Effect.provideService(References.MinimumLogLevel, "None"),
      Effect.mapError((e) => `cannot connect to ${shown}: ${oneLine(messageOf(e))}`)
    )
    const kv = Context.get(context, KeyValueStore.KeyValueStore)
    const keys = yield* kv.keys.pipe(Effect.mapError((e) => `cannot list ${shown}: ${oneLine(messageOf(e))}`))
    const readKey = (key: string): Effect.Effect<Read> =>
      kv.getUint8Array(key).pipe(
        Effect.map((bytes): Read =>
          bytes === undefined
            ? { error: "not found" }
            : bytes.byteLength > maxBytes
            ? { error: `larger than the limit of ${maxBytes} bytes (--max-size): not read` }
            : { bytes }
        ),
        Effect.catchCause((cause) => Effect.succeed({ error: `cannot read: ${messageOf(Cause.squash(cause))}` }))
      )
    const history = keys.filter(isHistoryKey).length
    const files = [...keys].filter((k) => !isTempFile(k) && !isHistoryKey(k)).sort()
    return {
      path: shown,
      files,
      skipped: keys.length - files.length - history,
      history,
      read: readKey,
      readResult: readKey
    } satisfies Source
  })

/** The library's own Redis `KeyValueStore` layer for `url` (the redis package is loaded on demand). */
const redisLayer = (
  url: string,
  options: Options
): Effect.Effect<Layer.Layer<KeyValueStore.KeyValueStore, unknown>, string> =>
  Effect.map(
    Effect.tryPromise({
      try: () => import("../NodeRedisResultStore.ts"),
      catch: (cause) => `inspecting ${redactUrl(url)} needs the redis package: ${messageOf(cause)}`
    }),
    (Store) =>
      Store.layerRedisKeyValueStore({ prefix: options.prefix ?? "runstate:" }).pipe(
        Layer.provide(Store.layerRedisClient({ url }))
      )
  )

/** `KeyValueStore.layerSql` over PostgreSQL at `url` (@effect/sql-pg is loaded on demand). */
const postgresLayer = (
  url: string,
  options: Options
): Effect.Effect<Layer.Layer<KeyValueStore.KeyValueStore, unknown>, string> =>
  Effect.map(
    Effect.tryPromise({
      try: () => import("@effect/sql-pg/PgClient"),
      catch: (cause) => `inspecting ${redactUrl(url)} needs the @effect/sql-pg package: ${messageOf(cause)}`
    }),
    (PgClient) =>
      KeyValueStore.layerSql(options.table === undefined ? {} : { table: options.table }).pipe(
        Layer.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 4 }))
      )
  )

const redisSource = (url: string, options: Options): Effect.Effect<Source, string, Scope.Scope> =>
  Effect.flatMap(redisLayer(url, options), (layer) => storeSource(url, layer, options))

const postgresSource = (url: string, options: Options): Effect.Effect<Source, string, Scope.Scope> =>
  Effect.flatMap(postgresLayer(url, options), (layer) => storeSource(url, layer, options))

// -----------------------------------------------------------------------------
// classifying one file
// -----------------------------------------------------------------------------

const serializerType = (s: unknown): string | null => isObject(s) && typeof s["type"] === "string" ? s["type"] : null

const stringOrNull = (u: unknown): string | null => typeof u === "string" ? u : null

/** A base64 pickle (protocol 2–5 starts with 0x80 0x02..0x05: `gAI`, `gAM`, `gAS`, `gAW`). */
const looksLikePickle = (text: string): boolean => /^gA[IMSW][A-Za-z0-9+/=\s]*$/.test(text.trim())

const readableTypes: ReadonlySet<string> = new Set(["json", "compressed/json", "compressed"])

const notReadableNote = (type: string | null): string | undefined => {
  if (type === "pickle" || type === "compressed/pickle") return pickleNote
  if (type === null) return "no serializer in the metadata"
  if (!readableTypes.has(type)) return `serializer '${type}' is not available outside Python`
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
  error: oneLine(error)
})

const expiredAt = (expiration: string | null, now: number): boolean => {
  if (expiration === null) return false
  const at = Date.parse(expiration)
  return Number.isFinite(at) && at <= now
}

/** Decodes with the library's reader (bounded decompression); the result value or a one-line error. */
const decodeWith = (
  read: Effect.Effect<ResultRecord.ResultRecord<unknown>, unknown>,
  maxBytes: number
): Effect.Effect<{ readonly value: unknown } | { readonly error: string }> =>
  read.pipe(
    Effect.map((record) => ({ value: record.result })),
    Effect.provide(NodeCompression.layerWith({ maxDecompressedBytes: maxBytes })),
    Effect.catchCause((cause) => Effect.succeed({ error: oneLine(messageOf(Cause.squash(cause))) }))
  )

const withOutcome = (
  entry: Omit<Entry, "decoded">,
  outcome: { readonly value: unknown } | { readonly error: string }
): Entry =>
  "value" in outcome
    ? { ...entry, decoded: true, value: outcome.value }
    : { ...entry, decoded: false, error: outcome.error }

/** Classifies and decodes the bytes of one file. */
export const inspectBytes = (
  file: string,
  bytes: Uint8Array,
  now: number,
  readResult: (storageKey: string) => Effect.Effect<Read>,
  maxBytes: number = defaultMaxBytes
): Effect.Effect<Entry> =>
  Effect.gen(function*() {
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
      return Effect.map(decodeWith(ResultRecord.deserialize(bytes), maxBytes), (outcome) => withOutcome(entry, outcome))
    }
    const raw = {
      ...base,
      kind: "raw" as const,
      storageKey: null,
      serializer: "json",
      expiration: null,
      expired: false,
      prefectVersion: null
    }
    const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes)
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (cause) {
      if (looksLikePickle(text)) {
        return { ...raw, serializer: "pickle", decoded: false, note: pickleNote }
      }
      // Python's JSON (NaN, Infinity, big integers) is not JSON.parse's: the library's reader decides.
      const outcome = yield* decodeWith(ResultRecord.deserialize(bytes, Serializer.json), maxBytes)
      return "value" in outcome
        ? withOutcome(raw, outcome)
        : unreadable(base, `not a result record: not JSON (${messageOf(cause)})`)
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
      if (storageKey === null || storageKey === "") {
        return { ...entry, decoded: false, note: "metadata only: no storage key" }
      }
      const result = yield* readResult(storageKey)
      if ("error" in result) return { ...entry, decoded: false, note: oneLine(`metadata only: ${result.error}`) }
      return withOutcome(
        entry,
        yield* decodeWith(ResultRecord.deserializeFromResultAndMetadata(result.bytes, bytes), maxBytes)
      )
    }

    // Anything else that is JSON: a raw result (Prefect's flow results), read with the JSON serializer.
    return withOutcome(raw, yield* decodeWith(ResultRecord.deserialize(bytes, Serializer.json), maxBytes))
  }).pipe(
    // Whatever goes wrong with one file stays with that file.
    Effect.catchCause((cause) =>
      Effect.succeed(unreadable({ file, size: bytes.byteLength }, `cannot decode: ${messageOf(Cause.squash(cause))}`))
    )
  )

/** `redis://` / `rediss://` and `postgres://` / `postgresql://` targets. */
export const storeScheme = (target: string): "redis" | "postgres" | undefined =>
  /^rediss?:\/\//i.test(target) ? "redis" : /^postgres(ql)?:\/\//i.test(target) ? "postgres" : undefined

/**
 * Inspects a directory (recursively), one file, or a Redis / PostgreSQL
 * store, `concurrency` files at a time, calling `onProgress` every
 * `progressEvery` files and at the end.
 */
export const inspect = (target: string, options: Options = {}): Effect.Effect<Report, string> =>
  Effect.scoped(Effect.gen(function*() {
    const scheme = storeScheme(target)
    const source = scheme === "redis"
      ? yield* redisSource(target, options)
      : scheme === "postgres"
      ? yield* postgresSource(target, options)
      : yield* directorySource(target, options)
    const total = source.files.length
    if (options.onListed !== undefined) yield* options.onListed(total)
    const now = yield* Clock.currentTimeMillis
    const every = options.progressEvery ?? 100
    const maxBytes = options.maxBytes ?? defaultMaxBytes
    let done = 0
    const entries = yield* Effect.forEach(
      source.files,
      (file) =>
        Effect.flatMap(source.read(file), (read) =>
          "error" in read
            ? Effect.succeed(unreadable({ file, size: 0 }, read.error))
            : inspectBytes(file, read.bytes, now, source.readResult, maxBytes)).pipe(
            Effect.tap(() => {
              done++
              return options.onProgress !== undefined && (done % every === 0 || done === total)
                ? options.onProgress(done, total)
                : Effect.void
            })
          ),
      { concurrency: options.concurrency ?? 4 }
    )
    return {
      path: source.path,
      entries,
      skipped: source.skipped,
      ...(source.history > 0 ? { history: source.history } : {})
    }
  }))

// -----------------------------------------------------------------------------
// run history
// -----------------------------------------------------------------------------

/** The runs a storage's history holds (`runstate inspect PATH --runs`), in the order they started. */
export interface RunsReport {
  readonly path: string
  readonly runs: ReadonlyArray<RunLog.RunSummary>
}

/** A flow run's timeline page (`runstate timeline PATH`). */
export interface TimelineReport {
  readonly path: string
  /** The flow run drawn, `undefined` when the history holds none (the page says so). */
  readonly flowRunId: string | undefined
  readonly taskRuns: number
  /** The page: one self-contained HTML document. */
  readonly html: string
}

/** One run's transitions (`runstate inspect PATH --run ID`), oldest first. */
export interface RunReport {
  readonly path: string
  readonly runId: string
  readonly transitions: ReadonlyArray<RunLog.Transition>
}

/**
 * The file store `NodeResultStore` uses over `root`, read only and read as
 * the records are: keys are listed by the file store, but every value is read
 * by {@link readRegular} (regular files only, never a FIFO or device, at most
 * `maxBytes`, symbolic links only inside `root`); writes are refused.
 */
const readOnlyDirectoryStore = (root: string, maxBytes: number): KeyValueStore.KeyValueStore => {
  const files = FileStore.make(root, { fsync: false })
  const refuse = (method: string) =>
    Effect.fail(new KeyValueStore.KeyValueStoreError({ method, message: "runstate inspect never writes" }))
  const read = (
    method: string,
    key: string
  ): Effect.Effect<Uint8Array | undefined, KeyValueStore.KeyValueStoreError> => {
    const file = path.join(root, key)
    if (!isInside(root, file)) {
      return Effect.fail(new KeyValueStore.KeyValueStoreError({ method, key, message: "key outside the directory" }))
    }
    return Effect.flatMap(
      Effect.promise(() => fs.lstat(file).then(() => true, (e: { readonly code?: unknown }) => e.code !== "ENOENT")),
      (exists) =>
        !exists ?
          Effect.succeed(undefined) :
          Effect.flatMap(Effect.promise(() => readRegular(file, root, maxBytes)), (r) =>
            "error" in r
              ? Effect.fail(new KeyValueStore.KeyValueStoreError({ method, key, message: `${key}: ${r.error}` }))
              : Effect.succeed(r.bytes))
    )
  }
  return KeyValueStore.make({
    get: (key) =>
      Effect.map(read("get", key), (bytes) => bytes === undefined ? undefined : new TextDecoder().decode(bytes)),
    getUint8Array: (key) => read("getUint8Array", key),
    set: () => refuse("set"),
    remove: () => refuse("remove"),
    clear: refuse("clear"),
    size: files.size,
    keys: files.keys
  })
}

/**
 * The `KeyValueStore` the results of `target` live in: a directory through
 * the file store `NodeResultStore` uses (read only and bounded, see
 * {@link readOnlyDirectoryStore}: the directory must exist), a Redis or
 * PostgreSQL store through the library's layers.
 */
const historyStore = (
  target: string,
  options: Options
): Effect.Effect<{ readonly path: string; readonly store: KeyValueStore.KeyValueStore }, string, Scope.Scope> =>
  Effect.gen(function*() {
    const scheme = storeScheme(target)
    if (scheme === undefined) {
      const root = yield* Effect.tryPromise({
        try: async () => {
          const root = await fs.realpath(path.resolve(target))
          const stat = await fs.stat(root)
          if (!stat.isDirectory()) throw new Error("not a directory (a run history lives in a storage directory)")
          return root
        },
        catch: (cause) => `cannot read ${target}: ${messageOf(cause)}`
      })
      return { path: path.resolve(target), store: readOnlyDirectoryStore(root, options.maxBytes ?? defaultMaxBytes) }
    }
    const shown = redactUrl(target)
    const layer = scheme === "redis" ? yield* redisLayer(target, options) : yield* postgresLayer(target, options)
    const context = yield* Layer.build(layer).pipe(
      Effect.provideService(References.MinimumLogLevel, "None"),
      Effect.mapError((e) => `cannot connect to ${shown}: ${oneLine(messageOf(e))}`)
    )
    return { path: shown, store: Context.get(context, KeyValueStore.KeyValueStore) }
  })

/** Runs `f` with the history of `target` (`RunLog.makeKeyValueStore` over its store). */
const withHistory = <A>(
  target: string,
  options: Options,
  f: (log: RunLog.RunLogShape, path: string) => Effect.Effect<A, unknown>
): Effect.Effect<A, string> =>
  Effect.scoped(Effect.gen(function*() {
    const { path: shown, store } = yield* historyStore(target, options)
    const log = yield* RunLog.makeKeyValueStore({ prefix: historyPrefix }).pipe(
      Effect.provideService(KeyValueStore.KeyValueStore, store)
    )
    return yield* f(log, shown).pipe(
      Effect.mapError((e) => `cannot read the run history of ${shown}: ${oneLine(messageOf(e))}`)
    )
  }))

/** The runs the history of `target` holds (none when it has no history). */
export const runs = (target: string, options: Options = {}): Effect.Effect<RunsReport, string> =>
  withHistory(target, options, (log, shown) => Effect.map(log.runs(), (runs) => ({ path: shown, runs })))

/** The transitions of run `runId` in the history of `target`; fails when the history has none. */
export const runHistory = (target: string, runId: string, options: Options = {}): Effect.Effect<RunReport, string> =>
  Effect.flatMap(
    withHistory(
      target,
      options,
      (log, shown) => Effect.map(log.history(runId), (transitions) => ({ shown, transitions }))
    ),
    ({ shown, transitions }) =>
      transitions.length === 0
        ? Effect.fail(`no run ${oneLine(runId)} in the history of ${shown} (--runs lists its runs)`)
        : Effect.succeed({ path: shown, runId, transitions })
  )

/**
 * The timeline page of flow run `runId` — or of the latest flow run — in the
 * history of `target` (see `Timeline.fromRunLog`); an empty history gives a
 * page that says so, an unknown `runId` fails with one line naming the
 * latest flow run.
 */
export const timeline = (
  target: string,
  runId: string | undefined,
  options: Options = {}
): Effect.Effect<TimelineReport, string> =>
  Effect.flatMap(
    withHistory(target, options, (log, shown) =>
      Timeline.fromRunLog({ runId, source: shown }).pipe(
        Effect.provideService(RunLog.RunLog, log),
        Effect.map((input) => ({
          _tag: "Found" as const,
          report: {
            path: shown,
            flowRunId: input.flow?.runId,
            taskRuns: input.tasks.length,
            html: Timeline.render(input)
          }
        })),
        Effect.catchTag("RunNotFound", (e) => Effect.succeed({ _tag: "NotFound" as const, message: e.message }))
      )),
    (found) => found._tag === "Found" ? Effect.succeed(found.report) : Effect.fail(oneLine(found.message))
  )
