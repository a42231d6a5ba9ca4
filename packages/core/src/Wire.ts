/**
 * Prefect's REST JSON for states, as `effect/Schema` codecs: `StateDetailsJson`
 * (the eighteen snake_case detail fields), `StateCreate` (the payload of
 * `POST /flow_runs/{id}/set_state` and `/task_runs/{id}/set_state`),
 * `StateResponse` (a state as the API returns it) and `OrchestrationResult`
 * (the `{state, status, details}` envelope of a `set_state` answer). Keys are
 * snake_case, types upper-case, UUIDs lowercase and hyphenated, datetimes ISO
 * 8601 (Python's `isoformat` with `Z`). Decoding applies Prefect's validators:
 * the default name, the default scheduled time (read from `Clock`), `data` with
 * a `storage_key` becomes `ResultRecordMetadata`, `{"type": "unpersisted"}`
 * becomes no data. A document that does not fit fails with a typed
 * {@link WireError} whose message names the path of the offending value.
 *
 * `decodeStateResponse`, the hot path of a client, validates well-formed
 * documents with a hand-written decoder that builds exactly what the
 * `StateResponse` schema builds, and hands every other input to the schema,
 * which produces the error; the schema stays the reference codec.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"
import * as ResultRecord from "./ResultRecord.ts"
import * as State from "./State.ts"
import * as StateDetails from "./StateDetails.ts"
import * as StateType from "./StateType.ts"

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

const formatIssue = SchemaIssue.makeFormatterDefault()

/**
 * A document that does not fit one of the wire codecs (or a value that cannot
 * be encoded). `codec` names the codec (`"StateResponse"`, ...), `issue` is the
 * `effect/Schema` issue tree, `message` is Schema's rendering of it, which
 * names the path (`at ["state_details"]["flow_run_id"]`), and `path` is the
 * path of the first issue. A dedicated tag (rather than `Schema.SchemaError`)
 * lets callers tell a bad server answer from their own schema failures with
 * `Effect.catchTag("WireError", ...)`. Input values are never copied into the
 * message, so a megabyte string does not become a megabyte error.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Wire } from "@runstate/core"
 *
 * const program = Wire.decodeStateResponse({ type: "DONE" }).pipe(
 *   Effect.catchTag("WireError", (e) => Effect.succeed(e.path)) // ["type"]
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class WireError extends Data.TaggedError("WireError")<{
  readonly codec: string
  readonly operation: "decode" | "encode"
  readonly issue: SchemaIssue.Issue
}> {
  /**
   * Schema's rendering of the issue, prefixed with the codec name.
   *
   * @since 0.1.0
   */
  override get message(): string {
    return `Cannot ${this.operation} ${this.codec}: ${formatIssue(this.issue)}`
  }

  /**
   * The path of the first issue, e.g. `["state_details", "flow_run_id"]`
   * (empty when the document itself is wrong).
   *
   * @since 0.1.0
   */
  get path(): ReadonlyArray<PropertyKey> {
    return issuePath(this.issue)
  }
}

/**
 * The error of every decoder of this module (an alias of {@link WireError}).
 *
 * @category errors
 * @since 0.1.0
 */
export type ParseError = WireError

const issuePath = (issue: SchemaIssue.Issue): ReadonlyArray<PropertyKey> => {
  const path: Array<PropertyKey> = []
  let current: SchemaIssue.Issue | undefined = issue
  while (current !== undefined) {
    switch (current._tag) {
      case "Pointer":
        path.push(...current.path)
        current = current.issue
        break
      case "Filter":
      case "Encoding":
        current = current.issue
        break
      case "Composite":
        current = current.issues[0]
        break
      case "AnyOf":
        current = current.issues[0]
        break
      default:
        current = undefined
    }
  }
  return path
}

const preview = (s: string): string => JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s)

const invalid = (message: string) => new SchemaIssue.InvalidValue({ message })

// -----------------------------------------------------------------------------
// scalars: UUIDs, datetimes, JSON data
// -----------------------------------------------------------------------------

const anyUuid = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i

// 1 for the lowercase hex digits `0-9a-f`, 0 for every other code unit below 128
const lowerHex = new Uint8Array(128)
for (let c = 48; c <= 57; c++) lowerHex[c] = 1
for (let c = 97; c <= 102; c++) lowerHex[c] = 1

