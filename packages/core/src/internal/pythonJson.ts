/**
 * JSON as Python writes and reads it.
 *
 * - `dumps`: Python's `json.dumps(value, default=prefect_json_object_encoder)`
 *   byte for byte (separators `", "` / `": "`, ASCII escaping, Python's float
 *   repr, `NaN`/`Infinity` bare), or the compact UTF-8 form pydantic's
 *   `model_dump_json` writes. Iterative: deep nesting cannot overflow the stack;
 *   cycles fail.
 * - `parse`: Python's `json.loads` grammar (accepts `NaN`, `Infinity`,
 *   `-Infinity`, rejects control characters in strings), iterative, with an
 *   object hook applied bottom-up to every object; integers beyond the safe
 *   range become `bigint`; a `__proto__` key becomes an own property.
 * - `prefectObjectHook`: Prefect's JSON object decoder.
 *
 * Every failure throws a `PyJsonError`; callers turn it into a typed error.
 *
 * @internal
 */
import * as DateTime from "effect/DateTime"
import { formatEpochMillis, parseEpochMillis } from "./isoDate.ts"
import * as Scalars from "./scalars.ts"
import { reprString } from "./pyrepr.ts"

/** A JSON encoding or decoding failure, with a Python-like message. */
export class PyJsonError extends Error {
  override readonly name = "PyJsonError"
}

const fail = (message: string): never => {
  throw new PyJsonError(message)
}

// ---------------------------------------------------------------------------------------
// Numbers and strings
// ---------------------------------------------------------------------------------------

/**
 * Python's `repr(float)`: the shortest round-trip digits (as JS), in fixed
 * notation when the decimal exponent is in [-4, 16), else `1e+16` / `1.5e-05`;
 * integral values in fixed notation end in `.0`.
 */
export const floatRepr = (n: number): string => {
  if (Number.isNaN(n)) return "NaN"
  if (n === Infinity) return "Infinity"
  if (n === -Infinity) return "-Infinity"
  if (n === 0) return Object.is(n, -0) ? "-0.0" : "0.0"
  const sign = n < 0 ? "-" : ""
  const s = String(Math.abs(n))
  const e = s.indexOf("e")
  const mantissa = e === -1 ? s : s.slice(0, e)
  const exp10 = e === -1 ? 0 : Number(s.slice(e + 1))
  const dot = mantissa.indexOf(".")
  const intPart = dot === -1 ? mantissa : mantissa.slice(0, dot)
  const fracPart = dot === -1 ? "" : mantissa.slice(dot + 1)
  let digits = intPart + fracPart
  let point = intPart.length + exp10
  let lead = 0
  while (lead < digits.length - 1 && digits[lead] === "0") lead++
  digits = digits.slice(lead)
  point -= lead
  let end = digits.length
  while (end > 1 && digits[end - 1] === "0") end--
  digits = digits.slice(0, end)
  const exponent = point - 1
  if (exponent < -4 || exponent >= 16) {
    const mant = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits
    const abs = Math.abs(exponent)
    return sign + mant + "e" + (exponent < 0 ? "-" : "+") + (abs < 10 ? "0" + abs : String(abs))
  }
  if (point <= 0) return sign + "0." + "0".repeat(-point) + digits
  if (digits.length <= point) return sign + digits + "0".repeat(point - digits.length) + ".0"
  return sign + digits.slice(0, point) + "." + digits.slice(point)
}

/**
 * A JS number as Python writes it: safe integers as `int` digits, everything
 * else (fractions, `-0`, integral values beyond 2^53, which JS only holds
 * approximately) as a Python `float`.
 */
export const numberRepr = (n: number): string => Number.isSafeInteger(n) && !Object.is(n, -0) ? String(n) : floatRepr(n)

const hex4 = (c: number): string => {
  const h = c.toString(16)
  return "\\u" + "0000".slice(h.length) + h
}

const plainAscii = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/
const nonAscii = /[\x7f-\uffff]/
const nonAsciiAll = /[\x7f-\uffff]/g
const hexOf = (c: string): string => hex4(c.charCodeAt(0))

