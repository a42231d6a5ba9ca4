/**
 * Text forms of decoded result values for `runstate`: a faithful one-line
 * preview (Python's spellings for what JSON cannot say: `NaN`, `-0.0`, big
 * integers, sets, bytes, exceptions) and a lossless JSON form for `--json`.
 * Both walk the value without recursion, so data nested 100,000 deep prints;
 * the preview stops once it has enough characters. Terminal layout helpers
 * count East Asian wide characters as two columns and never split a
 * surrogate pair.
 */
import * as DateTime from "effect/DateTime"

const isPlainObject = (u: object): boolean => {
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

const floatText = (n: number): string | undefined =>
  Number.isNaN(n)
    ? "NaN"
    : n === Infinity
    ? "Infinity"
    : n === -Infinity
    ? "-Infinity"
    : Object.is(n, -0)
    ? "-0.0"
    : undefined

/** A JSON string literal that also escapes C1 controls, DEL and bidi/line separators (terminal-safe). */
export const quote = (s: string): string =>
  JSON.stringify(s).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  )

/** Python's `repr` of bytes: `b'...'`. */
const bytesRepr = (b: Uint8Array, budget: number): string => {
  let out = "b'"
  for (let i = 0; i < b.length && out.length <= budget; i++) {
    const c = b[i]!
    out += c === 0x5c
      ? "\\\\"
      : c === 0x27
      ? "\\'"
      : c === 0x09
      ? "\\t"
      : c === 0x0a
      ? "\\n"
      : c === 0x0d
      ? "\\r"
      : c >= 0x20 && c < 0x7f
      ? String.fromCharCode(c)
      : `\\x${c.toString(16).padStart(2, "0")}`
  }
  return out + "'"
}

const errorName = (e: Error): string => {
  const tag = (e as { readonly _tag?: unknown })._tag
  return typeof tag === "string" ? tag : e.name
}

const isDateTime = (u: unknown): u is DateTime.DateTime => DateTime.isDateTime(u)

type Frame =
  | { readonly _tag: "text"; readonly text: string }
  | { readonly _tag: "value"; readonly value: unknown; readonly top: boolean }

/**
 * A one-line preview of `value`, at most about `budget` characters (the
 * caller truncates to the display width): compact JSON for JSON values, and
 * `NaN`, `Infinity`, `-0.0`, bare big integers, `{1, 2}` / `set()` for sets,
 * `b'…'` for bytes, `ValueError: message` for an exception (nested:
 * `ValueError('message')`), ISO text for datetimes.
 */
export const preview = (value: unknown, budget = 4096): string => {
  let out = ""
  const stack: Array<Frame> = [{ _tag: "value", value, top: true }]
  const pushSeq = (open: string, items: ReadonlyArray<unknown>, close: string, sep = ",") => {
    stack.push({ _tag: "text", text: close })
    for (let i = items.length - 1; i >= 0; i--) {
      stack.push({ _tag: "value", value: items[i], top: false })
      if (i > 0) stack.push({ _tag: "text", text: sep })
    }
    out += open
  }
  while (stack.length > 0 && out.length <= budget) {
    const frame = stack.pop()!
    if (frame._tag === "text") {
      out += frame.text
      continue
    }
    const v = frame.value
    switch (typeof v) {
      case "string":
        out += quote(v.length > budget ? v.slice(0, budget + 1) : v)
        continue
      case "number":
        out += floatText(v) ?? String(v)
        continue
      case "bigint":
        out += v.toString()
        continue
      case "boolean":
        out += v ? "true" : "false"
        continue
      case "undefined":
        out += "undefined"
        continue
      case "symbol":
      case "function":
        out += `<${typeof v}>`
        continue
    }
    if (v === null) {
      out += "null"
      continue
    }
    const o = v as object
    if (Array.isArray(o)) pushSeq("[", o, "]")
    else if (o instanceof Set) {
      if (o.size === 0) out += "set()"
      else pushSeq("{", Array.from(o), "}", ", ")
    } else if (o instanceof Uint8Array) out += bytesRepr(o, budget)
    else if (o instanceof Error) {
      out += frame.top ? `${errorName(o)}: ${o.message}` : `${errorName(o)}(${quote(o.message)})`
    } else if (isDateTime(o)) out += DateTime.formatIso(o)
    else if (o instanceof Date) out += Number.isNaN(o.getTime()) ? "Invalid Date" : o.toISOString()
    else if (o instanceof Map) {
      stack.push({ _tag: "text", text: "}" })
      const entries = Array.from(o)
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push({ _tag: "value", value: entries[i]![1], top: false })
        stack.push({ _tag: "text", text: ":" })
        stack.push({ _tag: "value", value: entries[i]![0], top: false })
        if (i > 0) stack.push({ _tag: "text", text: "," })
      }
      out += "{"
    } else {
      const keys = Object.keys(o)
      stack.push({ _tag: "text", text: "}" })
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ _tag: "value", value: (o as Record<string, unknown>)[keys[i]!], top: false })
        stack.push({ _tag: "text", text: `${quote(keys[i]!)}:` })
        if (i > 0) stack.push({ _tag: "text", text: "," })
      }
      out += isPlainObject(o) ? "{" : `${o.constructor?.name ?? "Object"}{`
    }
  }
  return out
}