const isLowerHyphenatedUuid = (s: string): boolean => {
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

/**
 * Normalises a UUID to Prefect's wire form (lowercase, hyphenated). Accepts the
 * hyphenated and the 32-hex-digit forms in any case, as pydantic does; returns
 * `undefined` for anything else.
 *
 * @example
 * ```ts
 * import { Wire } from "@runstate/core"
 *
 * Wire.normalizeUuid("0190C6A47B2E7D3C9A1F2B3C4D5E6F70") // "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"
 * Wire.normalizeUuid("nope") // undefined
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const normalizeUuid = (s: string): string | undefined => {
  if (s.length === 36 && isLowerHyphenatedUuid(s)) return s
  if ((s.length !== 36 && s.length !== 32) || !anyUuid.test(s)) return undefined
  const hex = s.replace(/-/g, "").toLowerCase()
  if (hex.length !== 32) return undefined
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

// a digit, or a large negative number so that any sum containing a non-digit is negative
const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : -100_000
}
const two = (s: string, i: number): number => digit(s, i) * 10 + digit(s, i + 1)

/**
 * Parses Prefect's datetimes — ISO 8601 with a `T` (or space) separator,
 * 0 to 6 fraction digits and `Z` or a `±HH:MM` offset — into epoch
 * milliseconds, or `NaN` when the text is not one. A time without an offset is
 * rejected (Prefect's datetimes are timezone-aware). Microseconds are
 * truncated: `DateTime.Utc` holds milliseconds.
 *
 * @example
 * ```ts
 * import { Wire } from "@runstate/core"
 *
 * Wire.parseDateTimeMillis("2024-01-01T12:00:03.517204Z") // 1704110403517
 * Wire.parseDateTimeMillis("2024-01-01T12:00:03") // NaN
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const parseDateTimeMillis = (s: string): number => {
  const n = s.length
  if (n < 20 || n > 32) return NaN
  const year = two(s, 0) * 100 + two(s, 2)
  const month = two(s, 5)
  const day = two(s, 8)
  const hour = two(s, 11)
  const minute = two(s, 14)
  const second = two(s, 17)
  const sep = s.charCodeAt(10)
  if (
    s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || (sep !== 84 && sep !== 116 && sep !== 32) ||
    s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58
  ) return NaN
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return NaN
  if (second < 0 || second > 59) return NaN
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day > monthDays[month - 1]! + (leap ? 1 : 0)) return NaN
  let i = 19
  let micros = 0
  if (s.charCodeAt(i) === 46) {
    i++
    let digits = 0
    for (; i < n; i++) {
      const d = digit(s, i)
      if (d < 0) break
      if (++digits > 6) return NaN
      micros = micros * 10 + d
    }
    if (digits === 0) return NaN
    for (; digits < 6; digits++) micros *= 10
  }
  let offset = 0
  const zone = s.charCodeAt(i)
  if (zone === 90 || zone === 122) {
    if (i + 1 !== n) return NaN
  } else if (zone === 43 || zone === 45) {
    if (i + 6 !== n || s.charCodeAt(i + 3) !== 58) return NaN
    const offsetHours = two(s, i + 1)
    const offsetMinutes = two(s, i + 4)
    if (offsetHours < 0 || offsetHours > 23 || offsetMinutes < 0 || offsetMinutes > 59) return NaN
    offset = (offsetHours * 60 + offsetMinutes) * 60_000
    if (zone === 45) offset = -offset
  } else {
    return NaN
  }
  let ms = Date.UTC(year, month - 1, day, hour, minute, second, Math.floor(micros / 1000))
  if (year < 100) {
    const d = new Date(ms)
    d.setUTCFullYear(year)
    ms = d.getTime()
  }
  return ms - offset
}

const isPlainObject = (u: unknown): u is Record<string, unknown> => {
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
 * Tells whether a value is JSON: `null`, a boolean, a finite number, a string,
 * an array of JSON without holes, or a plain object of JSON, without cycles.
 * Iterative, so 10,000 levels of nesting do not overflow the stack.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isJson = (root: unknown): root is Schema.Json => {
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
 * A DateTime on Prefect's wire: decoded from ISO 8601 with 0–6 fraction digits
 * and `Z`/`±HH:MM` (see {@link parseDateTimeMillis}), encoded as Python's
 * `isoformat` with `Z` (`2024-01-02T03:04:05.678000Z`, no fraction when zero).
 *
 * @category schemas
 * @since 0.1.0
 */
export const DateTimeJson: Schema.Codec<DateTime.Utc, string> = Schema.String.pipe(
  Schema.decodeTo(Schema.DateTimeUtc, {
    decode: SchemaGetter.transformEffect((s: string) => {
      const ms = parseDateTimeMillis(s)
      return Number.isNaN(ms)
        ? Effect.fail(invalid(`Expected an ISO 8601 datetime with a UTC offset, got ${preview(s)}`))
        : Effect.succeed(DateTime.makeUnsafe(ms))
    }),
    encode: SchemaGetter.transform(ResultRecord.formatDateTime)
  })
)

const uuidGetter = SchemaGetter.transformEffect((s: string) => {
  const uuid = normalizeUuid(s)
  return uuid === undefined
    ? Effect.fail(invalid(`Expected a UUID, got ${preview(s)}`))
    : Effect.succeed(uuid)
})

/**
 * A UUID on Prefect's wire: hyphenated or 32 hex digits in any case on input,
 * lowercase hyphenated after decoding and on output.
 *
 * @category schemas
 * @since 0.1.0
 */
export const UuidJson: Schema.Codec<string, string> = Schema.String.pipe(
  Schema.decodeTo(Schema.String, { decode: uuidGetter, encode: uuidGetter })
)

/**
 * What `data` holds after decoding: result-record metadata, or any JSON value
 * (`null` when there is none).
 *
 * @category models
 * @since 0.1.0
 */
export type StateData = ResultRecord.ResultRecordMetadata | Schema.Json

const classifyData = (u: unknown): "metadata" | "unpersisted" | "json" | "invalid" => {
  if (u === null) return "json"
  if (isPlainObject(u)) {
    if (hasOwn.call(u, "storage_key")) return "metadata"
    if (u.type === "unpersisted") return "unpersisted"
  }
  return isJson(u) ? "json" : "invalid"
}

const decodeData = (u: unknown): Effect.Effect<StateData, SchemaIssue.Issue> => {
  switch (classifyData(u)) {
    case "metadata":
      return Effect.mapError(
        ResultRecord.metadataFromJson(u),
        (e) => invalid(`Invalid result record metadata: ${e.message}`)
      )
    case "unpersisted":
      return Effect.succeed(null)
    case "json":
      return Effect.succeed(u as Schema.Json)
    case "invalid":
      return Effect.fail(invalid("Expected JSON data"))
  }
}

const encodeData = (u: unknown): Effect.Effect<Schema.Json, SchemaIssue.Issue> => {
  if (ResultRecord.isResultRecordMetadata(u)) return Effect.succeed(ResultRecord.metadataToJson(u) as Schema.Json)
  if (isJson(u)) return Effect.succeed(u)
  return Effect.fail(
    invalid(
      ResultRecord.isResultRecord(u)
        ? "Expected JSON data or result record metadata, got a ResultRecord (send its metadata, see State.toStateCreate)"
        : "Expected JSON data or result record metadata"
    )
  )
}

const StateDataType = Schema.declare<StateData>((_u): _u is StateData => true, { identifier: "StateData" })

/**
 * A state's `data` on the wire: an object with a `storage_key` decodes to
 * `ResultRecordMetadata` (Prefect's discriminator, §1.3.1 — so a user object
 * that happens to have `storage_key` is read as metadata), `{"type":
 * "unpersisted"}` decodes to `null`, any other JSON value is kept as is (the
 * same object: nothing is copied, so `__proto__` keys stay plain keys).
 * Encoding writes metadata in Prefect's key order and JSON as is; anything
 * else (a `ResultRecord`, an `Error`) fails.
 *
 * @category schemas
 * @since 0.1.0
 */
export const DataJson: Schema.Codec<StateData, Schema.Json> = Schema.Unknown.pipe(
  Schema.decodeTo(StateDataType, {
    decode: SchemaGetter.transformEffect(decodeData),
    encode: SchemaGetter.transformEffect(encodeData)
  })
) as unknown as Schema.Codec<StateData, Schema.Json>

// -----------------------------------------------------------------------------
// StateDetails
// -----------------------------------------------------------------------------

/**
 * `StateDetails` as JSON: Prefect's eighteen snake_case keys. Decoded
 * documents may omit any key; {@link StateDetailsJson} always writes all of
 * them, in this order, with `null` for absent values.
 *
 * @category models
 * @since 0.1.0
 */
export interface StateDetailsEncoded {
  readonly flow_run_id?: string | null
  readonly task_run_id?: string | null
  readonly child_flow_run_id?: string | null
  readonly scheduled_time?: string | null
  readonly cache_key?: string | null
  readonly cache_expiration?: string | null
  readonly deferred?: boolean | null
  readonly untrackable_result?: boolean
  readonly pause_timeout?: string | null
  readonly pause_reschedule?: boolean
  readonly pause_key?: string | null
  readonly run_input_keyset?: { readonly [key: string]: string } | null
  readonly refresh_cache?: boolean | null
  readonly retriable?: boolean | null
  readonly transition_id?: string | null
  readonly task_parameters_id?: string | null
  readonly traceparent?: string | null
  readonly deployment_concurrency_lease_id?: string | null
}

const nullable = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

const StateDetailsFields = Schema.Struct({
  flow_run_id: nullable(UuidJson),
  task_run_id: nullable(UuidJson),
  child_flow_run_id: nullable(UuidJson),
  scheduled_time: nullable(DateTimeJson),
  cache_key: nullable(Schema.String),
  cache_expiration: nullable(DateTimeJson),
  deferred: nullable(Schema.Boolean),
  untrackable_result: Schema.optionalKey(Schema.Boolean),
  pause_timeout: nullable(DateTimeJson),
  pause_reschedule: Schema.optionalKey(Schema.Boolean),
  pause_key: nullable(Schema.String),
  run_input_keyset: nullable(Schema.Record(Schema.String, Schema.String)),
  refresh_cache: nullable(Schema.Boolean),
  retriable: nullable(Schema.Boolean),
  transition_id: nullable(UuidJson),
  task_parameters_id: nullable(UuidJson),
  traceparent: nullable(Schema.String),
  deployment_concurrency_lease_id: nullable(UuidJson)
})

type StateDetailsFieldsType = typeof StateDetailsFields.Type

const isStateDetails = (u: unknown): u is StateDetails.StateDetails => {
  if (typeof u !== "object" || u === null) return false
  for (const key of StateDetails.fields) {
    if (!(key in u)) return false
  }
  return true
}

const StateDetailsType = Schema.declare<StateDetails.StateDetails>(isStateDetails, { identifier: "StateDetails" })

const detailsFromFields = (f: StateDetailsFieldsType): StateDetails.StateDetails =>
  StateDetails.make({
    flowRunId: f.flow_run_id,
    taskRunId: f.task_run_id,
    childFlowRunId: f.child_flow_run_id,
    scheduledTime: f.scheduled_time,
    cacheKey: f.cache_key,
    cacheExpiration: f.cache_expiration,
    deferred: f.deferred,
    untrackableResult: f.untrackable_result,
    pauseTimeout: f.pause_timeout,
    pauseReschedule: f.pause_reschedule,
    pauseKey: f.pause_key,
    runInputKeyset: f.run_input_keyset === undefined || f.run_input_keyset === null
      ? f.run_input_keyset
      : Object.freeze(Object.fromEntries(Object.entries(f.run_input_keyset))),
    refreshCache: f.refresh_cache,
    retriable: f.retriable,
    transitionId: f.transition_id,
    taskParametersId: f.task_parameters_id,
    traceparent: f.traceparent,
    deploymentConcurrencyLeaseId: f.deployment_concurrency_lease_id
  })

const fieldsFromDetails = (d: StateDetails.StateDetails): StateDetailsFieldsType => ({
  flow_run_id: d.flowRunId,
  task_run_id: d.taskRunId,
  child_flow_run_id: d.childFlowRunId,
  scheduled_time: d.scheduledTime,
  cache_key: d.cacheKey,
  cache_expiration: d.cacheExpiration,
  deferred: d.deferred,
  untrackable_result: d.untrackableResult,
  pause_timeout: d.pauseTimeout,
  pause_reschedule: d.pauseReschedule,
  pause_key: d.pauseKey,
  run_input_keyset: d.runInputKeyset,
  refresh_cache: d.refreshCache,
  retriable: d.retriable,
  transition_id: d.transitionId,
  task_parameters_id: d.taskParametersId,
  traceparent: d.traceparent,
  deployment_concurrency_lease_id: d.deploymentConcurrencyLeaseId
})

/**
 * `StateDetails` ⇄ Prefect's JSON. Decoding ignores unknown keys, gives
 * missing keys their defaults (`deferred` is `null`, the client default),
 * validates UUIDs (normalised to lowercase hyphenated) and datetimes. Encoding
 * writes all eighteen keys in Prefect's order, `null` for absent values.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Wire } from "@runstate/core"
 *
 * const details = Schema.decodeUnknownSync(Wire.StateDetailsJson)({ flow_run_id: null, extra: 1 })
 * details.untrackableResult // false
 * ```
 *
 * @category schemas
 * @since 0.1.0
 */
export const StateDetailsJson: Schema.Codec<StateDetails.StateDetails, StateDetailsEncoded> = StateDetailsFields.pipe(
  Schema.decodeTo(StateDetailsType, {
    decode: SchemaGetter.transform(detailsFromFields),
    encode: SchemaGetter.transform(fieldsFromDetails)
  })
)

// -----------------------------------------------------------------------------
// StateCreate
// -----------------------------------------------------------------------------

/**
 * A state proposal (Prefect's `StateCreate`): what a client sends to
 * `set_state`. No id, no timestamp — the server mints both.
 *
 * @category models
 * @since 0.1.0
 */
export interface StateCreate {
  readonly type: StateType.StateType
  readonly name: string
  readonly message: string | null
  readonly stateDetails: StateDetails.StateDetails
  readonly data: StateData
}

/**
 * The JSON of a {@link StateCreate}: exactly the keys `type`, `name`,
 * `message`, `state_details`, `data`, in that order.
 *
 * @category models
 * @since 0.1.0
 */
export interface StateCreateEncoded {
  readonly type: StateType.StateType
  readonly name?: string | null
  readonly message?: string | null
  readonly state_details?: StateDetailsEncoded
  readonly data?: Schema.Json
}

const stateCreateKeys: ReadonlySet<string> = new Set(["type", "name", "message", "state_details", "data"])

const onlyStateCreateKeys = Schema.makeFilter<unknown>((u) => {
  if (!isPlainObject(u)) return undefined
  const issues: Array<Schema.FilterIssue> = []
  for (const key of Object.keys(u)) {
    if (!stateCreateKeys.has(key)) {
      issues.push({
        path: [key],
        issue: invalid("Unexpected key: a StateCreate allows only type, name, message, state_details and data")
      })
    }
  }
  return issues
})

const StateCreateFields = Schema.Struct({
  type: StateType.schema,
  name: nullable(Schema.String),
  message: nullable(Schema.String),
  state_details: Schema.optionalKey(StateDetailsJson),
  data: Schema.optionalKey(DataJson)
})

type StateCreateFieldsType = typeof StateCreateFields.Type

const isStateCreate = (u: unknown): u is StateCreate =>
  typeof u === "object" && u !== null && StateType.isStateType((u as { type?: unknown }).type) &&
  typeof (u as { name?: unknown }).name === "string" && "stateDetails" in u && "data" in u

const StateCreateType = Schema.declare<StateCreate>(isStateCreate, { identifier: "StateCreate" })

const withScheduledTime = (
  type: StateType.StateType,
  details: StateDetails.StateDetails,
  now: number
): StateDetails.StateDetails =>
  type === "SCHEDULED" && details.scheduledTime === null
    ? StateDetails.update(details, { scheduledTime: DateTime.makeUnsafe(now) })
    : details

/**
 * Prefect's `StateCreate` ⇄ JSON. Decoding is the server's: unknown keys are
 * rejected (Prefect answers 422), `type` is required, the name defaults from
 * the type, a SCHEDULED proposal without `scheduled_time` gets now (from
 * `Clock`), `data` follows {@link DataJson}. Encoding writes exactly `type`,
 * `name`, `message`, `state_details` (all eighteen keys) and `data`, in that
 * order; metadata in `data` keeps every serializer field (use
 * {@link encodeStateCreate} for the task-run form).
 *
 * @category schemas
 * @since 0.1.0
 */
export const StateCreate: Schema.Codec<StateCreate, StateCreateEncoded> = Schema.Unknown.pipe(
  Schema.check(onlyStateCreateKeys),
  Schema.decodeTo(StateCreateFields, {
    decode: SchemaGetter.passthrough({ strict: false }),
    encode: SchemaGetter.passthrough({ strict: false })
  }),
  Schema.decodeTo(StateCreateType, {
    decode: SchemaGetter.transformEffect((f: StateCreateFieldsType) =>
      Effect.map(Clock.currentTimeMillis, (now): StateCreate => ({
        type: f.type,
        name: f.name ?? StateType.defaultName(f.type),
        message: f.message ?? null,
        stateDetails: withScheduledTime(f.type, f.state_details ?? StateDetails.empty, now),
        data: f.data ?? null
      }))
    ),
    encode: SchemaGetter.transform((c: StateCreate): StateCreateFieldsType => ({
      type: c.type,
      name: c.name,
      message: c.message,
      state_details: c.stateDetails,
      data: c.data
    }))
  })
) as unknown as Schema.Codec<StateCreate, StateCreateEncoded>

// -----------------------------------------------------------------------------
// StateResponse
// -----------------------------------------------------------------------------

/**
 * A state as the API returns it. The server's shape has the keys `id, type,
 * name, timestamp, message, data, state_details`; the client's model dump
 * adds `created` and `updated`. Only `type` is required (the rest take
 * Prefect's defaults).
 *
 * @category models
 * @since 0.1.0
 */
export interface StateResponseEncoded {
  readonly id?: string
  readonly type: StateType.StateType
  readonly name?: string | null
  readonly timestamp?: string
  readonly message?: string | null
  readonly data?: Schema.Json
  readonly state_details?: StateDetailsEncoded
  readonly created?: string | null
  readonly updated?: string | null
}

const StateResponseFields = Schema.Struct({
  id: Schema.optionalKey(UuidJson),
  type: StateType.schema,
  name: nullable(Schema.String),
  timestamp: Schema.optionalKey(DateTimeJson),
  message: nullable(Schema.String),
  data: Schema.optionalKey(DataJson),
  state_details: Schema.optionalKey(StateDetailsJson),
  created: nullable(DateTimeJson),
  updated: nullable(DateTimeJson)
})

type StateResponseFieldsType = typeof StateResponseFields.Type

const StateType_ = Schema.declare<State.State<unknown>>(State.isState, { identifier: "State" })

const buildState = (
  type: StateType.StateType,
  name: string | null | undefined,
  message: string | null | undefined,
  details: StateDetails.StateDetails,
  data: unknown,
  id: string | undefined,
  timestamp: DateTime.Utc | number | undefined,
  created: DateTime.Utc | null | undefined,
  updated: DateTime.Utc | null | undefined,
  now: () => number
): State.State<unknown> => {
  const ts = timestamp === undefined ? now() : timestamp
  return State.make({
    type,
    name: name ?? null,
    message: message ?? null,
    stateDetails: type === "SCHEDULED" && details.scheduledTime === null
      ? withScheduledTime(type, details, now())
      : details,
    data,
    id,
    timestamp: typeof ts === "number" ? new Date(ts) : ts,
    created: created ?? null,
    updated: updated ?? null
  })
}

/**
 * A state from the API ⇄ JSON. Decoding accepts the server shape and the
 * client shape, ignores unknown keys, requires a known `type` (an unknown type
 * fails; any `name` is accepted), decodes `timestamp` with microseconds
 * (truncated to milliseconds) and builds a runstate `State` with
 * `State.make`, applying Prefect's defaults: the name from the type, now (from
 * `Clock`) as the scheduled time of a SCHEDULED state without one and as a
 * missing timestamp; `id` is kept. Encoding writes the server shape (`id,
 * type, name, timestamp, message, data, state_details`; `created`/`updated`
 * are not part of it).
 *
 * @category schemas
 * @since 0.1.0
 */
export const StateResponse: Schema.Codec<State.State<unknown>, StateResponseEncoded> = StateResponseFields.pipe(
  Schema.decodeTo(StateType_, {
    decode: SchemaGetter.transformEffect((f: StateResponseFieldsType) =>
      Clock.clockWith((clock) =>
        Effect.succeed(
          buildState(
            f.type,
            f.name,
            f.message,
            f.state_details ?? StateDetails.empty,
            f.data ?? null,
            f.id,
            f.timestamp,
            f.created,
            f.updated,
            () => clock.currentTimeMillisUnsafe()
          )
        )
      )
    ),
    encode: SchemaGetter.transform((s: State.State<unknown>): StateResponseFieldsType => ({
      id: s.id,
      type: s.type,
      name: s.name,
      timestamp: s.timestamp,
      message: s.message,
      data: s.data as StateData,
      state_details: s.stateDetails
    }))
  })
) as unknown as Schema.Codec<State.State<unknown>, StateResponseEncoded>

// -----------------------------------------------------------------------------
// OrchestrationResult
// -----------------------------------------------------------------------------

/**
 * The outcome of a `set_state` call (Prefect's `SetStateStatus`).
 *
 * @category models
 * @since 0.1.0
 */
export type SetStateStatus = "ACCEPT" | "REJECT" | "ABORT" | "WAIT"

/**
 * The details of an orchestration result, by `type`.
 *
 * @category models
 * @since 0.1.0
 */
export type OrchestrationDetails =
  | { readonly type: "accept_details" }
  | { readonly type: "reject_details"; readonly reason: string | null }
  | { readonly type: "abort_details"; readonly reason: string | null }
  | { readonly type: "wait_details"; readonly delaySeconds: number; readonly reason: string | null }

/**
 * The answer of `set_state`: the state the server holds now (or `null`), the
 * status and its details.
 *
 * @category models
 * @since 0.1.0
 */
export interface OrchestrationResult {
  readonly state: State.State<unknown> | null
  readonly status: SetStateStatus
  readonly details: OrchestrationDetails
}

/**
 * The JSON of an {@link OrchestrationResult}.
 *
 * @category models
 * @since 0.1.0
 */
export interface OrchestrationResultEncoded {
  readonly state?: StateResponseEncoded | null
  readonly status: SetStateStatus
  readonly details:
    | { readonly type: "accept_details" }
    | { readonly type: "reject_details"; readonly reason?: string | null }
    | { readonly type: "abort_details"; readonly reason?: string | null }
    | {
      readonly type: "wait_details"
      readonly delay_seconds: number
      readonly reason?: string | null
    }
}

const reason = Schema.NullOr(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null)))