/** Python's `json.dumps` string form with `ensure_ascii=True`. */
export const asciiString = (s: string): string => {
  if (plainAscii.test(s)) return "\"" + s + "\""
  // `JSON.stringify` escapes exactly `"`, `\`, control characters (`\n`, ..., else `\u00XX`) and lone
  // surrogates (`\udXXX`), all in lowercase hex as below; what remains beyond ASCII is escaped per code unit.
  const json = JSON.stringify(s)
  return nonAscii.test(json) ? json.replace(nonAsciiAll, hexOf) : json
}

const plainUnicode = /^[\x20\x21\x23-\x5b\x5d-\ud7ff\ue000-\uffff]*$/

/**
 * The compact string form pydantic (serde_json) writes: non-ASCII kept as is,
 * only `"`, `\` and control characters escaped. A lone surrogate (which Python
 * could not encode as UTF-8) is escaped as `\uXXXX` so no data is lost.
 */
export const unicodeString = (s: string): string => {
  if (plainUnicode.test(s)) return "\"" + s + "\""
  // `JSON.stringify` escapes exactly these characters, in the same forms (see `asciiString`).
  return JSON.stringify(s)
}

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/** Python's builtin exception classes that take a single message argument. */
const builtinExceptions: ReadonlySet<string> = new Set([
  "ArithmeticError",
  "AssertionError",
  "AttributeError",
  "BaseException",
  "BlockingIOError",
  "BrokenPipeError",
  "BufferError",
  "BytesWarning",
  "ChildProcessError",
  "ConnectionAbortedError",
  "ConnectionError",
  "ConnectionRefusedError",
  "ConnectionResetError",
  "DeprecationWarning",
  "EncodingWarning",
  "EOFError",
  "EnvironmentError",
  "Exception",
  "FileExistsError",
  "FileNotFoundError",
  "FloatingPointError",
  "FutureWarning",
  "GeneratorExit",
  "IOError",
  "ImportError",
  "ImportWarning",
  "IndentationError",
  "IndexError",
  "InterruptedError",
  "IsADirectoryError",
  "KeyError",
  "KeyboardInterrupt",
  "LookupError",
  "MemoryError",
  "ModuleNotFoundError",
  "NameError",
  "NotADirectoryError",
  "NotImplementedError",
  "OSError",
  "OverflowError",
  "PendingDeprecationWarning",
  "PermissionError",
  "ProcessLookupError",
  "RecursionError",
  "ReferenceError",
  "ResourceWarning",
  "RuntimeError",
  "RuntimeWarning",
  "StopAsyncIteration",
  "StopIteration",
  "SyntaxError",
  "SyntaxWarning",
  "SystemError",
  "SystemExit",
  "TabError",
  "TimeoutError",
  "TypeError",
  "UnboundLocalError",
  "UnicodeError",
  "UnicodeWarning",
  "UserWarning",
  "ValueError",
  "Warning",
  "ZeroDivisionError"
])

/** The name of an error: its `_tag` for tagged errors, else its `name`. */
export const errorName = (e: Error): string => {
  const tag = (e as { readonly _tag?: unknown })._tag
  if (typeof tag === "string" && tag !== "") return tag
  return typeof e.name === "string" && e.name !== "" ? e.name : "Error"
}

/**
 * Prefect's exception form. A JS `Error` is Python's `Exception`; a name that
 * is one of Python's builtin exceptions keeps it (`builtins.ValueError`); any
 * other name (`RangeError`, a tagged error's `_tag`, a custom class) is written
 * as `builtins.Exception` with the JS name in an extra `name` key, which
 * Prefect's decoder ignores and ours restores.
 */
export const encodeError = (e: Error): ReadonlyArray<readonly [string, unknown]> => {
  const name = errorName(e)
  const message = typeof e.message === "string" ? e.message : String(e.message)
  if (name === "Error") return [["__exc_type__", "builtins.Exception"], ["message", message]]
  if (builtinExceptions.has(name)) return [["__exc_type__", "builtins." + name], ["message", message]]
  return [["__exc_type__", "builtins.Exception"], ["message", message], ["name", name]]
}