// -----------------------------------------------------------------------------
// lossless JSON
// -----------------------------------------------------------------------------

/** The single keys that mark a tagged value in the lossless JSON form. */
export const tags: ReadonlySet<string> = new Set([
  "$float",
  "$int",
  "$set",
  "$bytes",
  "$error",
  "$datetime",
  "$map",
  "$undefined",
  "$object",
  "$unsupported"
])

/**
 * `value` as JSON text that loses nothing: JSON values as they are; `NaN`,
 * `±Infinity` and `-0` as `{"$float": "NaN"}` (`"Infinity"`, `"-Infinity"`,
 * `"-0.0"`); big integers as `{"$int": "digits"}`; sets as `{"$set": [...]}`;
 * bytes as `{"$bytes": "base64"}`; exceptions as
 * `{"$error": {"type": "ValueError", "message": "..."}}`; datetimes as
 * `{"$datetime": "ISO"}`; maps as `{"$map": [[k, v], ...]}`; `undefined` as
 * `{"$undefined": true}`; and a plain object whose only key is one of these
 * tags as `{"$object": {...}}`, so every tagged form is unambiguous.
 */
export const losslessJson = (value: unknown): string => {
  const parts: Array<string> = []
  const stack: Array<Frame> = [{ _tag: "value", value, top: true }]
  const pushSeq = (open: string, items: ReadonlyArray<unknown>, close: string) => {
    stack.push({ _tag: "text", text: close })
    for (let i = items.length - 1; i >= 0; i--) {
      stack.push({ _tag: "value", value: items[i], top: false })
      if (i > 0) stack.push({ _tag: "text", text: "," })
    }
    parts.push(open)
  }
  const pushObject = (entries: ReadonlyArray<readonly [string, unknown]>, prefix = "{", suffix = "}") => {
    stack.push({ _tag: "text", text: suffix })
    for (let i = entries.length - 1; i >= 0; i--) {
      stack.push({ _tag: "value", value: entries[i]![1], top: false })
      stack.push({ _tag: "text", text: `${JSON.stringify(entries[i]![0])}:` })
      if (i > 0) stack.push({ _tag: "text", text: "," })
    }
    parts.push(prefix)
  }
  while (stack.length > 0) {
    const frame = stack.pop()!
    if (frame._tag === "text") {
      parts.push(frame.text)
      continue
    }
    const v = frame.value
    switch (typeof v) {
      case "string":
        parts.push(JSON.stringify(v))
        continue
      case "number": {
        const f = floatText(v)
        parts.push(f === undefined ? String(v) : `{"$float":"${f}"}`)
        continue
      }
      case "bigint":
        parts.push(`{"$int":"${v.toString()}"}`)
        continue
      case "boolean":
        parts.push(v ? "true" : "false")
        continue
      case "undefined":
        parts.push(`{"$undefined":true}`)
        continue
      case "symbol":
      case "function":
        parts.push(`{"$unsupported":${JSON.stringify(typeof v)}}`)
        continue
    }
    if (v === null) {
      parts.push("null")
      continue
    }
    const o = v as object
    if (Array.isArray(o)) pushSeq("[", o, "]")
    else if (o instanceof Set) pushSeq(`{"$set":[`, Array.from(o), "]}")
    else if (o instanceof Uint8Array) parts.push(`{"$bytes":${JSON.stringify(Buffer.from(o).toString("base64"))}}`)
    else if (o instanceof Error) {
      parts.push(`{"$error":{"type":${JSON.stringify(errorName(o))},"message":${JSON.stringify(String(o.message))}}}`)
    } else if (isDateTime(o)) parts.push(`{"$datetime":${JSON.stringify(DateTime.formatIso(o))}}`)
    else if (o instanceof Date) {
      parts.push(`{"$datetime":${JSON.stringify(Number.isNaN(o.getTime()) ? "Invalid Date" : o.toISOString())}}`)
    } else if (o instanceof Map) {
      stack.push({ _tag: "text", text: "]}" })
      const entries = Array.from(o)
      for (let i = entries.length - 1; i >= 0; i--) {
        stack.push({ _tag: "text", text: "]" })
        stack.push({ _tag: "value", value: entries[i]![1], top: false })
        stack.push({ _tag: "text", text: "," })
        stack.push({ _tag: "value", value: entries[i]![0], top: false })
        stack.push({ _tag: "text", text: i > 0 ? ",[" : "[" })
      }
      parts.push(`{"$map":[`)
    } else {
      const entries = Object.keys(o).map((k) => [k, (o as Record<string, unknown>)[k]] as const)
      if (entries.length === 1 && tags.has(entries[0]![0])) pushObject(entries, `{"$object":{`, "}}")
      else pushObject(entries)
    }
  }
  return parts.join("")
}

