/**
 * A small least-recently-used cache: a `Map` from key to entry plus a doubly
 * linked list of the entries from least to most recently used, so every
 * operation is O(1) — evicting never scans (iterating a `Map` that has seen
 * many deletions walks over their holes), and a full cache reuses the evicted
 * entry for the new one. Not an Effect program: callers wrap it in
 * `Effect.sync`.
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

interface Entry<K, V> {
  key: K
  value: V
  prev: Entry<K, V> | undefined
  next: Entry<K, V> | undefined
}

/** A new, empty LRU cache holding at most `capacity` entries (`capacity` ≥ 1). */
export const make = <K, V>(capacity: number): Lru<K, V> => {
  const map = new Map<K, Entry<K, V>>()
  /** Least recently used. */
  let head: Entry<K, V> | undefined
  /** Most recently used. */
  let tail: Entry<K, V> | undefined

  const unlink = (entry: Entry<K, V>): void => {
    if (entry.prev === undefined) head = entry.next
    else entry.prev.next = entry.next
    if (entry.next === undefined) tail = entry.prev
    else entry.next.prev = entry.prev
    entry.prev = undefined
    entry.next = undefined
  }

  const append = (entry: Entry<K, V>): void => {
    entry.prev = tail
    entry.next = undefined
    if (tail === undefined) head = entry
    else tail.next = entry
    tail = entry
  }

  return {
    capacity,
    size: () => map.size,
    get: (key) => {
      const entry = map.get(key)
      if (entry === undefined || entry.value === undefined) return undefined
      if (entry !== tail) {
        unlink(entry)
        append(entry)
      }
      return entry.value
    },
    set: (key, value) => {
      const existing = map.get(key)
      if (existing !== undefined) {
        existing.value = value
        if (existing !== tail) {
          unlink(existing)
          append(existing)
        }
        return
      }
      let entry: Entry<K, V>
      if (map.size >= capacity && head !== undefined) {
        // Reuse the least recently used entry for the new one.
        entry = head
        unlink(entry)
        map.delete(entry.key)
        entry.key = key
        entry.value = value
      } else {
        entry = { key, value, prev: undefined, next: undefined }
      }
      append(entry)
      map.set(key, entry)
    },
    delete: (key) => {
      const entry = map.get(key)
      if (entry === undefined) return false
      unlink(entry)
      return map.delete(key)
    },
    clear: () => {
      map.clear()
      head = undefined
      tail = undefined
    },
    keys: () => {
      const keys: Array<K> = []
      for (let entry = head; entry !== undefined; entry = entry.next) keys.push(entry.key)
      return keys
    }
  }
}