/** A JS type name for messages: `function`, `symbol`, `object`, `Array`, or the class name (`Map`, `Int32Array`). */
export const typeName = (u: unknown): string => {
  if (u === null) return "null"
  if (typeof u !== "object") return typeof u
  if (Array.isArray(u)) return "Array"
  const proto = Object.getPrototypeOf(u)
  if (proto === null || proto === Object.prototype) return "object"
  const ctor = (proto as { readonly constructor?: { readonly name?: unknown } }).constructor
  return typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : "object"
}

const notSerializable = (u: unknown): never => fail(`Object of type ${typeName(u)} is not JSON serializable`)

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** Options of `dumps`. */
export interface DumpOptions {
  /** Python's default `", "` / `": "` separators and ASCII escaping; else compact UTF-8 (pydantic). */
  readonly python: boolean
  /** Apply Prefect's object encoder to values JSON cannot hold (Set, Date, Error, bytes, ...). */
  readonly prefect: boolean
}

type Converted =
  | { readonly _tag: "Raw"; readonly text: string }
  | { readonly _tag: "Array"; readonly items: ArrayLike<unknown> }
  | { readonly _tag: "Object"; readonly entries: ReadonlyArray<readonly [string, unknown]> }

const keyText = (k: unknown): string => {
  switch (typeof k) {
    case "string":
      return k
    case "number":
      return numberRepr(k)
    case "bigint":
      return k.toString()
    case "boolean":
      return k ? "true" : "false"
    default:
      if (k === null || k === undefined) return "null"
      return fail(`keys must be str, int, float, bool or None, not ${typeName(k)}`)
  }
}

const ownEntries = (o: object): Array<readonly [string, unknown]> => {
  const entries: Array<readonly [string, unknown]> = []
  for (const k of Object.keys(o)) {
    const v = (o as Record<string, unknown>)[k]
    if (v !== undefined) entries.push([k, v])
  }
  return entries
}

const convertObject = (o: object, options: DumpOptions, toJsonAllowed: boolean): Converted => {
  if (Array.isArray(o)) return { _tag: "Array", items: o }
  if (DateTime.isDateTime(o)) {
    if (!options.prefect) return notSerializable(o)
    return {
      _tag: "Object",
      entries: [["__class__", "datetime.datetime"], ["data", formatEpochMillis(DateTime.toEpochMillis(o))]]
    }
  }
  if (o instanceof Date) {
    if (!options.prefect) return notSerializable(o)
    const ms = o.getTime()
    if (Number.isNaN(ms)) return fail("Invalid Date is not JSON serializable")
    return { _tag: "Object", entries: [["__class__", "datetime.datetime"], ["data", formatEpochMillis(ms)]] }
  }
  if (o instanceof Error) {
    if (!options.prefect) return notSerializable(o)
    return { _tag: "Object", entries: encodeError(o) }
  }
  if (o instanceof Map) {
    const entries: Array<readonly [string, unknown]> = []
    for (const [k, v] of o) entries.push([keyText(k), v])
    return { _tag: "Object", entries }
  }
  if (o instanceof Set) {
    if (!options.prefect) return notSerializable(o)
    return { _tag: "Object", entries: [["__class__", "builtins.set"], ["data", Array.from(o)]] }
  }
  if (o instanceof Uint8Array) {
    if (!options.prefect) return notSerializable(o)
    let text: string
    try {
      text = utf8.decode(o)
    } catch {
      return fail("Error serializing to JSON: bytes are not valid UTF-8")
    }
    return { _tag: "Object", entries: [["__class__", "builtins.bytes"], ["data", text]] }
  }
  if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer || o instanceof WeakMap || o instanceof WeakSet) {
    return notSerializable(o)
  }
  if (typeof (o as { readonly then?: unknown }).then === "function") return notSerializable(o)
  const toJSON = (o as { readonly toJSON?: unknown }).toJSON
  if (toJsonAllowed && typeof toJSON === "function") {
    const replaced: unknown = toJSON.call(o)
    return convert(replaced, options, false)
  }
  return { _tag: "Object", entries: ownEntries(o) }
}

