/**
 * A `KeyValueStore` and a lock manager over Effect's `Redis` service.
 *
 * @since 0.1.0
 */
import { Buffer, isUtf8 } from "node:buffer"
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Base64 from "effect/encoding/Base64"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as Redis from "effect/persistence/Redis"
import * as Option from "effect/Option"
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

/** The command timeout the layers enforce unless told otherwise: 5 seconds. */
export const defaultTimeout: Duration.Duration = Duration.seconds(5)

/**
 * The timeout to enforce: `undefined` → {@link defaultTimeout}; an infinite
 * duration → none (`undefined`).
 */
export const effectiveTimeout = (timeout: Duration.Duration | undefined): Duration.Duration | undefined =>
  timeout === undefined ? defaultTimeout : Duration.isFinite(timeout) ? timeout : undefined

/** Options of {@link makeStore}. */
export interface StoreOptions {
  readonly prefix: string
  /**
   * Bounds every command, in this process: a command the server never answers
   * (stopped, or a silent peer) fails once it passes. `undefined`: 5 seconds;
   * an infinite duration: no bound.
   */
  readonly timeout: Duration.Duration | undefined
  /** The node-redis client behind the `Redis` service, when there is one: commands then go straight through it. */
  readonly client?: NodeRedisClient | undefined
}

/**
 * Bounds an effect by `timeout`, failing with `onTimeout` (and interrupting
 * it) once the time passes. Every Redis command pays for this, so it is one
 * fiber and one timer rather than `Effect.timeoutOrElse`'s race of two fibers
 * and a sleep: the command runs on its own fiber, a timer settles the wait
 * first when the reply is late. It is an I/O deadline, on the wall clock.
 */
export const bounded = <A, E>(
  effect: Effect.Effect<A, E>,
  timeout: Duration.Duration | undefined,
  onTimeout: () => E
): Effect.Effect<A, E> => {
  if (timeout === undefined) return effect
  const millis = Duration.toMillis(timeout)
  return Effect.withFiber((parent) =>
    Effect.callback<A, E>((resume) => {
      let settled = false
      const fiber = Effect.runForkWith(parent.context)(effect)
      const timer = setTimeout(() => {
        if (settled) return
        settled = true
        fiber.interruptUnsafe()
        resume(Effect.fail(onTimeout()))
      }, millis)
      fiber.addObserver((exit) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resume(exit)
      })
      // The caller was interrupted: stop waiting and stop the command's fiber.
      return Effect.sync(() => {
        settled = true
        clearTimeout(timer)
        fiber.interruptUnsafe()
      })
    })
  )
}

/** A command that had no reply within the timeout. */
export class CommandTimeout {
  readonly _tag = "CommandTimeout"
}

type NodeRedisClient = NodeRedis.NodeRedis["Service"]["client"]

/** A command waiting for its reply: when it is due, and how to fail it. */
interface Waiting {
  readonly due: number
  readonly expire: () => void
}

/**
 * The deadlines of one store's commands in flight, swept by one interval
 * timer (running only while commands are in flight, `unref`ed): a command
 * costs a set insertion instead of a timer of its own. A command fails at most
 * a tenth of the timeout (and at most 250 ms) after it is due.
 */
const makeDeadlines = (millis: number) => {
  const waiting = new Set<Waiting>()
  const every = Math.max(5, Math.min(250, Math.floor(millis / 10)))
  let timer: ReturnType<typeof setInterval> | undefined
  const sweep = () => {
    const now = performance.now()
    // Every command has the same timeout, so insertion order is due order.
    for (const entry of waiting) {
      if (entry.due > now) break
      waiting.delete(entry)
      entry.expire()
    }
    if (waiting.size === 0 && timer !== undefined) {
      clearInterval(timer)
      timer = undefined
    }
  }
  return {
    add: (entry: Waiting): void => {
      waiting.add(entry)
      if (timer === undefined) {
        timer = setInterval(sweep, every)
        timer.unref()
      }
    },
    remove: (entry: Waiting): void => {
      waiting.delete(entry)
    }
  }
}

/** Sends one command through the node-redis client, failing it with `CommandTimeout` once it is `millis` late. */
const sendWithin = <A>(
  client: NodeRedisClient,
  args: Array<string>,
  millis: number,
  deadlines: ReturnType<typeof makeDeadlines>
): Effect.Effect<A, Redis.RedisError | CommandTimeout> =>
  Effect.callback<A, Redis.RedisError | CommandTimeout>((resume) => {
    let settled = false
    const entry: Waiting = {
      due: performance.now() + millis,
      expire: () => {
        if (settled) return
        settled = true
        resume(Effect.fail(new CommandTimeout()))
      }
    }
    deadlines.add(entry)
    const done = (effect: Effect.Effect<A, Redis.RedisError>) => {
      if (settled) return
      settled = true
      deadlines.remove(entry)
      resume(effect)
    }
    try {
      client.sendCommand(args).then(
        (reply) => done(Effect.succeed(reply as A)),
        (cause: unknown) => done(Effect.fail(new Redis.RedisError({ cause })))
      )
    } catch (cause) {
      done(Effect.fail(new Redis.RedisError({ cause })))
    }
    return Effect.sync(() => {
      settled = true
      deadlines.remove(entry)
    })
  })

