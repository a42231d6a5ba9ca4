/**
 * The scalars of Prefect's JSON — datetimes and UUIDs — read by the rules of
 * the pydantic models Prefect validates them with (pydantic 2's `datetime` and
 * `uuid.UUID` types), so that runstate accepts exactly what a Prefect server or
 * client accepts. Every reader of a datetime or a UUID in the core (the wire
 * codecs, result-record metadata, the `prefect_json_object_decoder` classes)
 * calls these functions; there is no second parser.
 *
 * Datetimes (pydantic's `datetime`):
 * - a number is a Unix timestamp: seconds, or milliseconds when its integer
 *   part exceeds 20,000,000,000 in magnitude (Prefect's client sends
 *   `set_state` datetimes as float seconds, e.g. `1704164645.0`);
 * - a string of digits with an optional sign and fraction (`"1704164645.5"`)
 *   is the same timestamp;
 * - otherwise ISO 8601: `YYYY-MM-DD` (years 1–9999), optionally followed by
 *   `T`, `t`, `_` or a space and `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f…` (any
 *   number of fraction digits, `.` or `,`), then `Z`, `z`, `±HH:MM`, `±HHMM`
 *   or nothing. A date alone is midnight. A datetime without an offset (naive)
 *   is read as UTC — Prefect stores and compares UTC instants. A one-part
 *   offset (`+01`), hour 24 and leap second 60 are rejected, as pydantic does.
 * - Fractions finer than a millisecond are truncated: `DateTime.Utc` holds
 *   milliseconds (pydantic keeps microseconds; digits past the sixth are
 *   dropped there too).
 *
 * UUIDs (pydantic's `uuid.UUID`): 32 hex digits, or the hyphenated 8-4-4-4-12
 * form alone, in braces (`{…}`) or after `urn:uuid:`; hex digits in any case.
 * The result is Python's `str(UUID)`: lowercase and hyphenated.
 *
 * @internal
 */

// -----------------------------------------------------------------------------
// UUIDs
// -----------------------------------------------------------------------------

// the value of a hex digit, or -1, for every code unit below 128
const hexValue = new Int8Array(128).fill(-1)
for (let c = 48; c <= 57; c++) hexValue[c] = c - 48
for (let c = 97; c <= 102; c++) hexValue[c] = c - 87
for (let c = 65; c <= 70; c++) hexValue[c] = c - 55

const isHex = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i)
  return c < 128 && hexValue[c]! >= 0
}

/** Whether `s` holds a hyphenated UUID at `start` (36 code units, hex digits in any case). */
const isHyphenatedAt = (s: string, start: number): boolean => {
  for (let i = 0; i < 36; i++) {
    const at = start + i
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (s.charCodeAt(at) !== 45) return false
    } else if (!isHex(s, at)) return false
  }
  return true
}

// 1 for the lowercase hex digits `0-9a-f`, 0 for every other code unit below 128
const lowerHex = new Uint8Array(128)
for (let c = 48; c <= 57; c++) lowerHex[c] = 1
for (let c = 97; c <= 102; c++) lowerHex[c] = 1

/** The common case, checked without calls: a lowercase hyphenated UUID (36 code units). */
const isLowerHyphenated = (s: string): boolean => {
  if (s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) {
    return false
  }
  // a code unit of 128 or more reads `undefined`, which is not 1
  for (let i = 0; i < 8; i++) if (lowerHex[s.charCodeAt(i)] !== 1) return false
  for (let i = 9; i < 13; i++) if (lowerHex[s.charCodeAt(i)] !== 1) return false
  for (let i = 14; i < 18; i++) if (lowerHex[s.charCodeAt(i)] !== 1) return false
  for (let i = 19; i < 23; i++) if (lowerHex[s.charCodeAt(i)] !== 1) return false
  for (let i = 24; i < 36; i++) if (lowerHex[s.charCodeAt(i)] !== 1) return false
  return true
}

