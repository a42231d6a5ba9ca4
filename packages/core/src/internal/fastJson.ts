/**
 * Fast paths for `pythonJson.ts`, for the common case of plain JSON values.
 *
 * - `dumpsPython`: Python's `json.dumps` text of a tree of plain objects, arrays,
 *   strings, numbers, booleans, bigints and nulls, built by one recursive walk
 *   (no intermediate frames). Anything else — class instances, `toJSON`,
 *   thenables, Maps, Sets, dates, errors, bytes, functions, symbols, nesting
 *   deeper than `maxDepth` (which also catches cycles) — answers `undefined`,
 *   and the caller runs the exact encoder, which writes or fails as before.
 * - `parse`: `JSON.parse` when the result is provably what `pythonJson.parse`
 *   would build: no `NaN` / `Infinity` tokens, no `-0`, no integers beyond the
 *   safe range (which the exact parser turns into `bigint`s), and — when the
 *   object hook runs — no object with a `__class__` or `__exc_type__` key
 *   (every other object is returned unchanged by Prefect's hook). Otherwise, or
 *   when `JSON.parse` rejects the text, it answers `NotFast` and the caller runs
 *   the exact parser (which produces Python's error messages).
 *
 * `test/Serializer.test.ts` checks both against the exact implementations.
 *
 * @internal
 */
import * as DateTime from "effect/DateTime"
import { asciiString, floatRepr, numberRepr } from "./pythonJson.ts"

const maxDepth = 64

/** A number as Python's `json.dumps` writes it (`numberRepr`), with `String(n)` where it is the same text. */
const pythonNumber = (n: number): string =>
  // Non-integral finite numbers at or above 1e-4 (hence below 2^52): JS and Python both write the
  // shortest round-trip digits in fixed notation.
  Number.isInteger(n) || !Number.isFinite(n) ? numberRepr(n) : Math.abs(n) >= 1e-4 ? String(n) : floatRepr(n)

const encode = (u: unknown, depth: number): string | undefined => {
  switch (typeof u) {
    case "string":
      return asciiString(u)
    case "number":
      return pythonNumber(u)
    case "boolean":
      return u ? "true" : "false"
    case "bigint":
      return u.toString()
    case "object": {
      if (u === null) return "null"
      if (depth >= maxDepth) return undefined
      if (Array.isArray(u)) {
        const n = u.length
        if (n === 0) return "[]"
        let out = "["
        for (let i = 0; i < n; i++) {
          const v: unknown = u[i]
          const text = v === undefined ? "null" : encode(v, depth + 1)
          if (text === undefined) return undefined
          out += i === 0 ? text : ", " + text
        }
        return out + "]"
      }
      const proto = Object.getPrototypeOf(u)
      if (proto !== Object.prototype && proto !== null) return undefined
      const o = u as Record<string, unknown>
      if (typeof o["toJSON"] === "function" || typeof o["then"] === "function" || DateTime.isDateTime(o)) {
        return undefined
      }
      let out = "{"
      for (const k of Object.keys(o)) {
        const v = o[k]
        if (v === undefined) continue
        const text = encode(v, depth + 1)
        if (text === undefined) return undefined
        out += (out.length === 1 ? "" : ", ") + asciiString(k) + ": " + text
      }
      return out.length === 1 ? "{}" : out + "}"
    }
    default:
      return undefined
  }
}

/**
 * `pythonJson.dumps(value, { python: true, prefect })` for plain JSON values
 * (the same text for either `prefect`), or `undefined` when the exact encoder
 * must decide.
 */
export const dumpsPython = (value: unknown): string | undefined => value === undefined ? "null" : encode(value, 0)

/** The answer of `parse` when the exact parser must run. */
export const NotFast: unique symbol = Symbol("NotFast")

const hasOwn = Object.prototype.hasOwnProperty

/** Whether `JSON.parse`'s value is what the exact parser builds (see the module comment). */
const plain = (root: unknown, hooked: boolean): boolean => {
  const stack: Array<unknown> = [root]
  while (stack.length > 0) {
    const u = stack.pop()
    if (typeof u === "number") {
      if (Number.isInteger(u) ? !Number.isSafeInteger(u) || Object.is(u, -0) : !Number.isFinite(u)) return false
    } else if (typeof u === "object" && u !== null) {
      if (Array.isArray(u)) {
        for (let i = 0; i < u.length; i++) {
          const v: unknown = u[i]
          if (typeof v === "object" || typeof v === "number") stack.push(v)
        }
      } else {
        if (hooked && (hasOwn.call(u, "__class__") || hasOwn.call(u, "__exc_type__"))) return false
        for (const k in u) {
          const v: unknown = (u as Record<string, unknown>)[k]
          if (typeof v === "object" || typeof v === "number") stack.push(v)
        }
      }
    }
  }
  return true
}

/**
 * `pythonJson.parse(text, hook)` where `hook` is Prefect's object decoder
 * (`hooked`) or absent, when `JSON.parse` gives the same value; else `NotFast`.
 */
export const parse = (text: string, hooked: boolean): unknown => {
  // `NaN` / `Infinity` tokens are not JSON: `JSON.parse` rejects them (the same words in strings are plain text).
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return NotFast
  }
  return (typeof value === "object" && value !== null) || typeof value === "number"
    ? plain(value, hooked) ? value : NotFast
    : value
}
