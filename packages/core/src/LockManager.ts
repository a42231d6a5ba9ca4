/**
 * Record-level locks for result stores (Prefect's `LockManager`): a lock on a
 * storage key is held by one holder string at a time; others wait for it, up
 * to a timeout. The `LockManager` service, its contract, and the in-process
 * manager (Prefect's `MemoryLockManager`); `@runstate/node` has a Redis one.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { capText } from "./internal/pythonJson.ts"
import { InvalidState, type StorageError } from "./RunError.ts"

const describeInput = (input: unknown): string => {
  try {
    return capText(String(input))
  } catch {
    return typeof input
  }
}

/**
 * A lock manager: record-level locks keyed by storage key and held by a
 * holder string. `acquire` with `timeout` waits that long for a held lock
 * (`0` = do not wait, absent = wait forever) and answers `false` on timeout;
 * re-acquiring by the same holder succeeds at once; releasing a lock the
 * holder does not hold fails with `InvalidState`
 * (`No lock held by {holder} for transaction with key {key}`). A timeout that
 * is not a valid duration fails with `InvalidState`.
 *
 * @category models
 * @since 0.2.0
 */
export interface LockManagerShape {
  readonly acquire: (
    key: string,
    holder: string,
    options?: {
      readonly timeout?: Duration.Input | undefined
      readonly holdTimeout?: Duration.Input | undefined
    }
  ) => Effect.Effect<boolean, StorageError | InvalidState>
  readonly release: (key: string, holder: string) => Effect.Effect<void, InvalidState | StorageError>
  readonly isLocked: (key: string) => Effect.Effect<boolean, StorageError>
  readonly isLockHolder: (key: string, holder: string) => Effect.Effect<boolean, StorageError>
  readonly waitForLock: (
    key: string,
    options?: { readonly timeout?: Duration.Input | undefined }
  ) => Effect.Effect<boolean, StorageError | InvalidState>
}

/**
 * The `LockManager` service, for layers that share one lock manager.
 *
 * @category services
 * @since 0.2.0
 */
export class LockManager extends Context.Service<LockManager, LockManagerShape>()("@runstate/core/LockManager") {}

/**
 * Whether `input` has no parts `Duration.fromInput` would silently read as zero:
 * `NaN`, or a parts object (`{ seconds: … }`) with a part that is not a
 * non-negative finite number.
 */
const wellFormed = (input: unknown): boolean => {
  if (typeof input === "number") return !Number.isNaN(input)
  if (typeof input !== "object" || input === null || Duration.isDuration(input) || Array.isArray(input)) return true
  for (const part of Object.values(input)) {
    if (typeof part !== "number" || !Number.isFinite(part) || part < 0) return false
  }
  return true
}

/**
 * A lock timeout in milliseconds, as every lock manager reads it: absent (or
 * infinite) = `undefined` (wait forever); a valid, non-negative duration = its
 * milliseconds; anything else fails with `InvalidState`
 * `Invalid timeout: {input} is not a duration.` (the input capped in length).
 *
 * @category parsing
 * @since 0.2.0
 */
export const timeoutMillis = (input: Duration.Input | undefined): Effect.Effect<number | undefined, InvalidState> => {
  if (input === undefined) return Effect.succeed(undefined)
  let decoded: Option.Option<Duration.Duration> = Option.none()
  if (wellFormed(input)) {
    try {
      decoded = Duration.fromInput(input)
    } catch {
      decoded = Option.none()
    }
  }
  const millis = Option.isNone(decoded) ? NaN : Duration.toMillis(decoded.value)
  if (Number.isNaN(millis) || millis < 0) {
    return Effect.fail(new InvalidState({ message: `Invalid timeout: ${describeInput(input)} is not a duration.` }))
  }
  return Effect.succeed(millis === Infinity ? undefined : millis)
}

interface LockEntry {
  readonly holder: string
  readonly expiresAt: number | undefined
  readonly freed: Deferred.Deferred<void>
}