const hyphenate = (hex: string): string =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`

/**
 * A UUID in Python's `str(UUID)` form (lowercase, hyphenated), or `undefined`
 * when pydantic would reject the text.
 */
export const normalizeUuid = (s: string): string | undefined => {
  switch (s.length) {
    case 36:
      if (isLowerHyphenated(s)) return s
      return isHyphenatedAt(s, 0) ? s.toLowerCase() : undefined
    case 32: {
      for (let i = 0; i < 32; i++) if (!isHex(s, i)) return undefined
      return hyphenate(s.toLowerCase())
    }
    case 38:
      return s.charCodeAt(0) === 123 && s.charCodeAt(37) === 125 && isHyphenatedAt(s, 1)
        ? s.slice(1, 37).toLowerCase()
        : undefined
    case 45:
      return s.startsWith("urn:uuid:") && isHyphenatedAt(s, 9) ? s.slice(9).toLowerCase() : undefined
    default:
      return undefined
  }
}

// -----------------------------------------------------------------------------
// datetimes
// -----------------------------------------------------------------------------

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

// a digit, or a large negative number so that any sum containing a non-digit is negative
const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : -100_000
}
const two = (s: string, i: number): number => digit(s, i) * 10 + digit(s, i + 1)

/** The first and last instants pydantic can hold: 0001-01-01T00:00:00 and 9999-12-31T23:59:59.999999, UTC. */
const minMillis = -62_135_596_800_000
const maxMillis = 253_402_300_799_999

/** Milliseconds past the epoch of a Unix timestamp in pydantic's units, or `NaN`. */
export const dateTimeFromNumber = (x: number): number => {
  if (!Number.isFinite(x)) return NaN
  // pydantic: an integer part above 2e10 in magnitude counts milliseconds, else seconds; the fraction is
  // of a millisecond once the whole number is above 2e10 (so 20000000000.5 is 2e10 s and half a millisecond)
  const whole = Math.trunc(x)
  const wholeMillis = Math.abs(whole) > 20_000_000_000 ? whole : whole * 1000
  const fractionMicros = Math.round((x - whole) * (Math.abs(x) > 20_000_000_000 ? 1000 : 1_000_000))
  const ms = wholeMillis + Math.floor(fractionMicros / 1000)
  return ms < minMillis || ms > maxMillis ? NaN : ms
}

const numeric = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/

/**
 * Milliseconds past the epoch of a datetime text (ISO 8601 or a numeric
 * timestamp, see the module's rules), or `NaN`.
 */
export const parseDateTime = (s: string): number => {
  const n = s.length
  // an ISO date needs "-" at index 4; anything else can only be a numeric timestamp
  if (n < 10 || s.charCodeAt(4) !== 45) return n <= 64 && numeric.test(s) ? dateTimeFromNumber(Number(s)) : NaN
  const year = two(s, 0) * 100 + two(s, 2)
  const month = two(s, 5)
  const day = two(s, 8)
  if (s.charCodeAt(7) !== 45 || year < 1 || month < 1 || month > 12 || day < 1) return NaN
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day > monthDays[month - 1]! + (leap ? 1 : 0)) return NaN
  let hour = 0
  let minute = 0
  let second = 0
  let millis = 0
  let offset = 0
  let i = 10
  if (i < n) {
    const sep = s.charCodeAt(10)
    if (sep !== 84 && sep !== 116 && sep !== 32 && sep !== 95) return NaN
    if (n < 16 || s.charCodeAt(13) !== 58) return NaN
    hour = two(s, 11)
    minute = two(s, 14)
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return NaN
    i = 16
    if (s.charCodeAt(i) === 58) {
      second = two(s, 17)
      if (second < 0 || second > 59) return NaN
      i = 19
      const dot = s.charCodeAt(i)
      if (dot === 46 || dot === 44) {
        i++
        const start = i
        for (; i < n; i++) {
          const d = digit(s, i)
          if (d < 0) break
          // digits past the third are below a millisecond: truncated
          if (i - start < 3) millis = millis * 10 + d
        }
        const digits = i - start
        if (digits === 0) return NaN
        for (let k = digits; k < 3; k++) millis *= 10
      }
    }
    if (i < n) {
      const zone = s.charCodeAt(i)
      if (zone === 90 || zone === 122) {
        if (i + 1 !== n) return NaN
      } else if (zone === 43 || zone === 45) {
        const colon = s.charCodeAt(i + 3) === 58
        if (i + (colon ? 6 : 5) !== n) return NaN
        const offsetHours = two(s, i + 1)
        const offsetMinutes = two(s, colon ? i + 4 : i + 3)
        if (offsetHours < 0 || offsetHours > 23 || offsetMinutes < 0 || offsetMinutes > 59) return NaN
        offset = (offsetHours * 60 + offsetMinutes) * 60_000
        if (zone === 45) offset = -offset
      } else {
        return NaN
      }
    }
  }
  let ms = Date.UTC(year, month - 1, day, hour, minute, second, millis)
  if (year < 100) {
    // Date.UTC maps years 0–99 to 1900–1999
    const d = new Date(ms)
    d.setUTCFullYear(year)
    ms = d.getTime()
  }
  return ms - offset
}

/** A datetime as a JSON value holds it (a number or a string), in epoch milliseconds, or `NaN`. */
export const parseDateTimeValue = (u: unknown): number =>
  typeof u === "string" ? parseDateTime(u) : typeof u === "number" ? dateTimeFromNumber(u) : NaN

const pad = (n: number, width: number): string => {
  const s = String(n)
  return s.length >= width ? s : "0".repeat(width - s.length) + s
}

/**
 * Python's `isoformat()` of an aware UTC datetime, with `Z`:
 * `2024-01-02T03:04:05.678000Z`, or `2024-01-02T03:04:05Z` when the
 * milliseconds are zero.
 */
export const formatDateTime = (epochMillis: number): string => {
  const d = new Date(epochMillis)
  const ms = d.getUTCMilliseconds()
  return pad(d.getUTCFullYear(), 4) + "-" + pad(d.getUTCMonth() + 1, 2) + "-" + pad(d.getUTCDate(), 2) + "T" +
    pad(d.getUTCHours(), 2) + ":" + pad(d.getUTCMinutes(), 2) + ":" + pad(d.getUTCSeconds(), 2) +
    (ms === 0 ? "" : "." + pad(ms, 3) + "000") + "Z"
}
