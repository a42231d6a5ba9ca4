/**
 * A small least-recently-used cache over a `Map` (whose iteration order is
 * insertion order: a hit re-inserts the entry, so the first key is always the
 * least recently used). Not an Effect program: callers wrap it in `Effect.sync`.
 *
 * @internal
 */

/** A mutable LRU cache with a fixed capacity (`Infinity` = unbounded). */
export interface Lru<K, V> {
  readonly capacity: number
  readonly size: () => number
  /** The value at `key`, marking it most recently used. */
  readonly get: (key: K) => V | undefined
  /** Stores `value` at `key` as most recently used, evicting the least recently used entry when full. */
  readonly set: (key: K, value: V) => void
  readonly delete: (key: K) => boolean
  readonly clear: () => void
  /** The keys from least to most recently used. */
  readonly keys: () => Array<K>
}

/** A new, empty LRU cache holding at most `capacity` entries (`capacity` ≥ 1). */
export const make = <K, V>(capacity: number): Lru<K, V> => {
  const map = new Map<K, V>()
  return {
    capacity,
    size: () => map.size,
    get: (key) => {
      const value = map.get(key)
      if (value === undefined) return undefined
      map.delete(key)
      map.set(key, value)
      return value
    },
    set: (key, value) => {
      if (map.has(key)) map.delete(key)
      else if (map.size >= capacity) {
        const oldest = map.keys().next()
        if (oldest.done !== true) map.delete(oldest.value)
      }
      map.set(key, value)
    },
    delete: (key) => map.delete(key),
    clear: () => map.clear(),
    keys: () => Array.from(map.keys())
  }
}