const convert = (u: unknown, options: DumpOptions, toJsonAllowed: boolean): Converted => {
  switch (typeof u) {
    case "string":
      return { _tag: "Raw", text: options.python ? asciiString(u) : unicodeString(u) }
    case "number":
      return { _tag: "Raw", text: numberRepr(u) }
    case "boolean":
      return { _tag: "Raw", text: u ? "true" : "false" }
    case "bigint":
      return { _tag: "Raw", text: u.toString() }
    case "undefined":
      return { _tag: "Raw", text: "null" }
    case "object":
      return u === null ? { _tag: "Raw", text: "null" } : convertObject(u, options, toJsonAllowed)
    default:
      return notSerializable(u)
  }
}

interface Frame {
  readonly origin: object
  readonly converted: Converted
  index: number
}

/**
 * JSON text of `value`. Throws `PyJsonError` for values JSON cannot hold
 * (functions, symbols, Map keys that are not primitives, non-UTF-8 bytes, ...)
 * and for circular references.
 */
export const dumps = (value: unknown, options: DumpOptions): string => {
  const itemSep = options.python ? ", " : ","
  const keySep = options.python ? ": " : ":"
  const str = options.python ? asciiString : unicodeString
  const out: Array<string> = []
  const stack: Array<Frame> = []
  const active = new Set<object>()
  const open = (v: unknown): void => {
    if (typeof v === "object" && v !== null) {
      if (active.has(v)) fail("Circular reference detected")
      const converted = convert(v, options, true)
      if (converted._tag === "Raw") {
        out.push(converted.text)
        return
      }
      if (converted._tag === "Array") {
        if (converted.items.length === 0) {
          out.push("[]")
          return
        }
        out.push("[")
      } else {
        if (converted.entries.length === 0) {
          out.push("{}")
          return
        }
        out.push("{")
      }
      active.add(v)
      stack.push({ origin: v, converted, index: 0 })
      return
    }
    const converted = convert(v, options, true)
    out.push((converted as { readonly text: string }).text)
  }
  open(value)
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!
    const c = frame.converted
    if (c._tag === "Array") {
      if (frame.index < c.items.length) {
        if (frame.index > 0) out.push(itemSep)
        open(c.items[frame.index++])
        continue
      }
      out.push("]")
    } else if (c._tag === "Object") {
      if (frame.index < c.entries.length) {
        if (frame.index > 0) out.push(itemSep)
        const [k, v] = c.entries[frame.index++]!
        out.push(str(k), keySep)
        open(v)
        continue
      }
      out.push("}")
    }
    active.delete(frame.origin)
    stack.pop()
  }
  return out.join("")
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

/** Sets a key as an own data property (a `__proto__` key never reaches the prototype). */
export const setOwn = (o: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === "__proto__") {
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
  } else {
    o[key] = value
  }
}

const position = (text: string, at: number): string => {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < at && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++
      lineStart = i + 1
    }
  }
  return `line ${line} column ${at - lineStart + 1} (char ${at})`
}

const number = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y

type ParseFrame =
  | { readonly _tag: "Array"; readonly value: Array<unknown> }
  | { readonly _tag: "Object"; readonly value: Record<string, unknown>; key: string }

/**
 * Parses Python-flavoured JSON text. `hook` is applied to every object once it
 * is complete (innermost first) and its result replaces the object.
 */
