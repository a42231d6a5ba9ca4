/**
 * Python's `repr` for the values that appear in Prefect's texts: strings in
 * single quotes (double quotes when the text holds a single quote and no
 * double quote), `None`, `True`/`False`, lists and dicts. Never throws.
 *
 * @internal
 */

/** Python's `repr` of a string. */
export const reprString = (s: string): string => {
  const quote = s.includes("'") && !s.includes("\"") ? "\"" : "'"
  let out = quote
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const ch = s[i]!
    if (ch === quote || ch === "\\") out += "\\" + ch
    else if (c === 10) out += "\\n"
    else if (c === 13) out += "\\r"
    else if (c === 9) out += "\\t"
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += "\\x" + c.toString(16).padStart(2, "0")
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += ch + s[i + 1]
        i++
      } else out += "\\u" + c.toString(16)
    } else if (c >= 0xd800 && c <= 0xdfff) out += "\\u" + c.toString(16)
    else out += ch
  }
  return out + quote
}

const reprNumber = (n: number): string => {
  if (Number.isNaN(n)) return "nan"
  if (n === Infinity) return "inf"
  if (n === -Infinity) return "-inf"
  return String(n)
}

/** Python's `repr` of a JS value, with a custom rendering hook for library types. */
export const repr = (u: unknown, custom?: (u: unknown) => string | undefined): string => {
  const seen = new Set<unknown>()
  const go = (v: unknown, depth: number): string => {
    try {
      if (v === null || v === undefined) return "None"
      if (typeof v === "string") return reprString(v)
      if (typeof v === "number") return reprNumber(v)
      if (typeof v === "boolean") return v ? "True" : "False"
      if (typeof v === "bigint") return v.toString()
      if (typeof v === "symbol") return v.toString()
      if (typeof v === "function") return `<function ${v.name || "<anonymous>"}>`
      const c = custom?.(v)
      if (c !== undefined) return c
      if (seen.has(v) || depth > 64) return Array.isArray(v) ? "[...]" : "{...}"
      seen.add(v)
      try {
        if (Array.isArray(v)) return "[" + v.map((x) => go(x, depth + 1)).join(", ") + "]"
        if (v instanceof Set) {
          return v.size === 0 ? "set()" : "{" + Array.from(v, (x) => go(x, depth + 1)).join(", ") + "}"
        }
        if (v instanceof Map) {
          return "{" + Array.from(v, ([k, x]) => `${go(k, depth + 1)}: ${go(x, depth + 1)}`).join(", ") + "}"
        }
        if (v instanceof Error) {
          const name = typeof (v as { _tag?: unknown })._tag === "string"
            ? (v as unknown as { _tag: string })._tag
            : v.name
          return `${name}(${reprString(String(v.message))})`
        }
        const proto = Object.getPrototypeOf(v)
        if (proto === Object.prototype || proto === null) {
          return "{" + Object.keys(v).map((k) =>
            `${reprString(k)}: ${go((v as Record<string, unknown>)[k], depth + 1)}`
          )
            .join(", ") +
            "}"
        }
        return String(v)
      } finally {
        seen.delete(v)
      }
    } catch {
      return "<unrepresentable>"
    }
  }
  return go(u, 0)
}
