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

/**
 * Temp files are named `.runstate-tmp.<id>.runstate-tmp`. Every path component
 * that starts with this prefix is reserved: a key that names one is invalid, so
 * no key reaches a temp file and `keys`/`removeTemporaryFiles` never touch a
 * record (a key such as `report.runstate-tmp` is an ordinary key).
 */
export const temporaryPrefix = ".runstate-tmp."

/** Whether a file name (one path component) is a temp file's. */
export const isTemporaryName = (name: string): boolean => name.startsWith(temporaryPrefix)

const processTag = `${process.pid.toString(36)}-${randomBytes(4).toString("hex")}`
let counter = 0

/** The longest key quoted whole in an error message; longer ones are cut. */
const quotedKeyLimit = 200

/** A key for a message: JSON-quoted (lone surrogates escaped), cut to {@link quotedKeyLimit} characters. */
export const quoteKey = (key: string): string =>
  key.length <= quotedKeyLimit
    ? JSON.stringify(key)
    : `${JSON.stringify(key.slice(0, quotedKeyLimit))}… (${key.length} characters)`

/** The outcome of resolving a key against a base directory. */
export type Resolved =
  | { readonly _tag: "Ok"; readonly path: string }
  | { readonly _tag: "Invalid"; readonly message: string }

const invalid = (message: string): Resolved => ({ _tag: "Invalid", message })

/** Whether `file` is `base` itself or lies under it. */
const within = (base: string, file: string): boolean =>
  file === base || file.startsWith(base.endsWith(path.sep) ? base : base + path.sep)

/**
 * Resolves a key inside `base` (an absolute, normalised directory): a relative
 * key joins the base, an absolute key must lie strictly inside it. Empty keys,
 * NUL bytes, lone surrogates (a file name cannot hold them: two such keys
 * would name the same file), path components reserved for temp files, keys
 * that name the base itself and keys that escape it (`..`) are invalid. The
 * check is textual; {@link checkLinks} adds the symbolic links on disk.
 */
export const resolveIn = (base: string, key: string): Resolved => {
  if (key.length === 0) return invalid("Invalid storage key: the key is empty.")
  if (key.includes("\0")) return invalid(`Invalid storage key ${quoteKey(key)}: it contains a NUL byte.`)
  if (!key.isWellFormed()) {
    return invalid(
      `Invalid storage key ${
        quoteKey(key)
      }: it contains a lone surrogate (not well-formed Unicode), which a file name cannot hold.`
    )
  }
  const resolved = path.resolve(base, key)
  if (resolved === base) return invalid(`Path ${resolved} is not a file.`)
  if (!within(base, resolved)) {
    return invalid(`Provided path ${resolved} is outside of the base path ${base}.`)
  }
  if (resolved.slice(base.length).split(path.sep).some(isTemporaryName)) {
    return invalid(
      `Invalid storage key ${quoteKey(key)}: names starting with ${temporaryPrefix} are reserved for temporary files.`
    )
  }
  return { _tag: "Ok", path: resolved }
}

/** A key that reaches outside the base directory through a symbolic link. */
export class OutsideBase extends Error {
  constructor(file: string, base: string, real: string) {
    super(`Provided path ${file} is outside of the base path ${base} (a symbolic link leads to ${real}).`)
  }
}

/** A file that is not a regular file (a FIFO, socket or device): never opened for reading. */
class NotRegular extends Error {}

const code = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined

/**
 * Rejects (with {@link OutsideBase}) a resolved path whose directory reaches
 * outside `base` (a real path: symlinks resolved) through a symbolic link. The
 * deepest existing ancestor of the file's directory is resolved; missing
 * directories are created later under it. A path directly in `base` needs no
 * system call. The last component is not followed here: readers open it with
 * no-follow, writers rename over it.
 */
export const checkLinks = async (base: string, file: string): Promise<void> => {
  let dir = path.dirname(file)
  while (dir !== base && within(base, dir)) {
    let real: string
    try {
      real = await fs.realpath(dir)
    } catch (error) {
      const c = code(error)
      if (c === "ENOENT") {
        dir = path.dirname(dir)
        continue
      }
      // ENOTDIR and the like: the operation itself reports them.
      if (c === "ENOTDIR") return
      throw error
    }
    if (!within(base, real)) throw new OutsideBase(file, base, real)
    return
  }
}

/** The key of `file` relative to `base`, with `/` separators (Prefect's base key). */
export const relativeKey = (base: string, file: string): string => {
  const relative = path.relative(base, file)
  if (
    relative === "" || relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)
  ) return file
  return path.sep === "/" ? relative : relative.split(path.sep).join("/")
}

