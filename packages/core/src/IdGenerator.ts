/**
 * Where runstate's random ids come from: result storage keys (a UUID4 as 32
 * lowercase hex characters, Prefect's default) and state ids (time-ordered
 * UUIDv7s). By default both are drawn from a cryptographically secure source
 * (`crypto.getRandomValues`, the operating system's, as Python's `uuid4()`),
 * not from Effect's default `Random` (`Math.random`). Tests make them
 * deterministic through this one service: provide {@link fromRandom} of a
 * seeded `Random`, or wrap a program in {@link withSeed}.
 *
 * State constructors are synchronous and draw a state's id when it is first
 * read: inside a fiber they use that fiber's `IdGenerator`, outside any fiber
 * the secure default.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Uuid from "./internal/uuid.ts"

/**
 * An id generator: `storageKey()` draws a UUID4 as 32 lowercase hex
 * characters, `stateId(epochMillis)` a UUIDv7 whose time part is
 * `epochMillis`.
 *
 * @category models
 * @since 0.2.0
 */
export type IdGeneratorShape = Uuid.IdGeneratorShape

/**
 * The id generator service: a reference whose default is {@link secure}, so
 * nothing needs to provide it.
 *
 * @category services
 * @since 0.2.0
 */
export const IdGenerator = Uuid.IdGenerator

/**
 * The default generator: `crypto.getRandomValues`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const secure: IdGeneratorShape = Uuid.secure

/**
 * A generator drawing every bit from an Effect `Random`: deterministic when
 * that `Random` is seeded. For tests; never for ids that must be unguessable.
 *
 * @category constructors
 * @since 0.2.0
 */
export const fromRandom: (random: Random.Random) => IdGeneratorShape = Uuid.fromRandom

/**
 * Runs `self` with ids drawn from Effect's `Random` seeded with `seed` (and
 * that seeded `Random` as the fiber's `Random`): the same seed gives the same
 * storage keys and state ids.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { IdGenerator, ResultStore } from "@runstate/core"
 *
 * const keys = Effect.all([ResultStore.randomStorageKey, ResultStore.randomStorageKey]).pipe(
 *   IdGenerator.withSeed("test")
 * )
 * // the same two keys on every run
 * ```
 *
 * @category providing services
 * @since 0.2.0
 */
export const withSeed = (seed: string | number) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Random.withSeed(
    Effect.flatMap(
      Effect.service(Random.Random),
      (random) => Effect.provideService(self, IdGenerator, fromRandom(random))
    ),
    seed
  )

/**
 * Draws a storage key (a UUID4 as 32 lowercase hex characters) from the
 * fiber's generator.
 *
 * @category constructors
 * @since 0.2.0
 */
export const storageKey: Effect.Effect<string> = Effect.sync(() => Uuid.current().storageKey())

/**
 * Draws a state id (a UUIDv7 of the current `Clock` time) from the fiber's
 * generator.
 *
 * @category constructors
 * @since 0.2.0
 */
export const stateId: Effect.Effect<string> = Effect.flatMap(
  Clock.currentTimeMillis,
  (now) => IdGenerator.useSync((generator) => generator.stateId(now))
)
