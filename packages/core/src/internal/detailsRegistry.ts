/**
 * Which `StateDetails` values are complete and frozen, so that `make` can
 * return them as they are instead of copying them. A `WeakSet` of values
 * (machinery keyed by identity, as effect's own caches are): it carries no
 * data from one call to the next and lets go of values nobody holds.
 *
 * @internal
 */

const built = new WeakSet<object>()

/** Whether `u` was registered: complete (all eighteen fields) and frozen. */
export const isBuilt = (u: object): boolean => built.has(u)

/** Freezes complete details and registers them. The caller guarantees completeness. */
export const register = <A extends object>(details: A): A => {
  Object.freeze(details)
  built.add(details)
  return details
}