/** Sends a command; fails with `CommandTimeout` when its reply does not come within the timeout. */
export type Send = <A = unknown>(
  command: string,
  ...args: Array<string>
) => Effect.Effect<A, Redis.RedisError | CommandTimeout>

/**
 * The `send` the stores use: every command bounded by `timeout` (none when
 * `undefined`). With the node-redis client at hand (`layerRedisClient`,
 * `NodeRedis.layer`) a command is sent straight through it, its deadline
 * swept with the others' by one timer;
 * with any other `Redis` service it is `Redis.send` under {@link bounded}.
 */
export const makeSend = (
  redis: Redis.Redis["Service"],
  client: NodeRedisClient | undefined,
  timeout: Duration.Duration | undefined
): Send => {
  if (timeout === undefined) return redis.send
  const millis = Duration.toMillis(timeout)
  if (client !== undefined) {
    const deadlines = makeDeadlines(millis)
    return (command, ...args) => sendWithin(client, [command, ...args], millis, deadlines)
  }
  return <A>(command: string, ...args: Array<string>) =>
    bounded<A, Redis.RedisError | CommandTimeout>(redis.send<A>(command, ...args), timeout, () => new CommandTimeout())
}

/** The `Redis` service and, when present, the node-redis client behind it. */
export const services: Effect.Effect<
  { readonly redis: Redis.Redis["Service"]; readonly client: NodeRedisClient | undefined },
  never,
  Redis.Redis
> = Effect.map(
  Effect.all([Redis.Redis, Effect.serviceOption(NodeRedis.NodeRedis)]),
  ([redis, node]) => ({ redis, client: Option.isSome(node) ? node.value.client : undefined })
)

/** The longest key quoted whole in an error message; longer ones are cut. */
const quotedKeyLimit = 200

const quoteKey = (key: string): string =>
  key.length <= quotedKeyLimit
    ? JSON.stringify(key)
    : `${JSON.stringify(key.slice(0, quotedKeyLimit))}… (${key.length} characters)`

/**
 * Why `key` cannot be a Redis key, or `undefined`: Redis keys are bytes and the
 * client sends a key's UTF-8, in which every lone surrogate becomes U+FFFD —
 * two keys differing only there would be one key.
 */
export const invalidKey = (key: string): string | undefined =>
  key.isWellFormed()
    ? undefined
    : `Invalid storage key ${
      quoteKey(key)
    }: it contains a lone surrogate (not well-formed Unicode), which a Redis key cannot hold.`

const storeError = (method: string, key: string | undefined, message: string, cause: unknown) =>
  new KeyValueStore.KeyValueStoreError({
    method,
    message,
    ...(key === undefined ? {} : { key }),
    ...(cause === undefined ? {} : { cause })
  })