/**
 * The `details` of an orchestration result ⇄ JSON (`delay_seconds` ⇄
 * `delaySeconds`; a missing `reason` is `null`).
 *
 * @category schemas
 * @since 0.1.0
 */
export const OrchestrationDetailsJson: Schema.Codec<OrchestrationDetails, OrchestrationResultEncoded["details"]> =
  Schema.Union([
    Schema.Struct({ type: Schema.Literal("accept_details") }),
    Schema.Struct({ type: Schema.Literal("reject_details"), reason }),
    Schema.Struct({ type: Schema.Literal("abort_details"), reason }),
    Schema.Struct({ type: Schema.Literal("wait_details"), delaySeconds: Schema.Int, reason }).pipe(
      Schema.encodeKeys({ delaySeconds: "delay_seconds" })
    )
  ]) as unknown as Schema.Codec<OrchestrationDetails, OrchestrationResultEncoded["details"]>

/**
 * Prefect's `OrchestrationResult` ⇄ JSON: `{state, status, details}` with
 * `status` one of `ACCEPT`, `REJECT`, `ABORT`, `WAIT` and `details` one of
 * `accept_details`, `reject_details {reason}`, `abort_details {reason}`,
 * `wait_details {delay_seconds, reason}`. `state` is a {@link StateResponse}
 * or `null`.
 *
 * @category schemas
 * @since 0.1.0
 */