/** Writes `bytes` to `file` atomically: temp file beside it, write, fsync, rename. */
export const writeAtomic = async (file: string, bytes: Uint8Array | string, fsync: boolean): Promise<void> => {
  const dir = path.dirname(file)
  const temporary = path.join(dir, `${temporaryPrefix}${processTag}-${(counter++).toString(36)}.runstate-tmp`)
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

/** No-follow (the last component) and non-blocking (a FIFO opens at once); 0 where the platform lacks them. */
const readFlags = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0)

/** Opens `file` for reading without following a final symlink or blocking; `undefined` when missing. */
const openRegular = async (base: string, file: string): Promise<fs.FileHandle | undefined> => {
  let handle: fs.FileHandle
  try {
    handle = await fs.open(file, readFlags)
  } catch (error) {
    const c = code(error)
    if (c === "ENOENT" || c === "ENOTDIR") return undefined
    if (c !== "ELOOP") throw error
    // The file is a symbolic link: followed only when its target lies inside the base.
    let real: string
    try {
      real = await fs.realpath(file)
    } catch (inner) {
      const ci = code(inner)
      if (ci === "ENOENT" || ci === "ENOTDIR") return undefined
      throw inner
    }
    if (!within(base, real)) throw new OutsideBase(file, base, real)
    return openRegular(base, real)
  }
  try {
    const stat = await handle.stat()
    if (stat.isFile()) return handle
    throw stat.isDirectory()
      ? new Error(`Path ${file} is not a file.`)
      : new NotRegular(`Path ${file} is not a regular file (a FIFO, socket or device): it is not read.`)
  } catch (error) {
    await handle.close().catch(() => undefined)
    throw error
  }
}

/** Reads the regular file `file` inside `base`; `undefined` when it does not exist. */
const readOrUndefined = async (base: string, file: string): Promise<Buffer | undefined> => {
  const handle = await openRegular(base, file)
  if (handle === undefined) return undefined
  try {
    return await handle.readFile()
  } finally {
    await handle.close()
  }
}

/** Whether `file` is a regular file, following a final symlink only inside `base`; never opens it. */
const isRegular = async (base: string, file: string): Promise<boolean> => {
  try {
    const stat = await fs.lstat(file)
    if (!stat.isSymbolicLink()) return stat.isFile()
    const real = await fs.realpath(file)
    if (!within(base, real)) throw new OutsideBase(file, base, real)
    return (await fs.stat(real)).isFile()
  } catch (error) {
    const c = code(error)
    if (c === "ENOENT" || c === "ENOTDIR") return false
    throw error
  }
}

/** Every regular file under `base`, relative with `/` separators, temp files excluded; symlinks are not followed. */
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
    if (!entry.isFile() || isTemporaryName(entry.name)) continue
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
    if (entry.isFile() && isTemporaryName(entry.name)) {
      await fs.rm(path.join(entry.parentPath, entry.name), { force: true })
      removed++
    }
  }
  return removed
}

/**
 * A `KeyValueStore` over the directory `base` (absolute, normalised, real:
 * symlinks resolved, existing). No operation reaches outside `base`: keys are
 * checked textually ({@link resolveIn}) and against the symbolic links on disk
 * ({@link checkLinks}); reads open only regular files, never block on a FIFO
 * and follow a final symlink only when its target lies inside `base`.
 */
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
    const file = resolved.path
    // A key directly in the base has no directory to check.
    const run = path.dirname(file) === base ? () => f(file) : () => checkLinks(base, file).then(() => f(file))
    return Effect.tryPromise({
      try: run,
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
    get: (key) => withPath("get", key, async (file) => (await readOrUndefined(base, file))?.toString("utf8")),
    getUint8Array: (key) =>
      withPath("getUint8Array", key, async (file) => {
        const buffer = await readOrUndefined(base, file)
        return buffer === undefined ? undefined : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      }),
    set: (key, value) => withPath("set", key, (file) => writeAtomic(file, value, fsync)),
    // `rm` removes a symbolic link itself, never its target.
    remove: (key) => withPath("remove", key, (file) => fs.rm(file, { force: true })),
    has: (key) => withPath("has", key, (file) => isRegular(base, file)),
    clear: whole("clear", async () => {
      let names: Array<string>
      try {
        names = await fs.readdir(base)
      } catch (error) {
        if (code(error) === "ENOENT") return
        throw error
      }
      // `rm` does not follow symbolic links: a link is removed, its target left alone.
      await Promise.all(names.map((name) => fs.rm(path.join(base, name), { recursive: true, force: true })))
    }),
    size: Effect.map(keys, (all) => all.length),
    keys
  })
}
