/**
 * ISO-8601 datetimes as records and Python JSON hold them — names kept for
 * their readers; both functions are those of the scalars module, which states
 * the rules (Python's `isoformat()` with `Z` on output, pydantic's `datetime`
 * rules on input).
 *
 * @internal
 */
import { formatDateTime, parseDateTime } from "./scalars.ts"

/** `2024-01-02T03:04:05.678000Z`, or `2024-01-02T03:04:05Z` when the milliseconds are zero. */
export const formatEpochMillis: (epochMillis: number) => string = formatDateTime

/** Epoch milliseconds of a datetime text, or `undefined` when pydantic would reject it. */
export const parseEpochMillis = (s: string): number | undefined => {
  const ms = parseDateTime(s)
  return Number.isNaN(ms) ? undefined : ms
}