export const OrchestrationResult: Schema.Codec<OrchestrationResult, OrchestrationResultEncoded> = Schema.Struct({
  state: Schema.NullOr(StateResponse).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  status: Schema.Literals(["ACCEPT", "REJECT", "ABORT", "WAIT"]),
  details: OrchestrationDetailsJson
}) as unknown as Schema.Codec<OrchestrationResult, OrchestrationResultEncoded>

// -----------------------------------------------------------------------------
// functions
// -----------------------------------------------------------------------------

const decoder = <A, I>(codec: string, schema: Schema.Codec<A, I>) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return (u: unknown): Effect.Effect<A, WireError> =>
    Effect.mapError(decode(u), (e) => new WireError({ codec, operation: "decode", issue: e.issue }))
}

const encoder = <A, I>(codec: string, schema: Schema.Codec<A, I>) => {
  const encode = Schema.encodeEffect(schema)
  return (a: A): Effect.Effect<I, WireError> =>
    Effect.mapError(encode(a), (e) => new WireError({ codec, operation: "encode", issue: e.issue }))
}

const decodeStateResponseSchema = decoder("StateResponse", StateResponse)

/**
 * Decodes `StateDetails` from Prefect's JSON (see {@link StateDetailsJson}).
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeStateDetails: (u: unknown) => Effect.Effect<StateDetails.StateDetails, WireError> = decoder(
  "StateDetails",
  StateDetailsJson
)

/**
 * Encodes `StateDetails` as Prefect's JSON: all eighteen keys, in order.
 *
 * @category encoding
 * @since 0.1.0
 */
