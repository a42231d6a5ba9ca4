/**
 * A `KeyValueStore` over a directory, with Prefect's `LocalFileSystem` path
 * rules and atomic writes (temp file in the same directory, write, fsync,
 * rename).
 *
 * @since 0.1.0
 */
import { randomBytes } from "node:crypto"
import type { Dirent } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as KeyValueStore from "effect/persistence/KeyValueStore"

/** Temp files end with this suffix; readers and `keys` ignore them. */
export const temporarySuffix = ".runstate-tmp"

const processTag = `${process.pid.toString(36)}-${randomBytes(4).toString("hex")}`
let counter = 0

/** The outcome of resolving a key against a base directory. */
export type Resolved =
  | { readonly _tag: "Ok"; readonly path: string }
  | { readonly _tag: "Invalid"; readonly message: string }

/**
 * Resolves a key inside `base` (an absolute, normalised directory): a relative
 * key joins the base, an absolute key must lie strictly inside it. Empty keys,
 * NUL bytes, keys that name the base itself and keys that escape it (`..`) are
 * invalid.
 */
export const resolveIn = (base: string, key: string): Resolved => {
  if (key.length === 0) return { _tag: "Invalid", message: "Invalid storage key: the key is empty." }
  if (key.includes("\0")) {
    return { _tag: "Invalid", message: `Invalid storage key ${JSON.stringify(key)}: it contains a NUL byte.` }
  }
  const resolved = path.resolve(base, key)
  if (resolved === base) return { _tag: "Invalid", message: `Path ${resolved} is not a file.` }
  if (!resolved.startsWith(base.endsWith(path.sep) ? base : base + path.sep)) {
    return { _tag: "Invalid", message: `Provided path ${resolved} is outside of the base path ${base}.` }
  }
  return { _tag: "Ok", path: resolved }
}

/** The key of `file` relative to `base`, with `/` separators (Prefect's base key). */
export const relativeKey = (base: string, file: string): string => {
  const relative = path.relative(base, file)
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return file
  return path.sep === "/" ? relative : relative.split(path.sep).join("/")
}

const code = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined

/** Writes `bytes` to `file` atomically: temp file beside it, write, fsync, rename. */
export const writeAtomic = async (file: string, bytes: Uint8Array | string, fsync: boolean): Promise<void> => {
  const dir = path.dirname(file)
  const temporary = path.join(dir, `.${processTag}-${(counter++).toString(36)}${temporarySuffix}`)
  let handle: fs.FileHandle
  try {
    handle = await fs.open(temporary, "wx")
  } catch (error) {
    if (code(error) !== "ENOENT") throw error
    await fs.mkdir(dir, { recursive: true })
    handle = await fs.open(temporary, "wx")
  }
  try {
    try {
      await handle.writeFile(bytes)
      if (fsync) await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temporary, file)
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => undefined)
    throw error
  }
}

/** Reads `file`; `undefined` when it does not exist. */
const readOrUndefined = async (file: string): Promise<Buffer | undefined> => {
  try {
    return await fs.readFile(file)
  } catch (error) {
    const c = code(error)
    if (c === "ENOENT" || c === "ENOTDIR") return undefined
    if (c === "EISDIR") throw new Error(`Path ${file} is not a file.`)
    throw error
  }
}

/** Every regular file under `base`, relative with `/` separators, temp files excluded. */
const listKeys = async (base: string): Promise<Array<string>> => {
  let entries: Array<Dirent>
  try {
    entries = await fs.readdir(base, { recursive: true, withFileTypes: true })
  } catch (error) {
    if (code(error) === "ENOENT") return []
    throw error
  }
  const keys: Array<string> = []
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.endsWith(temporarySuffix)) continue
    keys.push(relativeKey(base, path.join(entry.parentPath, entry.name)))
  }
  return keys
}

/** Options of {@link make}. */
export interface Options {
  /** fsync each file before renaming it into place. Default `true`. */
  readonly fsync?: boolean | undefined
}

const messageOf = (error: unknown): string => error instanceof Error ? error.message : String(error)

/** Removes the temp files left under `base` by crashed writers; answers how many. */
export const removeTemporaryFiles = async (base: string): Promise<number> => {
  let entries: Array<Dirent>
  try {
    entries = await fs.readdir(base, { recursive: true, withFileTypes: true })
  } catch (error) {
    if (code(error) === "ENOENT") return 0
    throw error
  }
  let removed = 0
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith(temporarySuffix)) {
      await fs.rm(path.join(entry.parentPath, entry.name), { force: true })
      removed++
    }
  }
  return removed
}

/** A `KeyValueStore` over the directory `base` (absolute, normalised, existing). */
export const make = (base: string, options: Options = {}): KeyValueStore.KeyValueStore => {
  const fsync = options.fsync ?? true

  const withPath = <A>(
    method: string,
    key: string,
    f: (file: string) => Promise<A>
  ): Effect.Effect<A, KeyValueStore.KeyValueStoreError> => {
    const resolved = resolveIn(base, key)
    if (resolved._tag === "Invalid") {
      return Effect.fail(new KeyValueStore.KeyValueStoreError({ method, key, message: resolved.message }))
    }
    return Effect.tryPromise({
      try: () => f(resolved.path),
      catch: (cause) => new KeyValueStore.KeyValueStoreError({ method, key, message: messageOf(cause), cause })
    })
  }

  const whole = <A>(method: string, f: () => Promise<A>): Effect.Effect<A, KeyValueStore.KeyValueStoreError> =>
    Effect.tryPromise({
      try: f,
      catch: (cause) => new KeyValueStore.KeyValueStoreError({ method, message: messageOf(cause), cause })
    })

  const keys = whole("keys", () => listKeys(base))

  return KeyValueStore.make({
    get: (key) => withPath("get", key, async (file) => (await readOrUndefined(file))?.toString("utf8")),
    getUint8Array: (key) =>
      withPath("getUint8Array", key, async (file) => {
        const buffer = await readOrUndefined(file)
        return buffer === undefined ? undefined : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      }),
    set: (key, value) => withPath("set", key, (file) => writeAtomic(file, value, fsync)),
    remove: (key) => withPath("remove", key, (file) => fs.rm(file, { force: true })),
    has: (key) =>
      withPath("has", key, async (file) => {
        try {
          return (await fs.stat(file)).isFile()
        } catch (error) {
          const c = code(error)
          if (c === "ENOENT" || c === "ENOTDIR") return false
          throw error
        }
      }),
    clear: whole("clear", async () => {
      let names: Array<string>
      try {
        names = await fs.readdir(base)
      } catch (error) {
        if (code(error) === "ENOENT") return
        throw error
      }
      await Promise.all(names.map((name) => fs.rm(path.join(base, name), { recursive: true, force: true })))
    }),
    size: Effect.map(keys, (all) => all.length),
    keys
  })
}
