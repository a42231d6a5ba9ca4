/**
 * UUID helpers: version 7 (time-ordered, Prefect's state ids) and version 4
 * as 32 lowercase hex characters (Prefect's default storage keys).
 *
 * @internal
 */

const hex: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

const pool = new Uint8Array(4096)
let poolOffset = pool.length

const randomBytes = (n: number): number => {
  if (poolOffset + n > pool.length) {
    globalThis.crypto.getRandomValues(pool)
    poolOffset = 0
  }
  const offset = poolOffset
  poolOffset += n
  return offset
}

/** A UUIDv7 whose 48-bit time part is `epochMillis`. */
export const v7 = (epochMillis: number): string => {
  const o = randomBytes(10)
  const ms = Math.max(0, Math.floor(epochMillis))
  const high = Math.floor(ms / 0x1000000)
  const low = ms % 0x1000000
  return (
    hex[(high >>> 16) & 0xff]! + hex[(high >>> 8) & 0xff]! + hex[high & 0xff]! +
    hex[(low >>> 16) & 0xff]! + "-" + hex[(low >>> 8) & 0xff]! + hex[low & 0xff]! + "-" +
    hex[0x70 | (pool[o]! & 0x0f)]! + hex[pool[o + 1]!]! + "-" +
    hex[0x80 | (pool[o + 2]! & 0x3f)]! + hex[pool[o + 3]!]! + "-" +
    hex[pool[o + 4]!]! + hex[pool[o + 5]!]! + hex[pool[o + 6]!]! + hex[pool[o + 7]!]! + hex[pool[o + 8]!]! +
    hex[pool[o + 9]!]!
  )
}

/** Formats 16 bytes (e.g. from Effect's `Random`) as a UUIDv4 in 32 lowercase hex chars. */
export const v4HexFromBytes = (bytes: ArrayLike<number>): string => {
  let out = ""
  for (let i = 0; i < 16; i++) {
    let b = bytes[i]! & 0xff
    if (i === 6) b = 0x40 | (b & 0x0f)
    if (i === 8) b = 0x80 | (b & 0x3f)
    out += hex[b]
  }
  return out
}