export const encodeStateDetails: (
  details: StateDetails.StateDetails
) => Effect.Effect<StateDetailsEncoded, WireError> = encoder("StateDetails", StateDetailsJson)

/**
 * Decodes a state proposal as Prefect's server does (see {@link StateCreate}):
 * unknown keys fail, the name and a SCHEDULED state's time get their defaults.
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeStateCreate: (u: unknown) => Effect.Effect<StateCreate, WireError> = decoder(
  "StateCreate",
  StateCreate
)

/**
 * How `encodeStateCreate` writes the serializer of result-record metadata:
 * `"full"` (every field, as a flow-run proposal is dumped) or `"typeOnly"`
 * (only `{"type": ...}`, as a task-run proposal is dumped — readers rebuild
 * the defaults).
 *
 * @category models
 * @since 0.1.0
 */
export interface EncodeStateCreateOptions {
  readonly serializerFields?: "full" | "typeOnly" | undefined
}

const typeOnlySerializer = (json: StateCreateEncoded): StateCreateEncoded => {
  const data = json.data
  if (!isPlainObject(data) || !hasOwn.call(data, "storage_key") || !isPlainObject(data.serializer)) return json
  const out: Record<string, Schema.Json> = {}
  for (const key of Object.keys(data)) {
    out[key] = key === "serializer" ? { type: (data.serializer as { type: Schema.Json }).type } : data[key]!
  }
  return { ...json, data: out }
}