export const parse = (text: string, hook?: (o: Record<string, unknown>) => unknown): unknown => {
  const len = text.length
  let i = 0
  const ws = (): void => {
    while (i < len) {
      const c = text.charCodeAt(i)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
      else break
    }
  }
  const error = (message: string, at: number = i): never => fail(`${message}: ${position(text, at)}`)

  const parseString = (): string => {
    const start = i
    i++
    let out = ""
    let chunk = i
    for (;;) {
      if (i >= len) return error("Unterminated string starting at", start)
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        out += text.slice(chunk, i)
        i++
        return out
      }
      if (c < 0x20) return error("Invalid control character at")
      if (c !== 0x5c) {
        i++
        continue
      }
      out += text.slice(chunk, i)
      const e = text[i + 1]
      switch (e) {
        case "\"":
        case "\\":
        case "/":
          out += e
          i += 2
          break
        case "b":
          out += "\b"
          i += 2
          break
        case "f":
          out += "\f"
          i += 2
          break
        case "n":
          out += "\n"
          i += 2
          break
        case "r":
          out += "\r"
          i += 2
          break
        case "t":
          out += "\t"
          i += 2
          break
        case "u": {
          const h = text.slice(i + 2, i + 6)
          if (!/^[0-9a-fA-F]{4}$/.test(h)) return error("Invalid \\uXXXX escape", i + 1)
          out += String.fromCharCode(parseInt(h, 16))
          i += 6
          break
        }
        default:
          if (e === undefined) return error("Unterminated string starting at", start)
          return error("Invalid \\escape", i)
      }
      chunk = i
    }
  }

  const parseKey = (): string => {
    if (text.charCodeAt(i) !== 0x22) return error("Expecting property name enclosed in double quotes")
    const key = parseString()
    ws()
    if (text.charCodeAt(i) !== 0x3a) return error("Expecting ':' delimiter")
    i++
    ws()
    return key
  }

  const stack: Array<ParseFrame> = []
  let value: unknown
  ws()
  outer: for (;;) {
    // A value starts at `i`.
    const c = text.charCodeAt(i)
    if (c === 0x7b) {
      i++
      ws()
      const obj: Record<string, unknown> = {}
      if (text.charCodeAt(i) === 0x7d) {
        i++
        value = hook === undefined ? obj : hook(obj)
      } else {
        const key = parseKey()
        stack.push({ _tag: "Object", value: obj, key })
        continue
      }
    } else if (c === 0x5b) {
      i++
      ws()
      if (text.charCodeAt(i) === 0x5d) {
        i++
        value = []
      } else {
        stack.push({ _tag: "Array", value: [] })
        continue
      }
    } else if (c === 0x22) {
      value = parseString()
    } else if (text.startsWith("null", i)) {
      value = null
      i += 4
    } else if (text.startsWith("true", i)) {
      value = true
      i += 4
    } else if (text.startsWith("false", i)) {
      value = false
      i += 5
    } else if (text.startsWith("NaN", i)) {
      value = NaN
      i += 3
    } else if (text.startsWith("Infinity", i)) {
      value = Infinity
      i += 8
    } else if (text.startsWith("-Infinity", i)) {
      value = -Infinity
      i += 9
    } else {
      number.lastIndex = i
      const m = number.exec(text)
      if (m === null) return error("Expecting value")
      const literal = m[0]
      i += literal.length
      if (m[1] !== undefined || m[2] !== undefined) {
        value = Number(literal)
      } else {
        const n = Number(literal)
        value = Number.isSafeInteger(n) ? (n === 0 ? 0 : n) : BigInt(literal)
      }
    }
    // A value is complete: hand it to the enclosing containers.
    for (;;) {
      const top = stack[stack.length - 1]
      if (top === undefined) break outer
      ws()
      const d = text.charCodeAt(i)
      if (top._tag === "Array") {
        top.value.push(value)
        if (d === 0x2c) {
          i++
          ws()
          continue outer
        }
        if (d !== 0x5d) return error("Expecting ',' delimiter")
        i++
        value = top.value
      } else {
        setOwn(top.value, top.key, value)
        if (d === 0x2c) {
          i++
          ws()
          top.key = parseKey()
          continue outer
        }
        if (d !== 0x7d) return error("Expecting ',' delimiter")
        i++
        value = hook === undefined ? top.value : hook(top.value)
      }
      stack.pop()
    }
  }
  ws()
  if (i !== len) return error("Extra data")
  return value
}

// ---------------------------------------------------------------------------------------
// Prefect's object decoder
// ---------------------------------------------------------------------------------------

const hasOwn = Object.prototype.hasOwnProperty

/** A UUID in Python's `str(UUID)` form (lowercase, hyphenated), or `undefined` (pydantic's rules). */
export const normalizeUuid: (s: string) => string | undefined = Scalars.normalizeUuid