// -----------------------------------------------------------------------------
// terminal layout
// -----------------------------------------------------------------------------

/** Display columns of one code point: 0 for combining marks and zero-width characters, 2 for East Asian wide/fullwidth. */
export const codePointWidth = (cp: number): number => {
  if (cp === 0x200b || cp === 0x200c || cp === 0x200d || cp === 0xfeff) return 0
  if (
    (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x1dc0 && cp <= 0x1dff) ||
    (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xfe20 && cp <= 0xfe2f)
  ) return 0
  if (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) || (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xa960 && cp <= 0xa97f) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe10 && cp <= 0xfe19) || (cp >= 0xfe30 && cp <= 0xfe6f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) || (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x2fffd) || (cp >= 0x30000 && cp <= 0x3fffd)
  ) return 2
  return 1
}

/** Display columns of a string. */
export const displayWidth = (s: string): number => {
  let w = 0
  for (const ch of s) w += codePointWidth(ch.codePointAt(0)!)
  return w
}

/** `s` cut to at most `width` columns, ending in `…` when cut; whole code points only. */
export const truncate = (s: string, width: number): string => {
  if (displayWidth(s) <= width) return s
  let out = ""
  let w = 0
  for (const ch of s) {
    const cw = codePointWidth(ch.codePointAt(0)!)
    if (w + cw > width - 1) break
    out += ch
    w += cw
  }
  return out + "…"
}

/** `s` cut to at most `width` columns from the start, beginning with `…` when cut (keeps the end of a path). */
export const truncateStart = (s: string, width: number): string => {
  if (displayWidth(s) <= width) return s
  const chars = Array.from(s)
  let out = ""
  let w = 0
  for (let i = chars.length - 1; i >= 0; i--) {
    const cw = codePointWidth(chars[i]!.codePointAt(0)!)
    if (w + cw > width - 1) break
    out = chars[i]! + out
    w += cw
  }
  return "…" + out
}

/** `s` padded with spaces to `width` columns. */
export const pad = (s: string, width: number): string => {
  const w = displayWidth(s)
  return w >= width ? s : s + " ".repeat(width - w)
}

/** Control characters (and line breaks) of a name or message shown as escapes, so one entry stays one line. */
export const oneLine = (s: string): string =>
  s.replace(
    // oxlint-disable-next-line no-control-regex -- matching control characters is the point
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) =>
      c === "\n"
        ? "\\n"
        : c === "\r"
        ? "\\r"
        : c === "\t"
        ? "\\t"
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  )