const encodeStateCreateSchema = encoder("StateCreate", StateCreate)

/**
 * Encodes a proposal (from `State.toStateCreate`) into the JSON object Prefect's
 * `set_state` takes as `state`: exactly `type`, `name`, `message`,
 * `state_details`, `data`. With `serializerFields: "typeOnly"` the serializer
 * inside metadata is reduced to `{"type": ...}`, as Prefect's task-run
 * proposals are. Fails only when the proposal holds something that is not
 * JSON or a malformed UUID.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { State, Wire } from "@runstate/core"
 *
 * const body = Wire.encodeStateCreate(State.toStateCreate(State.Running())).pipe(
 *   Effect.map((state) => ({ state, force: false }))
 * )
 * ```
 *
 * @category encoding
 * @since 0.1.0
 */
export const encodeStateCreate = (
  proposal: StateCreate,
  options?: EncodeStateCreateOptions
): Effect.Effect<StateCreateEncoded, WireError> =>
  options?.serializerFields === "typeOnly"
    ? Effect.map(encodeStateCreateSchema(proposal), typeOnlySerializer)
    : encodeStateCreateSchema(proposal)

/**
 * Decodes a state from the API into a runstate `State` (see
 * {@link StateResponse}). Well-formed documents take a hand-written path that
 * builds the same state as the schema; anything else goes through the schema,
 * whose issue names the path. Never throws.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Wire } from "@runstate/core"
 *
 * const state = Wire.decodeStateResponse({
 *   id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e8f",
 *   type: "COMPLETED",
 *   name: "Completed",
 *   timestamp: "2024-01-01T12:00:03.517204Z",
 *   message: null,
 *   data: null,
 *   state_details: { flow_run_id: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70" }
 * })
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeStateResponse = (u: unknown): Effect.Effect<State.State<unknown>, WireError> => {
  const fast = fastStateResponse(u, undefined)
  return fast === needsClock
    ? Clock.clockWith((clock) =>
      fastResult(
        u,
        fastStateResponse(u, clock) as State.State<unknown> | Effect.Effect<State.State<unknown>, WireError> | Bail
      )
    )
    : fastResult(u, fast)
}

/**
 * Decodes a list of states from the API (the body of Prefect's
 * `GET /flow_run_states/?flow_run_id=...`, or any array of
 * {@link StateResponse} documents) into runstate states, in order. The result
 * and the error are those of `Effect.forEach(docs, decodeStateResponse)` —
 * the first document that does not fit fails the whole list with its
 * `WireError` — but the loop runs without per-document Effect overhead, and
 * `Clock` is read once.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Wire } from "@runstate/core"
 *
 * const states = Wire.decodeStateResponses([
 *   { id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e8f", type: "RUNNING", timestamp: "2024-01-01T12:00:00Z" },
 *   { id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e90", type: "COMPLETED", timestamp: "2024-01-01T12:00:03Z" }
 * ])
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeStateResponses = (
  docs: ReadonlyArray<unknown>
): Effect.Effect<Array<State.State<unknown>>, WireError> =>
  Clock.clockWith((clock) => {
    const n = docs.length
    const out: Array<State.State<unknown>> = new Array(n)
    const resume = (i: number) => (state: State.State<unknown>) => {
      out[i] = state
      return loop(i + 1)
    }
    const loop = (start: number): Effect.Effect<Array<State.State<unknown>>, WireError> => {
      for (let i = start; i < n; i++) {
        const u = docs[i]
        const fast = fastStateResponse(u, clock) as
          | State.State<unknown>
          | Effect.Effect<State.State<unknown>, WireError>
          | Bail
        if (fast === bail) return Effect.flatMap(decodeStateResponseSchema(u), resume(i))
        if (State.isState(fast)) out[i] = fast
        else return Effect.flatMap(fast, resume(i))
      }
      return Effect.succeed(out)
    }
    return loop(0)
  })

/**
 * Encodes a state in the server's shape (see {@link StateResponse}).
 *
 * @category encoding
 * @since 0.1.0
 */
