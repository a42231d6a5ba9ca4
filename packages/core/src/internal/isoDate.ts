/**
 * ISO-8601 datetimes as Prefect writes and reads them: Python's `isoformat()`
 * of an aware UTC datetime (6-digit fraction only when non-zero, `Z` for UTC)
 * on output; on input 0–9 fraction digits (truncated to milliseconds), `Z`,
 * `±HH:MM`, `±HHMM` or `±HH` offsets, or no offset (read as UTC, as Prefect's
 * datetime type does), with `T`, `t` or a space between date and time.
 *
 * @internal
 */

const pad = (n: number, width: number): string => {
  const s = String(n)
  return s.length >= width ? s : "0".repeat(width - s.length) + s
}

/** `2024-01-02T03:04:05.678000Z`, or `2024-01-02T03:04:05Z` when the milliseconds are zero. */
export const formatEpochMillis = (epochMillis: number): string => {
  const d = new Date(epochMillis)
  const ms = d.getUTCMilliseconds()
  return pad(d.getUTCFullYear(), 4) + "-" + pad(d.getUTCMonth() + 1, 2) + "-" + pad(d.getUTCDate(), 2) + "T" +
    pad(d.getUTCHours(), 2) + ":" + pad(d.getUTCMinutes(), 2) + ":" + pad(d.getUTCSeconds(), 2) +
    (ms === 0 ? "" : "." + pad(ms, 3) + "000") + "Z"
}

const pattern =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/

/** Epoch milliseconds of an ISO-8601 datetime, or `undefined` when it is not one. */
export const parseEpochMillis = (s: string): number | undefined => {
  const m = pattern.exec(s)
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5])
  const second = m[6] === undefined ? 0 : Number(m[6])
  const millis = m[7] === undefined ? 0 : Number((m[7] + "00").slice(0, 3))
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate()
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  if (day > (month === 2 ? (leap ? 29 : 28) : daysInMonth)) return undefined
  let offsetMinutes = 0
  if (m[9] !== undefined) {
    const oh = Number(m[10])
    const om = m[11] === undefined ? 0 : Number(m[11])
    if (oh > 23 || om > 59) return undefined
    offsetMinutes = (m[9] === "-" ? -1 : 1) * (oh * 60 + om)
  }
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, millis)
  const ms = date.getTime() - offsetMinutes * 60_000
  return Number.isFinite(ms) ? ms : undefined
}