const utf8Encoder = new TextEncoder()

const scalarClasses: ReadonlySet<string> = new Set([
  "builtins.str",
  "builtins.int",
  "builtins.float",
  "builtins.bool",
  "builtins.list",
  "builtins.dict",
  "datetime.date",
  "datetime.time",
  "datetime.timedelta",
  "decimal.Decimal",
  "pathlib.Path",
  "pathlib.PosixPath",
  "pathlib.WindowsPath"
])

const invalidData = (cls: string, data: unknown): never =>
  fail(`Invalid data for class ${describe(cls)}: ${jsonPreview(data)}`)

const decodeClass = (o: Record<string, unknown>, cls: string): unknown => {
  const data = o["data"]
  switch (cls) {
    case "datetime.datetime": {
      const ms = typeof data === "string" ? parseEpochMillis(data) : undefined
      return ms === undefined ? invalidData(cls, data) : DateTime.makeUnsafe(ms)
    }
    case "uuid.UUID": {
      const uuid = typeof data === "string" ? normalizeUuid(data) : undefined
      return uuid === undefined ? invalidData(cls, data) : uuid
    }
    case "builtins.set":
    case "builtins.frozenset":
      return Array.isArray(data) ? new Set(data) : invalidData(cls, data)
    case "builtins.bytes":
      return typeof data === "string" ? utf8Encoder.encode(data) : invalidData(cls, data)
    case "builtins.tuple":
      return Array.isArray(data) ? data : invalidData(cls, data)
    default:
      return scalarClasses.has(cls) && hasOwn.call(o, "data") ? data : o
  }
}

const decodeException = (o: Record<string, unknown>): Error => {
  const type = o["__exc_type__"]
  if (typeof type !== "string" || type.lastIndexOf(".") <= 0 || type.endsWith(".")) {
    return fail(
      `Invalid exception type: ${typeof type === "string" ? describe(type) : jsonPreview(type)}`
    )
  }
  if (!hasOwn.call(o, "message")) return fail(`Invalid exception payload for ${describe(type)}: no 'message' key`)
  const raw = o["message"]
  const message = typeof raw === "string"
    ? raw
    : typeof raw === "object" && raw !== null
    ? dumps(raw, { python: true, prefect: true })
    : String(raw)
  const extra = o["name"]
  const name = type === "builtins.Exception" && typeof extra === "string" && extra !== ""
    ? extra
    : type.slice(type.lastIndexOf(".") + 1)
  const error = new Error(message)
  Object.defineProperty(error, "name", { value: name, enumerable: false, writable: true, configurable: true })
  Object.defineProperty(error, "stack", {
    value: `${name}: ${message}`,
    enumerable: false,
    writable: true,
    configurable: true
  })
  return error
}

/**
 * Prefect's `prefect_json_object_decoder`: `__class__` objects of the classes
 * a JS runtime can represent are decoded (`datetime.datetime` → `DateTime.Utc`,
 * `uuid.UUID` → string, `builtins.set` → `Set`, `builtins.bytes` →
 * `Uint8Array`, scalar classes such as `datetime.date` or `decimal.Decimal` →
 * their JSON `data`); other classes are left unchanged. `__exc_type__`
 * objects become an `Error` named after the class.
 */
export const prefectObjectHook = (o: Record<string, unknown>): unknown => {
  if (hasOwn.call(o, "__class__")) {
    const cls = o["__class__"]
    return typeof cls === "string" ? decodeClass(o, cls) : o
  }
  if (hasOwn.call(o, "__exc_type__")) return decodeException(o)
  return o
}

/** A value as error messages show it: a string in Python's repr, else its Python JSON text, else its type name. */
export const describe = (u: unknown): string => {
  if (typeof u === "string") {
    return u.length <= messageLimit ? reprString(u) : reprString(u.slice(0, messageLimit)) + ellipsis(u.length)
  }
  return jsonPreview(u)
}

/** Python's `json.dumps` text of `u` when it is small, else a capped preview of it; never throws. */
export const jsonPreview = (u: unknown): string => {
  if (isSmall(u)) {
    try {
      return dumps(u, { python: true, prefect: false })
    } catch {
      return typeName(u)
    }
  }
  return capText(preview(u, 0))
}

