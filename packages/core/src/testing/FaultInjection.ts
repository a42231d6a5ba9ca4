/**
 * Fault injection for storage: wraps any `effect/persistence` `KeyValueStore`
 * so that a chosen fraction of its operations fail (drawn from a seeded
 * pseudo-random generator, so a failing run replays), or the next N operations
 * fail and then the store recovers. A fault can strike before the operation
 * (nothing happens) or after it (the write lands but the caller sees an error,
 * like a lost acknowledgement). Use it to show that a `ResultStore` reports
 * storage failures as typed errors, leaves records written before intact, and
 * reads through transient faults when retried.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"

/**
 * The operations a fault can strike.
 *
 * @category models
 * @since 0.1.0
 */
export type Operation = "get" | "set" | "remove" | "clear" | "keys" | "size" | "has"

/**
 * When a fault strikes: `"before"` the operation runs (nothing is done),
 * `"after"` it ran (a write is applied, the caller still sees an error).
 *
 * @category models
 * @since 0.1.0
 */
export type Timing = "before" | "after"

/**
 * Options of {@link make}.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** The fraction of operations that fail, from 0 to 1. Default 0. */
  readonly rate?: number | undefined
  /** Seed of the pseudo-random generator (32-bit). Default 1. */
  readonly seed?: number | undefined
  /** The operations subject to faults. Default: all. */
  readonly operations?: ReadonlyArray<Operation> | undefined
  /** When a fault strikes. Default `"before"`. */
  readonly timing?: Timing | undefined
}

/**
 * Counters of a faulty store.
 *
 * @category models
 * @since 0.1.0
 */
export interface Stats {
  /** Operations subject to faults that were attempted. */
  readonly operations: number
  /** Operations that failed with an injected fault. */
  readonly failures: number
}

/**
 * Controls a faulty store while it runs.
 *
 * @category models
 * @since 0.1.0
 */
export interface Controller {
  /** Fails the next `n` operations subject to faults, then falls back to the rate. */
  readonly failNext: (n: number) => Effect.Effect<void>
  /** Changes the fraction of operations that fail. */
  readonly setRate: (rate: number) => Effect.Effect<void>
  /** Changes when faults strike. */
  readonly setTiming: (timing: Timing) => Effect.Effect<void>
  /** No more faults: rate 0 and no pending `failNext`. */
  readonly heal: Effect.Effect<void>
  /** The counters so far. */
  readonly stats: Effect.Effect<Stats>
}

/**
 * The controller of the faulty store provided by {@link layer}.
 *
 * @category services
 * @since 0.1.0
 */
export class FaultController extends Context.Service<FaultController, Controller>()(
  "@runstate/core/FaultInjection/FaultController"
) {}

/**
 * The message of every injected fault.
 *
 * @category constants
 * @since 0.1.0
 */
export const faultMessage = "Injected storage fault"

/**
 * Tells whether an error is (or wraps, through `cause`) an injected fault.
 *
 * @category guards
 * @since 0.1.0
 */
export const isInjectedFault = (u: unknown): boolean => {
  let current: unknown = u
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    if ((current as { readonly message?: unknown }).message === faultMessage) return true
    current = (current as { readonly cause?: unknown }).cause
  }
  return false
}

/** mulberry32: a small, fast, seedable 32-bit generator. */
const prng = (seed: number): () => number => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Wraps a store: returns the faulty store and its controller.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as KeyValueStore from "effect/persistence/KeyValueStore"
 * import { FaultInjection } from "@runstate/core/testing"
 *
 * const program = Effect.gen(function*() {
 *   const inner = yield* KeyValueStore.KeyValueStore
 *   const { controller, store } = FaultInjection.make(inner, { seed: 42 })
 *   yield* controller.failNext(1)
 *   const first = yield* Effect.exit(store.set("k", "v")) // fails
 *   yield* store.set("k", "v") // succeeds
 *   return first
 * }).pipe(Effect.provide(KeyValueStore.layerMemory))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  store: KeyValueStore.KeyValueStore,
  options: Options = {}
): { readonly store: KeyValueStore.KeyValueStore; readonly controller: Controller } => {
  let rate = options.rate ?? 0
  let timing: Timing = options.timing ?? "before"
  let pending = 0
  let operations = 0
  let failures = 0
  const random = prng(options.seed ?? 1)
  const subject: ReadonlySet<Operation> = new Set(
    options.operations ?? ["get", "set", "remove", "clear", "keys", "size", "has"]
  )

  const strikes = (operation: Operation): boolean => {
    if (!subject.has(operation)) return false
    operations++
    // Draw on every operation so the sequence of faults depends only on the seed
    // and the order of operations, not on `failNext`.
    const draw = random()
    if (pending > 0) {
      pending--
      failures++
      return true
    }
    if (draw < rate) {
      failures++
      return true
    }
    return false
  }

  const fault = (method: string, key: string | undefined) =>
    new KeyValueStore.KeyValueStoreError(
      key === undefined ? { method, message: faultMessage } : { method, key, message: faultMessage }
    )

  const wrap = <A>(
    operation: Operation,
    method: string,
    key: string | undefined,
    effect: Effect.Effect<A, KeyValueStore.KeyValueStoreError>
  ): Effect.Effect<A, KeyValueStore.KeyValueStoreError> =>
    Effect.suspend(() => {
      if (!strikes(operation)) return effect
      return timing === "before"
        ? Effect.fail(fault(method, key))
        : Effect.flatMap(effect, () => Effect.fail(fault(method, key)))
    })

  const faulty = KeyValueStore.make({
    get: (key) => wrap("get", "get", key, store.get(key)),
    getUint8Array: (key) => wrap("get", "getUint8Array", key, store.getUint8Array(key)),
    set: (key, value) => wrap("set", "set", key, store.set(key, value)),
    remove: (key) => wrap("remove", "remove", key, store.remove(key)),
    clear: wrap("clear", "clear", undefined, store.clear),
    clearPrefix: (prefix) => wrap("clear", "clearPrefix", prefix, store.clearPrefix(prefix)),
    size: wrap("size", "size", undefined, store.size),
    keys: wrap("keys", "keys", undefined, store.keys),
    has: (key) => wrap("has", "has", key, store.has(key))
  })

  const controller: Controller = {
    failNext: (n) =>
      Effect.sync(() => {
        pending = Math.max(0, Math.floor(n))
      }),
    setRate: (r) =>
      Effect.sync(() => {
        rate = r
      }),
    setTiming: (t) =>
      Effect.sync(() => {
        timing = t
      }),
    heal: Effect.sync(() => {
      rate = 0
      pending = 0
    }),
    stats: Effect.sync(() => ({ operations, failures }))
  }
  return { store: faulty, controller }
}

/**
 * Replaces the `KeyValueStore` in context with a faulty view of it and
 * provides its {@link FaultController}.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import * as KeyValueStore from "effect/persistence/KeyValueStore"
 * import { FaultInjection } from "@runstate/core/testing"
 *
 * const Faulty = FaultInjection.layer({ rate: 0.2, seed: 7 }).pipe(Layer.provide(KeyValueStore.layerMemory))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<KeyValueStore.KeyValueStore | FaultController, never, KeyValueStore.KeyValueStore> =>
  Layer.effectContext(Effect.map(KeyValueStore.KeyValueStore, (inner) => {
    const { controller, store } = make(inner, options)
    return Context.make(KeyValueStore.KeyValueStore, store).pipe(Context.add(FaultController, controller))
  }))
