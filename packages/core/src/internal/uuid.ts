/**
 * UUIDs: version 7 (time-ordered, Prefect's state ids) and version 4 as 32
 * lowercase hex characters (Prefect's default storage keys), and the
 * `IdGenerator` reference they are drawn through (public in `IdGenerator.ts`;
 * defined here so that `State`'s synchronous constructors can read it).
 *
 * The secure default draws from `crypto.getRandomValues` (the OS's source, as
 * Python's `uuid4()`), 4096 bytes at a time. The pool holds random bytes only,
 * never user data.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Fiber from "effect/Fiber"
import type * as Random from "effect/Random"

const hex: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** Where ids come from: a storage key (UUID4, 32 hex) and a state id (UUIDv7 of a time). */
export interface IdGeneratorShape {
  readonly storageKey: () => string
  readonly stateId: (epochMillis: number) => string
}

const pool = new Uint8Array(4096)
let poolOffset = pool.length

/** The offset in `pool` of `n` fresh secure random bytes. */
const secureBytes = (n: number): number => {
  if (poolOffset + n > pool.length) {
    globalThis.crypto.getRandomValues(pool)
    poolOffset = 0
  }
  const offset = poolOffset
  poolOffset += n
  return offset
}

/** A UUIDv7 whose 48-bit time part is `epochMillis` and whose other bits are `bytes[o..o+10)`. */
const v7From = (epochMillis: number, bytes: ArrayLike<number>, o: number): string => {
  const ms = Math.max(0, Math.floor(epochMillis))
  const high = Math.floor(ms / 0x1000000)
  const low = ms % 0x1000000
  return (
    hex[(high >>> 16) & 0xff]! + hex[(high >>> 8) & 0xff]! + hex[high & 0xff]! +
    hex[(low >>> 16) & 0xff]! + "-" + hex[(low >>> 8) & 0xff]! + hex[low & 0xff]! + "-" +
    hex[0x70 | (bytes[o]! & 0x0f)]! + hex[bytes[o + 1]! & 0xff]! + "-" +
    hex[0x80 | (bytes[o + 2]! & 0x3f)]! + hex[bytes[o + 3]! & 0xff]! + "-" +
    hex[bytes[o + 4]! & 0xff]! + hex[bytes[o + 5]! & 0xff]! + hex[bytes[o + 6]! & 0xff]! +
    hex[bytes[o + 7]! & 0xff]! + hex[bytes[o + 8]! & 0xff]! + hex[bytes[o + 9]! & 0xff]!
  )
}

/** A UUIDv4 in 32 lowercase hex characters from `bytes[o..o+16)`. */
const v4HexFrom = (bytes: ArrayLike<number>, o: number): string =>
  hex[bytes[o]! & 0xff]! + hex[bytes[o + 1]! & 0xff]! + hex[bytes[o + 2]! & 0xff]! + hex[bytes[o + 3]! & 0xff]! +
  hex[bytes[o + 4]! & 0xff]! + hex[bytes[o + 5]! & 0xff]! + hex[0x40 | (bytes[o + 6]! & 0x0f)]! +
  hex[bytes[o + 7]! & 0xff]! + hex[0x80 | (bytes[o + 8]! & 0x3f)]! + hex[bytes[o + 9]! & 0xff]! +
  hex[bytes[o + 10]! & 0xff]! + hex[bytes[o + 11]! & 0xff]! + hex[bytes[o + 12]! & 0xff]! +
  hex[bytes[o + 13]! & 0xff]! + hex[bytes[o + 14]! & 0xff]! + hex[bytes[o + 15]! & 0xff]!

/** Formats 16 bytes as a UUIDv4 in 32 lowercase hex chars. */
export const v4HexFromBytes = (bytes: ArrayLike<number>): string => v4HexFrom(bytes, 0)

/** The secure generator: `crypto.getRandomValues`. */
export const secure: IdGeneratorShape = {
  storageKey: () => v4HexFrom(pool, secureBytes(16)),
  stateId: (epochMillis) => v7From(epochMillis, pool, secureBytes(10))
}

/** A generator drawing its bits from an Effect `Random` (deterministic when the `Random` is seeded). */
export const fromRandom = (random: Random.Random): IdGeneratorShape => {
  const draw = (n: number): Array<number> => {
    const bytes = new Array<number>(n)
    for (let i = 0; i < n; i++) bytes[i] = Math.floor(random.nextDoubleUnsafe() * 256)
    return bytes
  }
  return {
    storageKey: () => v4HexFrom(draw(16), 0),
    stateId: (epochMillis) => v7From(epochMillis, draw(10), 0)
  }
}

/** The `IdGenerator` reference; its default is {@link secure}. */
export const IdGenerator: Context.Reference<IdGeneratorShape> = Context.Reference<IdGeneratorShape>(
  "@runstate/core/IdGenerator",
  { defaultValue: () => secure }
)

/** The generator of the running fiber, or the secure one outside any fiber. */
export const current = (): IdGeneratorShape => {
  const fiber = Fiber.getCurrent()
  return fiber === undefined ? secure : fiber.getRef(IdGenerator)
}

/** A UUIDv7 whose 48-bit time part is `epochMillis`, from the running fiber's generator. */
export const v7 = (epochMillis: number): string => current().stateId(epochMillis)

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Tells whether a string is a hyphenated UUID. */
export const isUuid = (s: string): boolean => uuidPattern.test(s)