export const encodeStateResponse: (
  state: State.State<unknown>
) => Effect.Effect<StateResponseEncoded, WireError> = encoder("StateResponse", StateResponse)

/**
 * Decodes the answer of `set_state` (see {@link OrchestrationResult}).
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeOrchestrationResult: (u: unknown) => Effect.Effect<OrchestrationResult, WireError> = decoder(
  "OrchestrationResult",
  OrchestrationResult
)

/**
 * Encodes an orchestration result (see {@link OrchestrationResult}).
 *
 * @category encoding
 * @since 0.1.0
 */
export const encodeOrchestrationResult: (
  result: OrchestrationResult
) => Effect.Effect<OrchestrationResultEncoded, WireError> = encoder("OrchestrationResult", OrchestrationResult)

// -----------------------------------------------------------------------------
// hand-written hot path of decodeStateResponse
// -----------------------------------------------------------------------------

// Each function returns `bail` ("let the schema decide") as soon as the input
// is not the plain, valid shape; a success here must equal the schema's.

const bail = Symbol()
type Bail = typeof bail
const needsClock = Symbol()

const own = (o: Record<string, unknown>, key: string): unknown => {
  const v = o[key]
  return v === undefined && hasOwn.call(o, key) ? bail : v
}

const fastUuid = (v: unknown): string | null | undefined | Bail => {
  if (v === undefined || v === null) return v
  if (typeof v !== "string") return bail
  return normalizeUuid(v) ?? bail
}

const fastDateTime = (v: unknown): DateTime.Utc | null | undefined | Bail => {
  if (v === undefined || v === null) return v
  if (typeof v !== "string") return bail
  const ms = parseDateTimeMillis(v)
  return Number.isNaN(ms) ? bail : DateTime.makeUnsafe(ms)
}

const fastKeyset = (v: unknown): { readonly [key: string]: string } | null | Bail => {
  if (v === null) return v
  if (!isPlainObject(v)) return bail
  const entries: Array<[string, string]> = []
  for (const key in v) {
    if (!hasOwn.call(v, key)) continue
    const value = v[key]
    if (typeof value !== "string") return bail
    entries.push([key, value])
  }
  return Object.freeze(Object.fromEntries(entries))
}

// Field readers: the decoded value, the default when the key is absent, or `bail`.

const missing = (o: Record<string, unknown>, key: string, fallback: null | false): null | false | Bail =>
  hasOwn.call(o, key) ? bail : fallback

const readUuid = (o: Record<string, unknown>, key: string): string | null | Bail => {
  const v = o[key]
  if (v === undefined) return missing(o, key, null) as null | Bail
  if (v === null) return null
  return typeof v === "string" ? normalizeUuid(v) ?? bail : bail
}

const readDateTime = (o: Record<string, unknown>, key: string): DateTime.Utc | null | Bail => {
  const v = o[key]
  if (v === undefined) return missing(o, key, null) as null | Bail
  if (v === null) return null
  if (typeof v !== "string") return bail
  const ms = parseDateTimeMillis(v)
  return Number.isNaN(ms) ? bail : DateTime.makeUnsafe(ms)
}

const readString = (o: Record<string, unknown>, key: string): string | null | Bail => {
  const v = o[key]
  if (v === undefined) return missing(o, key, null) as null | Bail
  return v === null || typeof v === "string" ? v : bail
}

const readBoolean = (o: Record<string, unknown>, key: string): boolean | null | Bail => {
  const v = o[key]
  if (v === undefined) return missing(o, key, null) as null | Bail
  return v === null || typeof v === "boolean" ? v : bail
}

const readFlag = (o: Record<string, unknown>, key: string): boolean | Bail => {
  const v = o[key]
  if (v === undefined) return missing(o, key, false) as false | Bail
  return typeof v === "boolean" ? v : bail
}

const readKeyset = (o: Record<string, unknown>, key: string): { readonly [key: string]: string } | null | Bail => {
  const v = o[key]
  if (v === undefined) return missing(o, key, null) as null | Bail
  return fastKeyset(v)
}

/** The details as a full `StateDetails`-shaped input (State.make freezes it once). */
const fastDetails = (u: unknown): StateDetails.StateDetails | Bail => {
  if (!isPlainObject(u)) return bail
  const flowRunId = readUuid(u, "flow_run_id")
  const taskRunId = readUuid(u, "task_run_id")
  const childFlowRunId = readUuid(u, "child_flow_run_id")
  const scheduledTime = readDateTime(u, "scheduled_time")
  const cacheKey = readString(u, "cache_key")
  const cacheExpiration = readDateTime(u, "cache_expiration")
  const deferred = readBoolean(u, "deferred")
  const untrackableResult = readFlag(u, "untrackable_result")
  const pauseTimeout = readDateTime(u, "pause_timeout")
  const pauseReschedule = readFlag(u, "pause_reschedule")
  const pauseKey = readString(u, "pause_key")
  const runInputKeyset = readKeyset(u, "run_input_keyset")
  const refreshCache = readBoolean(u, "refresh_cache")
  const retriable = readBoolean(u, "retriable")
  const transitionId = readUuid(u, "transition_id")
  const taskParametersId = readUuid(u, "task_parameters_id")
  const traceparent = readString(u, "traceparent")
  const deploymentConcurrencyLeaseId = readUuid(u, "deployment_concurrency_lease_id")
  if (
    flowRunId === bail || taskRunId === bail || childFlowRunId === bail || scheduledTime === bail ||
    cacheKey === bail || cacheExpiration === bail || deferred === bail || untrackableResult === bail ||
    pauseTimeout === bail || pauseReschedule === bail || pauseKey === bail || runInputKeyset === bail ||
    refreshCache === bail || retriable === bail || transitionId === bail || taskParametersId === bail ||
    traceparent === bail || deploymentConcurrencyLeaseId === bail
  ) return bail
  return {
    flowRunId,
    taskRunId,
    childFlowRunId,
    scheduledTime,
    cacheKey,
    cacheExpiration,
    deferred,
    untrackableResult,
    pauseTimeout,
    pauseReschedule,
    pauseKey,
    runInputKeyset,
    refreshCache,
    retriable,
    transitionId,
    taskParametersId,
    traceparent,
    deploymentConcurrencyLeaseId
  }
}

