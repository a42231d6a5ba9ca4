/**
 * The `effect/Schema` codecs of the scalars in Prefect's JSON (datetimes,
 * UUIDs, run-input keysets) and the field shapes `StateDetails` is declared
 * with. Parsing follows the scalars module (pydantic's rules); an error
 * message shows at most a short, capped rendering of the offending value.
 *
 * @internal
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"
import { describeCapped } from "./pythonJson.ts"
import { formatDateTime, normalizeUuid, parseDateTimeValue } from "./scalars.ts"

/** An issue with a message of its own. */
export const invalid = (message: string): SchemaIssue.Issue => new SchemaIssue.InvalidValue({ message })

/**
 * A DateTime on Prefect's wire: decoded from ISO 8601 text, a numeric
 * timestamp text or a number (Unix seconds), by pydantic's rules; encoded as
 * Python's `isoformat` with `Z`.
 */
export const DateTimeJson = Schema.Union([Schema.String, Schema.Number]).pipe(
  Schema.decodeTo(Schema.DateTimeUtc, {
    decode: SchemaGetter.transformEffect((v: string | number) => {
      const ms = parseDateTimeValue(v)
      return Number.isNaN(ms)
        ? Effect.fail(invalid(`Expected an ISO 8601 datetime or a Unix timestamp, got ${describeCapped(v)}`))
        : Effect.succeed(DateTime.makeUnsafe(ms))
    }),
    encode: SchemaGetter.transform((dt: DateTime.Utc): string | number => formatDateTime(dt.epochMilliseconds))
  })
)

const uuidGetter = SchemaGetter.transformEffect((s: string) => {
  const uuid = normalizeUuid(s)
  return uuid === undefined ? Effect.fail(invalid(`Expected a UUID, got ${describeCapped(s)}`)) : Effect.succeed(uuid)
})

/** A UUID on Prefect's wire: pydantic's forms on input, lowercase hyphenated after decoding and on output. */
export const UuidJson = Schema.String.pipe(Schema.decodeTo(Schema.String, { decode: uuidGetter, encode: uuidGetter }))

/** A run-input keyset: an object of strings. */
export const KeysetJson = Schema.Record(Schema.String, Schema.String)

const orNull = <S extends Schema.Top>(schema: S) =>
  Schema.NullOr(schema).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null)))

/**
 * The shapes of `StateDetails` fields. Each value is one schema object, so a
 * reader can tell a field's shape by identity (the fast decoder does).
 */
export const Field = {
  /** A UUID or `null` (the default). */
  uuid: orNull(UuidJson),
  /** A datetime or `null` (the default). */
  dateTime: orNull(DateTimeJson),
  /** A string or `null` (the default). */
  string: orNull(Schema.String),
  /** A boolean or `null` (the default). */
  boolean: orNull(Schema.Boolean),
  /** A boolean, `false` by default. */
  flag: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false))),
  /** A map of strings or `null` (the default). */
  keyset: orNull(KeysetJson)
} as const

// -----------------------------------------------------------------------------
// JSON values
// -----------------------------------------------------------------------------

/** An object whose prototype is `Object.prototype` or `null` (what `JSON.parse` builds). */
export const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

const hasOwn = Object.prototype.hasOwnProperty

class Leave {
  readonly value: object
  constructor(value: object) {
    this.value = value
  }
}

/**
 * Whether a value is JSON: `null`, a boolean, a finite number, a string, an
 * array of JSON without holes, or a plain object of JSON, without cycles.
 * Iterative, so deep nesting does not overflow the stack.
 */
export const isJson = (root: unknown): root is Schema.Json => {
  // small values (state data, metadata) take a recursive walk without allocations; a value
  // nested deeper than 32 levels (or a cycle) is walked again iteratively
  const shallow = isJsonShallow(root, 32)
  return shallow === tooDeep ? isJsonDeep(root) : shallow
}

const tooDeep = 2

/** `true`/`false`, or `tooDeep` when the value nests deeper than `depth`. */
const isJsonShallow = (v: unknown, depth: number): boolean | typeof tooDeep => {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(v)
    case "object":
      break
    default:
      return false
  }
  if (v === null) return true
  if (depth === 0) return tooDeep
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) return false
      const r = isJsonShallow(v[i], depth - 1)
      if (r !== true) return r
    }
    return true
  }
  if (!isPlainObject(v)) return false
  for (const key in v) {
    if (hasOwn.call(v, key)) {
      const r = isJsonShallow(v[key], depth - 1)
      if (r !== true) return r
    }
  }
  return true
}

const isJsonDeep = (root: unknown): boolean => {
  switch (typeof root) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(root)
    case "object":
      break
    default:
      return false
  }
  if (root === null) return true
  const stack: Array<unknown> = [root]
  const path = new Set<object>()
  while (stack.length > 0) {
    const v = stack.pop()
    if (v instanceof Leave) {
      path.delete(v.value)
      continue
    }
    switch (typeof v) {
      case "string":
      case "boolean":
        continue
      case "number":
        if (!Number.isFinite(v)) return false
        continue
      case "object":
        break
      default:
        return false
    }
    if (v === null) continue
    if (path.has(v)) return false
    if (Array.isArray(v)) {
      path.add(v)
      stack.push(new Leave(v))
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) return false
        stack.push(v[i])
      }
    } else if (isPlainObject(v)) {
      path.add(v)
      stack.push(new Leave(v))
      for (const key in v) {
        if (hasOwn.call(v, key)) stack.push(v[key])
      }
    } else {
      return false
    }
  }
  return true
}

/**
 * How a state's `data` reads (Prefect's discriminator): an object with a
 * `storage_key` is result-record metadata, `{"type": "unpersisted"}` is no
 * data, other JSON is kept; a value that is not JSON is invalid.
 */
export const classifyData = (u: unknown): "metadata" | "unpersisted" | "json" | "invalid" => {
  if (u === null) return "json"
  if (!isJson(u)) return "invalid"
  if (isPlainObject(u)) {
    if (hasOwn.call(u, "storage_key")) return "metadata"
    if (u.type === "unpersisted") return "unpersisted"
  }
  return "json"
}