/** The most characters of a value (or of a quoted text) an error message shows. */
export const messageLimit = 200

const ellipsis = (length: number): string => `\u2026 (${length} characters)`

/** `text`, cut to {@link messageLimit} characters with a note of its length when longer. */
export const capText = (text: string): string =>
  text.length <= messageLimit ? text : text.slice(0, messageLimit) + ellipsis(text.length)

/**
 * A multi-line message (a schema error's) with each line cut by {@link capText}
 * and at most 20 lines, so a value it quotes cannot make it huge while the
 * lines naming paths survive.
 */
export const capLines = (text: string): string => {
  if (text.length <= messageLimit) return text
  const lines = text.split("\n")
  const kept = lines.slice(0, 20).map(capText)
  if (lines.length > 20) kept.push(`\u2026 (${lines.length} lines)`)
  return kept.join("\n")
}

const smallBudget = 64

/** Whether `u` has at most `smallBudget` nodes and short strings: `describe` then writes it in full. */
const isSmall = (u: unknown): boolean => {
  let budget = smallBudget
  const stack: Array<unknown> = [u]
  while (stack.length > 0) {
    const v = stack.pop()
    if (--budget < 0) return false
    if (typeof v === "string") {
      if (v.length > messageLimit) return false
    } else if (typeof v === "object" && v !== null) {
      if (Array.isArray(v)) {
        if (v.length > smallBudget) return false
        for (let i = 0; i < v.length; i++) stack.push(v[i])
      } else {
        const proto = Object.getPrototypeOf(v)
        if (proto !== Object.prototype && proto !== null) return false
        const keys = Object.keys(v)
        if (keys.length > smallBudget) return false
        for (const k of keys) stack.push((v as Record<string, unknown>)[k])
      }
    }
  }
  return true
}

const previewItems = 8

/** A short JSON-like preview of a large value: the first items of each array or object, then their count. */
const preview = (u: unknown, depth: number): string => {
  if (typeof u === "string") {
    return u.length <= 40 ? asciiString(u) : asciiString(u.slice(0, 40)) + ellipsis(u.length)
  }
  if (typeof u !== "object" || u === null) {
    try {
      return dumps(u, { python: true, prefect: false })
    } catch {
      return typeName(u)
    }
  }
  if (depth >= 3) return Array.isArray(u) ? "[...]" : "{...}"
  if (Array.isArray(u)) {
    const items: Array<string> = []
    for (let i = 0; i < u.length && i < previewItems; i++) items.push(preview(u[i], depth + 1))
    if (u.length > previewItems) items.push(`\u2026 (${u.length} items)`)
    return "[" + items.join(", ") + "]"
  }
  const proto = Object.getPrototypeOf(u)
  if (proto !== Object.prototype && proto !== null) return typeName(u)
  const keys = Object.keys(u)
  const items: Array<string> = []
  for (let i = 0; i < keys.length && i < previewItems; i++) {
    const k = keys[i]!
    items.push(
      asciiString(k.length <= 40 ? k : k.slice(0, 40)) + ": " + preview((u as Record<string, unknown>)[k], depth + 1)
    )
  }
  if (keys.length > previewItems) items.push(`\u2026 (${keys.length} keys)`)
  return "{" + items.join(", ") + "}"
}

/** `text` cut to at most `max` characters (ending in "…" when cut), never inside a surrogate pair. */
export const cutText = (text: string, max: number): string => {
  if (text.length <= max) return text
  let end = max - 1
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return text.slice(0, end) + "…"
}

/**
 * {@link describe}, capped at `max` characters, for error messages that must
 * stay small whatever the input (a long string is cut before it is rendered);
 * never throws, even on a revoked proxy or a throwing getter.
 */
export const describeCapped = (u: unknown, max = 80): string => {
  try {
    return cutText(describe(typeof u === "string" && u.length > max ? u.slice(0, max) : u), max)
  } catch {
    return "a value that cannot be shown"
  }
}
