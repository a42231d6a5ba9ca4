/**
 * Test-only reference implementations (oracles) of the fast string encoders in
 * `src/internal/pythonJson.ts`: one code unit at a time, obviously correct, and
 * slow. The tests check the fast encoders against them.
 */

const hex4 = (c: number): string => {
  const h = c.toString(16)
  return "\\u" + "0000".slice(h.length) + h
}

/** Python's `json.dumps` string form with `ensure_ascii=True`, one code unit at a time. */
export const asciiStringSlow = (s: string): string => {
  let out = "\""
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22) out += "\\\""
    else if (c === 0x5c) out += "\\\\"
    else if (c >= 0x20 && c <= 0x7e) out += s[i]
    else if (c === 0x0a) out += "\\n"
    else if (c === 0x0d) out += "\\r"
    else if (c === 0x09) out += "\\t"
    else if (c === 0x08) out += "\\b"
    else if (c === 0x0c) out += "\\f"
    else out += hex4(c)
  }
  return out + "\""
}

/** pydantic's compact string form (see `unicodeString`), one code unit at a time. */
export const unicodeStringSlow = (s: string): string => {
  let out = "\""
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22) out += "\\\""
    else if (c === 0x5c) out += "\\\\"
    else if (c === 0x0a) out += "\\n"
    else if (c === 0x0d) out += "\\r"
    else if (c === 0x09) out += "\\t"
    else if (c === 0x08) out += "\\b"
    else if (c === 0x0c) out += "\\f"
    else if (c < 0x20) out += hex4(c)
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!
        i++
      } else out += hex4(c)
    } else if (c >= 0xdc00 && c <= 0xdfff) out += hex4(c)
    else out += s[i]
  }
  return out + "\""
}