const fastStateResponse = (
  u: unknown,
  clock: Clock.Clock | undefined
): State.State<unknown> | Effect.Effect<State.State<unknown>, WireError> | Bail | typeof needsClock => {
  if (!isPlainObject(u)) return bail
  const type = own(u, "type")
  if (!StateType.isStateType(type)) return bail
  const id = fastUuid(own(u, "id"))
  if (id === bail || id === null) return bail
  const name = own(u, "name")
  if (name !== undefined && name !== null && typeof name !== "string") return bail
  const message = own(u, "message")
  if (message !== undefined && message !== null && typeof message !== "string") return bail
  const rawTimestamp = own(u, "timestamp")
  let timestamp: number
  if (rawTimestamp === undefined) {
    if (clock === undefined) return needsClock
    timestamp = clock.currentTimeMillisUnsafe()
  } else {
    if (typeof rawTimestamp !== "string") return bail
    timestamp = parseDateTimeMillis(rawTimestamp)
    if (Number.isNaN(timestamp)) return bail
  }
  const created = fastDateTime(own(u, "created"))
  if (created === bail) return bail
  const updated = fastDateTime(own(u, "updated"))
  if (updated === bail) return bail
  const rawDetails = own(u, "state_details")
  let details: StateDetails.StateDetails = StateDetails.empty
  if (rawDetails !== undefined) {
    const d = fastDetails(rawDetails)
    if (d === bail) return bail
    details = d
  }
  if (type === "SCHEDULED" && details.scheduledTime === null) {
    if (clock === undefined) return needsClock
    details = StateDetails.update(details, { scheduledTime: DateTime.makeUnsafe(clock.currentTimeMillisUnsafe()) })
  }
  const data = own(u, "data")
  if (data === bail) return bail
  const kind = data === undefined || data === null ? "json" : classifyData(data)
  if (kind === "invalid") return bail
  if (kind === "metadata") {
    return Effect.matchEffect(ResultRecord.metadataFromJson(data), {
      onFailure: () => decodeStateResponseSchema(u),
      onSuccess: (metadata) =>
        Effect.succeed(
          State.make({
            type,
            name,
            message,
            stateDetails: details,
            data: metadata,
            id,
            timestamp: new Date(timestamp),
            created,
            updated
          })
        )
    })
  }
  return State.make({
    type,
    name,
    message,
    stateDetails: details,
    data: kind === "json" && data !== undefined ? data : null,
    id,
    timestamp: new Date(timestamp),
    created,
    updated
  })
}

const fastResult = (
  u: unknown,
  fast: State.State<unknown> | Effect.Effect<State.State<unknown>, WireError> | Bail
): Effect.Effect<State.State<unknown>, WireError> =>
  fast === bail ? decodeStateResponseSchema(u) : State.isState(fast) ? Effect.succeed(fast) : fast

// -----------------------------------------------------------------------------
// task-run state events
// -----------------------------------------------------------------------------

import * as TaskRunEvent from "./internal/taskRunEvent.ts"

export {
  stateMessageTruncationLength,
  type TaskRunEventEncoded,
  type TaskRunEventInput,
  type TaskRunEventOptions,
  type TaskRunEventState,
  truncateMessage
} from "./internal/taskRunEvent.ts"

/**
 * Encodes a task run's transition as the event Prefect's client task engine
 * emits for its new state: `prefect.task-run.{state name}` with the task run
 * as resource (labels `prefect.resource.id`, `prefect.resource.name`,
 * `prefect.run-count`, `prefect.state-message`, `prefect.state-name`,
 * `prefect.state-timestamp`, `prefect.state-type`, `prefect.orchestration`),
 * its tags as related resources, and `payload.intended`,
 * `payload.initial_state`, `payload.validated_state` and `payload.task_run`.
 * Messages longer than 100 000 characters are shortened (see
 * {@link truncateMessage}). Fails with a `WireError` for a flow run's
 * transition (flow-run states go to the API's `set_state`) or a task run id
 * that is not a UUID.
 *
 * @example
 * ```ts
 * import { State, Wire } from "@runstate/core"
 *
 * const running = State.Running()
 * const event = Wire.encodeTaskRunEvent({
 *   runId: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70",
 *   name: "fetch-0",
 *   runCount: 1,
 *   from: State.Pending(),
 *   to: running
 * }, { tags: ["etl"] })
 * // Effect succeeding with { event: "prefect.task-run.Running", ... }
 * ```
 *
 * @category encoding
 * @since 0.2.0
 */
export const encodeTaskRunEvent = (
  input: TaskRunEvent.TaskRunEventInput,
  options?: TaskRunEvent.TaskRunEventOptions
): Effect.Effect<TaskRunEvent.TaskRunEventEncoded, WireError> =>
  Effect.suspend(() => {
    const encoded = TaskRunEvent.taskRunEventJson(input, options)
    return typeof encoded === "string"
      ? Effect.fail(new WireError({ codec: "TaskRunEvent", operation: "encode", issue: invalid(encoded) }))
      : Effect.succeed(encoded)
  })
