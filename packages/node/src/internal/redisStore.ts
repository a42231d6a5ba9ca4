/**
 * A `KeyValueStore` and a lock manager over Effect's `Redis` service.
 *
 * @since 0.1.0
 */
import { Buffer, isUtf8 } from "node:buffer"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Base64 from "effect/encoding/Base64"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as Redis from "effect/persistence/Redis"
import * as Result from "effect/Result"
import type { LockManagerShape } from "@runstate/core/ResultStore"
import { InvalidState, StorageError } from "@runstate/core/RunError"

/**
 * Values are stored as text. Bytes that are not valid UTF-8 (never produced by
 * runstate's serializers, whose output is JSON or base64 text) are stored as
 * this marker followed by their base64.
 */
export const binaryMarker = "\u0000runstate:base64:"

/** The text stored for a value. */
export const encodeValue = (value: string | Uint8Array): string => {
  if (typeof value === "string") return value
  const buffer = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (!isUtf8(buffer)) return binaryMarker + Base64.encode(value)
  const text = buffer.toString("utf8")
  return text.startsWith(binaryMarker) ? binaryMarker + Base64.encode(value) : text
}

const utf8Bytes = (text: string): Uint8Array => {
  const buffer = Buffer.from(text, "utf8")
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

const decodeBytes = (stored: string): Uint8Array => {
  if (!stored.startsWith(binaryMarker)) return utf8Bytes(stored)
  return Result.getOrElse(Base64.decode(stored.slice(binaryMarker.length)), () => utf8Bytes(stored))
}

const decodeString = (stored: string): string =>
  // As `KeyValueStore.layerMemory` does for binary values: their base64.
  stored.startsWith(binaryMarker) ? stored.slice(binaryMarker.length) : stored

/** Escapes Redis glob characters so a prefix matches literally in `SCAN MATCH`. */
export const escapeGlob = (s: string): string => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`)

const describe = (cause: unknown): string => {
  const inner = typeof cause === "object" && cause !== null && "cause" in cause ? cause.cause : cause
  return inner instanceof Error ? inner.message : String(inner)
}

/** Options of {@link makeStore}. */
export interface StoreOptions {
  readonly prefix: string
  /** Bounds every command; `undefined` leaves it to the client. */
  readonly timeout: Duration.Duration | undefined
}

/** Bounds an effect by `timeout`, failing with `onTimeout`. */
export const bounded = <A, E>(
  effect: Effect.Effect<A, E>,
  timeout: Duration.Duration | undefined,
  onTimeout: () => E
): Effect.Effect<A, E> =>
  timeout === undefined ? effect : Effect.timeoutOrElse(effect, {
    duration: timeout,
    orElse: () => Effect.fail(onTimeout())
  })

const storeError = (method: string, key: string | undefined, message: string, cause: unknown) =>
  new KeyValueStore.KeyValueStoreError({
    method,
    message,
    ...(key === undefined ? {} : { key }),
    ...(cause === undefined ? {} : { cause })
  })

/** The store: every key lives at `prefix + key`. */
export const makeStore = (redis: Redis.Redis["Service"], options: StoreOptions) => {
  const { prefix, timeout } = options
  const op = <A>(
    method: string,
    key: string | undefined,
    effect: Effect.Effect<A, Redis.RedisError>
  ): Effect.Effect<A, KeyValueStore.KeyValueStoreError> => {
    // Per command: one `mapError` (and the timeout when configured); the errors are built only on failure.
    const failed = Effect.mapError(
      effect,
      (cause) => storeError(method, key, `Redis ${method} failed: ${describe(cause)}`, cause)
    )
    return timeout === undefined ? failed : bounded(
      failed,
      timeout,
      () => storeError(method, key, `Redis ${method} timed out after ${Duration.format(timeout)}`, undefined)
    )
  }

  const scanKeys: Effect.Effect<Array<string>, Redis.RedisError> = Effect.gen(function*() {
    const pattern = `${escapeGlob(prefix)}*`
    const found = new Set<string>()
    let cursor = "0"
    do {
      const reply = yield* redis.send<[string, Array<string>]>("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")
      cursor = String(reply[0])
      for (const key of reply[1]) found.add(String(key))
    } while (cursor !== "0")
    return Array.from(found)
  })

  const keys = op("keys", undefined, Effect.map(scanKeys, (all) => all.map((k) => k.slice(prefix.length))))

  const store = KeyValueStore.make({
    get: (key) =>
      op(
        "get",
        key,
        Effect.map(redis.send<string | null>("GET", prefix + key), (v) => v === null ? undefined : decodeString(v))
      ),
    getUint8Array: (key) =>
      op(
        "getUint8Array",
        key,
        Effect.map(redis.send<string | null>("GET", prefix + key), (v) => v === null ? undefined : decodeBytes(v))
      ),
    set: (key, value) => op("set", key, Effect.asVoid(redis.send("SET", prefix + key, encodeValue(value)))),
    remove: (key) => op("remove", key, Effect.asVoid(redis.send("DEL", prefix + key))),
    has: (key) => op("has", key, Effect.map(redis.send<number>("EXISTS", prefix + key), (n) => Number(n) > 0)),
    clear: op(
      "clear",
      undefined,
      Effect.flatMap(scanKeys, (all) =>
        Effect.forEach(
          Array.from({ length: Math.ceil(all.length / 500) }, (_, i) => all.slice(i * 500, i * 500 + 500)),
          (batch) => redis.send("UNLINK", ...batch),
          { discard: true }
        ))
    ),
    size: Effect.map(keys, (all) => all.length),
    keys
  })

  /** A value as stored: the text written as text, the bytes of a binary value. */
  const getStored = (key: string): Effect.Effect<string | Uint8Array | undefined, KeyValueStore.KeyValueStoreError> =>
    op(
      "getUint8Array",
      key,
      Effect.map(
        redis.send<string | null>("GET", prefix + key),
        (v) => v === null ? undefined : v.startsWith(binaryMarker) ? decodeBytes(v) : v
      )
    )

  /** `SET key value PXAT ms`: Redis deletes the key when the record expires. */
  const setExpiring = (key: string, value: Uint8Array, epochMillis: number): Effect.Effect<void, StorageError> =>
    Effect.mapError(
      op(
        "set",
        key,
        Effect.asVoid(
          redis.send("SET", prefix + key, encodeValue(value), "PXAT", String(Math.max(1, Math.floor(epochMillis))))
        )
      ),
      (error) =>
        new StorageError({
          message: `Result storage failed to write key ${JSON.stringify(key)}: ${error.message}`,
          key,
          cause: error
        })
    )

  /** `EXISTS key`, as a `StorageError` on failure. */
  const exists = (key: string): Effect.Effect<boolean, StorageError> =>
    Effect.mapError(
      store.has(key),
      (error) =>
        new StorageError({
          message: `Result storage failed to read key ${JSON.stringify(key)}: ${error.message}`,
          key,
          cause: error
        })
    )

  return { store, getStored, setExpiring, exists }
}

/** Compare-and-delete: deletes the lock only when `holder` holds it. */
const releaseScript = Redis.script((key: string, holder: string) => [key, holder], {
  numberOfKeys: 1,
  lua: `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`
}).withReturnType<number>()

/** Options of {@link makeLockManager}. */
export interface LockOptions {
  readonly prefix: string
  readonly timeout: Duration.Duration | undefined
  /** How long to wait between two attempts on a held lock, at most. */
  readonly pollInterval: Duration.Duration
}

const timeoutMillis = (input: Duration.Input | undefined, what: string): Effect.Effect<number | undefined> => {
  if (input === undefined) return Effect.undefined
  const millis = Duration.toMillis(input)
  return Number.isNaN(millis) || millis < 0
    ? Effect.die(new InvalidState({ message: `Invalid ${what}: ${String(input)} is not a duration.` }))
    : Effect.succeed(millis === Infinity ? undefined : millis)
}

/**
 * Record locks in Redis: `SET lock holder NX [PX hold]` to take a lock (the
 * holder re-enters at once), a Lua compare-and-delete to release it, polling
 * (doubling up to `pollInterval`) while another holder has it.
 */
export const makeLockManager = (redis: Redis.Redis["Service"], options: LockOptions): LockManagerShape => {
  const { prefix, timeout } = options
  const maxPoll = Math.max(1, Duration.toMillis(options.pollInterval))
  const run = <A>(what: string, key: string, effect: Effect.Effect<A, Redis.RedisError>) =>
    bounded(
      Effect.mapError(effect, (cause) =>
        new StorageError({
          message: `Redis lock ${what} failed for key ${JSON.stringify(key)}: ${describe(cause)}`,
          key,
          cause
        })),
      timeout,
      () =>
        new StorageError({
          message: `Redis lock ${what} timed out for key ${JSON.stringify(key)} after ${Duration.format(timeout!)}`,
          key
        })
    )

  /** One attempt: `true` when `holder` now holds the lock; `undefined` when the lock vanished meanwhile. */
  const attempt = (key: string, holder: string, hold: number | undefined) =>
    Effect.flatMap(
      run(
        "acquire",
        key,
        hold === undefined
          ? redis.send<string | null>("SET", prefix + key, holder, "NX")
          : redis.send<string | null>("SET", prefix + key, holder, "NX", "PX", String(Math.max(1, Math.ceil(hold))))
      ),
      (ok) =>
        ok !== null
          ? Effect.succeed<boolean | undefined>(true)
          : Effect.map(
            run("acquire", key, redis.send<string | null>("GET", prefix + key)),
            (current) => current === null ? undefined : current === holder
          )
    )

  /** Polls `check` until it answers `true` or the deadline passes (→ `false`). */
  const poll = (check: Effect.Effect<boolean, StorageError>, wait: number | undefined) =>
    Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      let delay = 1
      while (true) {
        if (yield* check) return true
        const now = yield* Clock.currentTimeMillis
        if (wait !== undefined && now - start >= wait) return false
        const sleep = wait === undefined ? delay : Math.min(delay, Math.max(0, start + wait - now))
        yield* Effect.sleep(sleep)
        delay = Math.min(delay * 2, maxPoll)
      }
    })

  const acquire: LockManagerShape["acquire"] = (key, holder, lockOptions) =>
    Effect.gen(function*() {
      const wait = yield* timeoutMillis(lockOptions?.timeout, "timeout")
      const hold = yield* timeoutMillis(lockOptions?.holdTimeout, "hold timeout")
      return yield* poll(
        Effect.flatMap(attempt(key, holder, hold), (got) =>
          // The lock was released between SET and GET: try again at once.
          got === undefined ? Effect.map(attempt(key, holder, hold), (again) => again === true) : Effect.succeed(got)),
        wait
      )
    })

  const release: LockManagerShape["release"] = (key, holder) =>
    Effect.flatMap(
      run("release", key, redis.eval(releaseScript)(prefix + key, holder)),
      (deleted) =>
        Number(deleted) > 0
          ? Effect.void
          : Effect.fail(new InvalidState({ message: `No lock held by ${holder} for transaction with key ${key}` }))
    )

  const isLocked: LockManagerShape["isLocked"] = (key) =>
    Effect.map(run("check", key, redis.send<number>("EXISTS", prefix + key)), (n) => Number(n) > 0)

  const isLockHolder: LockManagerShape["isLockHolder"] = (key, holder) =>
    Effect.map(run("check", key, redis.send<string | null>("GET", prefix + key)), (current) => current === holder)

  const waitForLock: LockManagerShape["waitForLock"] = (key, lockOptions) =>
    Effect.flatMap(
      timeoutMillis(lockOptions?.timeout, "timeout"),
      (wait) => poll(Effect.map(isLocked(key), (locked) => !locked), wait)
    )

  return { acquire, release, isLocked, isLockHolder, waitForLock }
}