/**
 * An in-process lock manager (Prefect's `MemoryLockManager`):
 * acquiring a free key succeeds; the same holder re-acquires at once (its hold
 * timeout unchanged); another holder waits until the lock is released or its
 * hold timeout expires, or gives up after `timeout` (→ `false`); releasing a
 * lock one does not hold fails with `InvalidState`
 * `No lock held by {holder} for transaction with key {key}`; `waitForLock`
 * answers `true` if the key is free or freed within the timeout. Time comes
 * from `Clock`, so `TestClock` drives every timeout. Each evaluation makes a
 * new, independent manager; share one through {@link layerMemory}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LockManager } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const locks = yield* LockManager.makeMemory
 *   yield* locks.acquire("key", "a")
 *   return yield* locks.acquire("key", "b", { timeout: 0 }) // false
 * })
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeMemory: Effect.Effect<LockManagerShape> = Effect.sync(() => {
  const locks = new Map<string, LockEntry>()

  /** The live entry at `key`, dropping (and signalling) one whose hold timeout has passed. */
  const current = (key: string, now: number): LockEntry | undefined => {
    const entry = locks.get(key)
    if (entry !== undefined && entry.expiresAt !== undefined && entry.expiresAt <= now) {
      locks.delete(key)
      Deferred.doneUnsafe(entry.freed, Effect.void)
      return undefined
    }
    return entry
  }

  /** Waits until `entry` is released or its hold timeout passes. */
  const freedOrExpired = (entry: LockEntry, now: number): Effect.Effect<void> =>
    entry.expiresAt === undefined
      ? Deferred.await(entry.freed)
      : Effect.race(Deferred.await(entry.freed), Effect.sleep(entry.expiresAt - now))

  const acquire: LockManagerShape["acquire"] = (key, holder, options) =>
    Effect.gen(function*() {
      const timeout = yield* timeoutMillis(options?.timeout)
      const hold = yield* timeoutMillis(options?.holdTimeout)
      const start = yield* Clock.currentTimeMillis
      const deadline = timeout === undefined ? undefined : start + timeout
      while (true) {
        const now = yield* Clock.currentTimeMillis
        const entry = current(key, now)
        if (entry === undefined) {
          locks.set(key, {
            holder,
            expiresAt: hold === undefined ? undefined : now + hold,
            freed: Deferred.makeUnsafe<void>()
          })
          return true
        }
        if (entry.holder === holder) return true
        if (deadline === undefined) {
          yield* freedOrExpired(entry, now)
        } else {
          if (now >= deadline) return false
          const woke = yield* Effect.timeoutOption(freedOrExpired(entry, now), deadline - now)
          if (Option.isNone(woke)) return false
        }
      }
    })

  const release: LockManagerShape["release"] = (key, holder) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const entry = current(key, now)
      if (entry === undefined || entry.holder !== holder) {
        return Effect.fail(new InvalidState({ message: `No lock held by ${holder} for transaction with key ${key}` }))
      }
      locks.delete(key)
      Deferred.doneUnsafe(entry.freed, Effect.void)
      return Effect.void
    })

  const isLocked: LockManagerShape["isLocked"] = (key) =>
    Effect.map(Clock.currentTimeMillis, (now) => current(key, now) !== undefined)

  const isLockHolder: LockManagerShape["isLockHolder"] = (key, holder) =>
    Effect.map(Clock.currentTimeMillis, (now) => current(key, now)?.holder === holder)

  const waitForLock: LockManagerShape["waitForLock"] = (key, options) =>
    Effect.gen(function*() {
      const timeout = yield* timeoutMillis(options?.timeout)
      const now = yield* Clock.currentTimeMillis
      const entry = current(key, now)
      if (entry === undefined) return true
      if (timeout === undefined) {
        yield* freedOrExpired(entry, now)
        return true
      }
      const woke = yield* Effect.timeoutOption(freedOrExpired(entry, now), timeout)
      return Option.isSome(woke)
    })

  return { acquire, release, isLocked, isLockHolder, waitForLock }
})

/**
 * A layer providing one shared in-memory {@link LockManager} (see
 * {@link makeMemory}).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerMemory: Layer.Layer<LockManager> = Layer.effect(LockManager, makeMemory)