/** The store: every key lives at `prefix + key`. */
export const makeStore = (redisService: Redis.Redis["Service"], options: StoreOptions) => {
  const prefix = options.prefix
  const timeout = effectiveTimeout(options.timeout)
  const redis = { send: makeSend(redisService, options.client, timeout) }
  const op = <A>(
    method: string,
    key: string | undefined,
    effect: Effect.Effect<A, Redis.RedisError | CommandTimeout>
  ): Effect.Effect<A, KeyValueStore.KeyValueStoreError> => {
    if (key !== undefined) {
      const reason = invalidKey(key)
      if (reason !== undefined) return Effect.fail(storeError(method, key, reason, undefined))
    }
    // Per command: one `mapError` (each command is bounded by `send`); the errors are built only on failure.
    return Effect.mapError(
      effect,
      (cause) =>
        cause instanceof CommandTimeout
          ? storeError(method, key, `Redis ${method} timed out after ${Duration.format(timeout!)}`, undefined)
          : storeError(method, key, `Redis ${method} failed: ${describe(cause)}`, cause)
    )
  }

  const scanKeys: Effect.Effect<Array<string>, Redis.RedisError | CommandTimeout> = Effect.gen(function*() {
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
  /** The node-redis client behind the `Redis` service, when there is one: commands then go straight through it. */
  readonly client?: NodeRedisClient | undefined
}

/** A timeout in milliseconds (`undefined`: none); `InvalidState` for anything that is not a duration ≥ 0. */
const timeoutMillis = (
  input: Duration.Input | undefined,
  what: string
): Effect.Effect<number | undefined, InvalidState> => {
  if (input === undefined) return Effect.undefined
  const decoded = Duration.fromInput(input)
  const millis = Option.isSome(decoded) ? Duration.toMillis(decoded.value) : Number.NaN
  return Number.isNaN(millis) || millis < 0
    ? Effect.fail(new InvalidState({ message: `Invalid ${what}: ${String(input)} is not a duration.` }))
    : Effect.succeed(millis === Infinity ? undefined : millis)
}

const checkLockKey = (key: string): Effect.Effect<void, InvalidState> => {
  const reason = invalidKey(key)
  return reason === undefined ? Effect.void : Effect.fail(new InvalidState({ message: reason }))
}

/**
 * Record locks in Redis: `SET lock holder NX [PX hold]` to take a lock (the
 * holder re-enters at once), a Lua compare-and-delete to release it, polling
 * (doubling up to `pollInterval`) while another holder has it.
 */
export const makeLockManager = (redisService: Redis.Redis["Service"], options: LockOptions): LockManagerShape => {
  const prefix = options.prefix
  const timeout = effectiveTimeout(options.timeout)
  const maxPoll = Math.max(1, Duration.toMillis(options.pollInterval))
  const redis = {
    send: makeSend(redisService, options.client, timeout),
    eval: (key: string, holder: string) =>
      bounded<number, Redis.RedisError | CommandTimeout>(
        redisService.eval(releaseScript)(key, holder),
        timeout,
        () => new CommandTimeout()
      )
  }
  const run = <A>(what: string, key: string, effect: Effect.Effect<A, Redis.RedisError | CommandTimeout>) =>
    Effect.mapError(effect, (cause) =>
      cause instanceof CommandTimeout
        ? new StorageError({
          message: `Redis lock ${what} timed out for key ${JSON.stringify(key)} after ${Duration.format(timeout!)}`,
          key
        })
        : new StorageError({
          message: `Redis lock ${what} failed for key ${JSON.stringify(key)}: ${describe(cause)}`,
          key,
          cause
        }))

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
      yield* checkLockKey(key)
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
      Effect.andThen(checkLockKey(key), run("release", key, redis.eval(prefix + key, holder))),
      (deleted: number) =>
        Number(deleted) > 0
          ? Effect.void
          : Effect.fail(new InvalidState({ message: `No lock held by ${holder} for transaction with key ${key}` }))
    )

  const exists = (key: string) =>
    Effect.map(run("check", key, redis.send<number>("EXISTS", prefix + key)), (n) => Number(n) > 0)

  // A key no lock can be taken on is never locked, and held by no one.
  const isLocked: LockManagerShape["isLocked"] = (key) =>
    invalidKey(key) === undefined ? exists(key) : Effect.succeed(false)

  const isLockHolder: LockManagerShape["isLockHolder"] = (key, holder) =>
    invalidKey(key) === undefined
      ? Effect.map(run("check", key, redis.send<string | null>("GET", prefix + key)), (current) => current === holder)
      : Effect.succeed(false)

  const waitForLock: LockManagerShape["waitForLock"] = (key, lockOptions) =>
    Effect.flatMap(
      timeoutMillis(lockOptions?.timeout, "timeout"),
      (wait) => poll(Effect.map(isLocked(key), (locked) => !locked), wait)
    )

  return { acquire, release, isLocked, isLockHolder, waitForLock }
}

/** How long closing the client waits for replies to commands in flight before it force-closes. */
export const closeTimeout: Duration.Duration = Duration.seconds(2)

/**
 * Closes `client` gracefully (waiting for replies to commands in flight), or,
 * when that has not finished within `millis`, destroys it (rejecting what is
 * still pending). Never waits longer than `millis`.
 */
export const closeWithin = async (client: NodeRedisClient, millis: number): Promise<void> => {
  if (!client.isOpen) return
  let timer: ReturnType<typeof setTimeout> | undefined
  const closed = await Promise.race([
    client.close().then(() => true, () => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), millis)
    })
  ])
  clearTimeout(timer)
  if (!closed) client.destroy()
}

/**
 * `NodeRedis.layer` whose closing is bounded: before the client's own close
 * (which waits for every reply, forever when the server stopped answering),
 * the client is closed within `closeTimeout`, then destroyed.
 */
export const layerClient = (
  options: NonNullable<Parameters<typeof NodeRedis.layer>[0]>,
  close: Duration.Duration = closeTimeout
): Layer.Layer<Redis.Redis | NodeRedis.NodeRedis, Redis.RedisError> =>
  Layer.effectContext(
    Effect.gen(function*() {
      const context = yield* Layer.build(NodeRedis.layer(options))
      const client = Context.get(context, NodeRedis.NodeRedis).client
      // Added after the client's own finalizer, so it runs first.
      yield* Effect.addFinalizer(() => Effect.promise(() => closeWithin(client, Duration.toMillis(close))))
      return context
    })
  )
