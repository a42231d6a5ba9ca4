/**
 * Prefect's REST JSON for states, as `effect/Schema` codecs: `StateDetailsJson`
 * (the eighteen snake_case detail fields), `StateCreate` (the payload of
 * `POST /flow_runs/{id}/set_state` and `/task_runs/{id}/set_state`, built from
 * a state by {@link toStateCreate}), `StateResponse` (a state as the API
 * returns it) and `OrchestrationResult` (the `{state, status, details}`
 * envelope of a `set_state` answer). Keys are snake_case, types upper-case,
 * UUIDs lowercase and hyphenated on output, datetimes ISO 8601 on output
 * (Python's `isoformat` with `Z`) and ISO 8601 or Unix timestamps on input, as
 * Prefect's pydantic models accept them. Decoding applies Prefect's
 * validators: the default name, the default scheduled time (read from
 * `Clock`), `data` with a `storage_key` becomes `ResultRecordMetadata`,
 * `{"type": "unpersisted"}` becomes no data. Any input that does not fit —
 * including values that are not JSON at all — fails with a typed
 * {@link WireError} whose message names the path; no decoder throws.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"
import { cutText } from "./internal/pythonJson.ts"
import * as Scalars from "./internal/scalars.ts"
import { bail, fastStateResponse, needsClock } from "./internal/wireFast.ts"
import * as WireSchemas from "./internal/wireSchemas.ts"
import * as ResultRecord from "./ResultRecord.ts"
import * as State from "./State.ts"
import * as StateDetails from "./StateDetails.ts"
import * as StateType from "./StateType.ts"

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/** At most this many issues are listed in a message, each at most `maxIssueText` characters. */
const maxIssues = 10
const maxIssueText = 300
const maxKeyText = 60

const formatPathKey = (key: PropertyKey): string =>
  typeof key === "number"
    ? `[${key}]`
    : typeof key === "symbol"
    ? "[Symbol]"
    : `[${JSON.stringify(cutText(key, maxKeyText))}]`

const renderIssue = (issue: SchemaIssue.Issue): string => {
  let issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<unknown> | undefined }>
  try {
    issues = formatIssues(issue).issues
  } catch {
    return "the issue cannot be rendered"
  }
  const lines = issues.slice(0, maxIssues).map((i) => {
    const message = cutText(i.message, maxIssueText)
    const path = (i.path ?? []) as ReadonlyArray<PropertyKey>
    return path.length === 0 ? message : `${message}\n  at ${path.slice(0, 20).map(formatPathKey).join("")}`
  })
  if (issues.length > maxIssues) lines.push(`… and ${issues.length - maxIssues} more issues`)
  return lines.join("\n")
}

/**
 * A document that does not fit one of the wire codecs (or a value that cannot
 * be encoded). `codec` names the codec (`"StateResponse"`, ...), `issue` is the
 * `effect/Schema` issue tree, `message` (an own field, so loggers show it)
 * renders the issues with their paths (`at ["state_details"]["flow_run_id"]`),
 * and `path` is the path of the first issue. A dedicated tag (rather than
 * `Schema.SchemaError`) lets callers tell a bad server answer from their own
 * schema failures with `Effect.catchTag("WireError", ...)`. Messages are
 * bounded: input values are never copied into them beyond a short, capped
 * rendering, and at most ten issues are listed, so a megabyte input does not
 * become a megabyte error.
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
  readonly message: string
}> {
  constructor(props: {
    readonly codec: string
    readonly operation: "decode" | "encode"
    readonly issue: SchemaIssue.Issue
  }) {
    const message = `Cannot ${props.operation} ${props.codec}: ${renderIssue(props.issue)}`
    super({ ...props, message })
    // an own, enumerable field, so loggers (`console.error`, `util.inspect`) show it
    Object.defineProperty(this, "message", { value: message, enumerable: true, writable: true, configurable: true })
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
      case "AnyOf":
        current = current.issues[0]
        break
      default:
        current = undefined
    }
  }
  return path
}

const invalid = WireSchemas.invalid

/** The issue of an input that could not even be read (a revoked proxy, a throwing getter). */
const unreadable = (defect: unknown): SchemaIssue.Issue => {
  let reason: string
  try {
    reason = defect instanceof Error ? `${defect.name}: ${defect.message}` : typeof defect
  } catch {
    reason = "unknown"
  }
  return invalid(`Cannot read the input (${cutText(reason, 120)})`)
}

// -----------------------------------------------------------------------------
// scalars: UUIDs, datetimes, JSON data
// -----------------------------------------------------------------------------

/**
 * Normalises a UUID to Prefect's wire form (lowercase, hyphenated). Accepts
 * what pydantic's `uuid.UUID` accepts — 32 hex digits, or the hyphenated form
 * alone, in braces or after `urn:uuid:`, in any case — and returns
 * `undefined` for anything else.
 *
 * @example
 * ```ts
 * import { Wire } from "@runstate/core"
 *
 * Wire.normalizeUuid("0190C6A47B2E7D3C9A1F2B3C4D5E6F70") // "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"
 * Wire.normalizeUuid("{0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70}") // "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"
 * Wire.normalizeUuid("nope") // undefined
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const normalizeUuid: (s: string) => string | undefined = Scalars.normalizeUuid

/**
 * Parses a datetime as Prefect's pydantic models do into epoch milliseconds,
 * or `NaN` when it is not one: ISO 8601 (`T`, `t`, `_` or a space between date
 * and time, seconds and fraction optional, any number of fraction digits,
 * `Z` or a `±HH:MM`/`±HHMM` offset; a date alone is midnight) or a numeric
 * Unix timestamp text (seconds, or milliseconds past 2e10). A datetime
 * without an offset is read as UTC. Sub-millisecond digits are truncated:
 * `DateTime.Utc` holds milliseconds.
 *
 * @example
 * ```ts
 * import { Wire } from "@runstate/core"
 *
 * Wire.parseDateTimeMillis("2024-01-01T12:00:03.517204Z") // 1704110403517
 * Wire.parseDateTimeMillis("2024-01-01T12:00:03") // 1704110403000 (naive: UTC)
 * Wire.parseDateTimeMillis("1704110403.5") // 1704110403500
 * Wire.parseDateTimeMillis("2024-01-01T12:00:03+01") // NaN
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const parseDateTimeMillis: (s: string) => number = Scalars.parseDateTime

/**
 * Tells whether a value is JSON: `null`, a boolean, a finite number, a string,
 * an array of JSON without holes, or a plain object of JSON, without cycles.
 * Iterative, so 10,000 levels of nesting do not overflow the stack.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isJson: (root: unknown) => root is Schema.Json = WireSchemas.isJson

/**
 * A DateTime on Prefect's wire: decoded from ISO 8601 text, a numeric
 * timestamp text or a number of Unix seconds (Prefect's client sends
 * `set_state` datetimes as float seconds, `1704164645.0`) — see
 * {@link parseDateTimeMillis} — and encoded as Python's `isoformat` with `Z`
 * (`2024-01-02T03:04:05.678000Z`, no fraction when zero).
 *
 * @category schemas
 * @since 0.1.0
 */
export const DateTimeJson: typeof WireSchemas.DateTimeJson = WireSchemas.DateTimeJson

/**
 * A UUID on Prefect's wire: any form {@link normalizeUuid} accepts on input,
 * lowercase hyphenated after decoding and on output.
 *
 * @category schemas
 * @since 0.1.0
 */
export const UuidJson: typeof WireSchemas.UuidJson = WireSchemas.UuidJson

/**
 * What `data` holds after decoding: result-record metadata, or any JSON value
 * (`null` when there is none).
 *
 * @category models
 * @since 0.1.0
 */
export type StateData = ResultRecord.ResultRecordMetadata | Schema.Json

const decodeData = (u: Schema.Json): Effect.Effect<StateData, SchemaIssue.Issue> => {
  switch (WireSchemas.classifyData(u)) {
    case "metadata":
      return Effect.mapError(
        ResultRecord.metadataFromJson(u),
        (e) => invalid(`Invalid result record metadata: ${cutText(e.message, maxIssueText)}`)
      )
    case "unpersisted":
      return Effect.succeed(null)
    default:
      return Effect.succeed(u)
  }
}

const encodeData = (u: StateData): Effect.Effect<Schema.Json, SchemaIssue.Issue> => {
  if (ResultRecord.isResultRecordMetadata(u)) {
    return Effect.succeed(Object.fromEntries(Object.entries(ResultRecord.metadataToJson(u))) as Schema.Json)
  }
  if (WireSchemas.isJson(u)) return Effect.succeed(u)
  return Effect.fail(
    invalid(
      ResultRecord.isResultRecord(u)
        ? "Expected JSON data or result record metadata, got a ResultRecord (send its metadata, see Wire.toStateCreate)"
        : "Expected JSON data or result record metadata"
    )
  )
}

const JsonData = Schema.declare<Schema.Json>(WireSchemas.isJson, { expected: "JSON data" })

const StateDataType = Schema.declare<StateData>(
  (u): u is StateData => ResultRecord.isResultRecordMetadata(u) || WireSchemas.isJson(u),
  { expected: "JSON data or result record metadata" }
)

/**
 * A state's `data` on the wire: an object with a `storage_key` decodes to
 * `ResultRecordMetadata` (Prefect's discriminator — so a user object that
 * happens to have `storage_key` is read as metadata), `{"type":
 * "unpersisted"}` decodes to `null`, any other JSON value is kept as is (the
 * same object: nothing is copied, so `__proto__` keys stay plain keys).
 * Encoding writes metadata in Prefect's key order and JSON as is; anything
 * else (a `ResultRecord`, an `Error`) fails.
 *
 * @category schemas
 * @since 0.1.0
 */
export const DataJson: Schema.Codec<StateData, Schema.Json> = JsonData.pipe(
  Schema.decodeTo(StateDataType, {
    decode: SchemaGetter.transformEffect(decodeData),
    encode: SchemaGetter.transformEffect(encodeData)
  })
)

// -----------------------------------------------------------------------------
// StateDetails
// -----------------------------------------------------------------------------

const StateDetailsType = Schema.declare<StateDetails.StateDetails>(
  (u): u is StateDetails.StateDetails =>
    typeof u === "object" && u !== null && StateDetails.fields.every((k) => k in u),
  { expected: "StateDetails" }
)

type DetailsFields = typeof StateDetails.schema.fields

const StateDetailsFields = Schema.Struct(
  Object.fromEntries(
    StateDetails.fields.map((key) => [StateDetails.jsonKeys[key], StateDetails.schema.fields[key]])
  ) as {
    readonly [K in keyof DetailsFields as StateDetails.SnakeCase<K>]: DetailsFields[K]
  }
)

const detailsFromJson = (json: typeof StateDetailsFields.Type): StateDetails.StateDetails => {
  const input: Record<string, unknown> = {}
  for (const key of StateDetails.fields) input[key] = json[StateDetails.jsonKeys[key]]
  const keyset = json.run_input_keyset
  // details are immutable all the way down; `Object.fromEntries` keeps a `__proto__` key a key
  if (keyset !== null) input.runInputKeyset = Object.freeze(Object.fromEntries(Object.entries(keyset)))
  return StateDetails.make(input as StateDetails.Input)
}

const detailsToJson = (details: StateDetails.StateDetails): typeof StateDetailsFields.Type => {
  const json: Record<string, unknown> = {}
  for (const key of StateDetails.fields) json[StateDetails.jsonKeys[key]] = details[key]
  return json as typeof StateDetailsFields.Type
}

/**
 * `StateDetails` ⇄ Prefect's JSON, derived from `StateDetails.schema` with
 * its keys in snake_case. Decoding ignores unknown keys, gives missing keys
 * their defaults (`deferred` is `null`, the client default), validates UUIDs
 * (normalised to lowercase hyphenated) and datetimes (ISO 8601 or Unix
 * timestamps). Encoding writes all eighteen keys in Prefect's order, `null`
 * for absent values.
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
export const StateDetailsJson = StateDetailsFields.pipe(
  Schema.decodeTo(StateDetailsType, {
    decode: SchemaGetter.transform(detailsFromJson),
    encode: SchemaGetter.transform(detailsToJson)
  })
)

/**
 * `StateDetails` as JSON: Prefect's eighteen snake_case keys. Decoded
 * documents may omit any key; {@link StateDetailsJson} always writes all of
 * them, in order, with `null` for absent values.
 *
 * @category models
 * @since 0.1.0
 */
export type StateDetailsEncoded = typeof StateDetailsJson.Encoded

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

const stateCreateKeys: ReadonlySet<string> = new Set(["type", "name", "message", "state_details", "data"])

const onlyStateCreateKeys = Schema.makeFilter<{ readonly [key: string]: unknown }>((u) => {
  const issues: Array<Schema.FilterIssue> = []
  for (const key of Object.keys(u)) {
    if (!stateCreateKeys.has(key)) {
      issues.push({
        path: [key],
        issue: invalid("Unexpected key: a StateCreate allows only type, name, message, state_details and data")
      })
      // the message lists the first few; more issues would only cost memory
      if (issues.length > maxIssues) break
    }
  }
  return issues
})

const nullable = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))

const StateCreateFields = Schema.Struct({
  type: StateType.schema,
  name: nullable(Schema.String),
  message: nullable(Schema.String),
  state_details: Schema.optionalKey(StateDetailsJson),
  data: Schema.optionalKey(DataJson)
})

/**
 * The JSON of a {@link StateCreate}: the keys `type`, `name`, `message`,
 * `state_details`, `data`, in that order.
 *
 * @category models
 * @since 0.1.0
 */
export type StateCreateEncoded = typeof StateCreateFields.Encoded

const isStateCreate = (u: unknown): u is StateCreate =>
  typeof u === "object" && u !== null && StateType.isStateType((u as { type?: unknown }).type) &&
  typeof (u as { name?: unknown }).name === "string" && "stateDetails" in u && "data" in u

const StateCreateType = Schema.declare<StateCreate>(isStateCreate, { expected: "StateCreate" })

const withScheduledTime = (
  type: StateType.StateType,
  details: StateDetails.StateDetails,
  now: number
): StateDetails.StateDetails =>
  type === "SCHEDULED" && details.scheduledTime === null
    ? StateDetails.update(details, { scheduledTime: DateTime.makeUnsafe(now) })
    : details

const StateCreateBody = StateCreateFields.pipe(
  Schema.decodeTo(StateCreateType, {
    decode: SchemaGetter.transformEffect((f: typeof StateCreateFields.Type) =>
      Effect.map(Clock.currentTimeMillis, (now): StateCreate => ({
        type: f.type,
        name: f.name ?? StateType.defaultName(f.type),
        message: f.message ?? null,
        stateDetails: withScheduledTime(f.type, f.state_details ?? StateDetails.empty, now),
        data: f.data ?? null
      }))
    ),
    encode: SchemaGetter.transform((c: StateCreate): typeof StateCreateFields.Type => ({
      type: c.type,
      name: c.name,
      message: c.message,
      state_details: c.stateDetails,
      data: c.data
    }))
  })
)

/**
 * Prefect's `StateCreate` ⇄ JSON. Decoding is the server's: unknown keys are
 * rejected (Prefect answers 422), `type` is required, the name defaults from
 * the type, a SCHEDULED proposal without `scheduled_time` gets now (from
 * `Clock`), `data` follows {@link DataJson}. Encoding writes exactly `type`,
 * `name`, `message`, `state_details` (all eighteen keys) and `data`, in that
 * order; metadata in `data` keeps every serializer field (use
 * {@link encodeStateCreate} for the task-run form). The encoded side is any
 * object (its keys are checked); {@link StateCreateEncoded} is what encoding
 * writes.
 *
 * @category schemas
 * @since 0.1.0
 */
export const StateCreate = Schema.Record(Schema.String, Schema.Unknown).pipe(
  Schema.check(onlyStateCreateKeys),
  Schema.decodeTo(StateCreateBody, {
    decode: SchemaGetter.passthrough({ strict: false }),
    encode: SchemaGetter.passthrough({ strict: false })
  })
)

// -----------------------------------------------------------------------------
// StateResponse
// -----------------------------------------------------------------------------

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

const StateType_ = Schema.declare<State.State<unknown>>(State.isState, { expected: "State" })

/**
 * A state from the API ⇄ JSON. Decoding accepts the server shape and the
 * client shape, ignores unknown keys, requires a known `type` (an unknown type
 * fails; any `name` is accepted), decodes `timestamp` with microseconds
 * (truncated to milliseconds) or as a Unix timestamp and builds a runstate
 * `State` with `State.make`, applying Prefect's defaults: the name from the
 * type, now (from `Clock`) as the scheduled time of a SCHEDULED state without
 * one and as a missing timestamp; `id` is kept. Encoding writes the server
 * shape (`id, type, name, timestamp, message, data, state_details`;
 * `created`/`updated` are not part of it).
 *
 * @category schemas
 * @since 0.1.0
 */
export const StateResponse = StateResponseFields.pipe(
  Schema.decodeTo(StateType_, {
    decode: SchemaGetter.transformEffect((f: typeof StateResponseFields.Type) =>
      Clock.clockWith((clock) => {
        const now = () => clock.currentTimeMillisUnsafe()
        const details = f.state_details ?? StateDetails.empty
        return Effect.succeed(State.make({
          type: f.type,
          name: f.name ?? null,
          message: f.message ?? null,
          stateDetails: withScheduledTime(f.type, details, f.type === "SCHEDULED" ? now() : 0),
          data: f.data ?? null,
          id: f.id,
          timestamp: f.timestamp === undefined ? new Date(now()) : f.timestamp,
          created: f.created ?? null,
          updated: f.updated ?? null
        }))
      })
    ),
    encode: SchemaGetter.transform((s: State.State<unknown>): typeof StateResponseFields.Type => ({
      id: s.id,
      type: s.type,
      name: s.name,
      timestamp: s.timestamp,
      message: s.message,
      data: s.data as StateData,
      state_details: s.stateDetails
    }))
  })
)

/**
 * A state as the API returns it. The server's shape has the keys `id, type,
 * name, timestamp, message, data, state_details`; the client's model dump
 * adds `created` and `updated`. Only `type` is required (the rest take
 * Prefect's defaults).
 *
 * @category models
 * @since 0.1.0
 */
export type StateResponseEncoded = typeof StateResponse.Encoded

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

const reason = Schema.NullOr(Schema.String).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null)))

/**
 * The `details` of an orchestration result ⇄ JSON (`delay_seconds` ⇄
 * `delaySeconds`; a missing `reason` is `null`).
 *
 * @category schemas
 * @since 0.1.0
 */
export const OrchestrationDetailsJson = Schema.Union([
  Schema.Struct({ type: Schema.Literal("accept_details") }),
  Schema.Struct({ type: Schema.Literal("reject_details"), reason }),
  Schema.Struct({ type: Schema.Literal("abort_details"), reason }),
  Schema.Struct({ type: Schema.Literal("wait_details"), delaySeconds: Schema.Int, reason }).pipe(
    Schema.encodeKeys({ delaySeconds: "delay_seconds" })
  )
])

/**
 * The details of an orchestration result, by `type`.
 *
 * @category models
 * @since 0.1.0
 */
export type OrchestrationDetails = typeof OrchestrationDetailsJson.Type

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
export const OrchestrationResult = Schema.Struct({
  state: Schema.NullOr(StateResponse).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  status: Schema.Literals(["ACCEPT", "REJECT", "ABORT", "WAIT"]),
  details: OrchestrationDetailsJson
})

/**
 * The answer of `set_state`: the state the server holds now (or `null`), the
 * status and its details.
 *
 * @category models
 * @since 0.1.0
 */
export interface OrchestrationResult extends Schema.Schema.Type<typeof OrchestrationResult> {}

/**
 * The JSON of an {@link OrchestrationResult}.
 *
 * @category models
 * @since 0.1.0
 */
export type OrchestrationResultEncoded = typeof OrchestrationResult.Encoded

// -----------------------------------------------------------------------------
// functions
// -----------------------------------------------------------------------------

const toWireError = (codec: string, operation: "decode" | "encode") =>
<A>(
  effect: Effect.Effect<A, Schema.SchemaError>
): Effect.Effect<A, WireError> =>
  effect.pipe(
    Effect.mapError((e) => new WireError({ codec, operation, issue: e.issue })),
    Effect.catchDefect((defect) => Effect.fail(new WireError({ codec, operation, issue: unreadable(defect) })))
  )

const decoder = <A, I>(codec: string, schema: Schema.Codec<A, I>) => {
  const decode = Schema.decodeUnknownEffect(schema)
  const wrap = toWireError(codec, "decode")
  return (u: unknown): Effect.Effect<A, WireError> => wrap(Effect.suspend(() => decode(u)))
}

const encoder = <A, I>(codec: string, schema: Schema.Codec<A, I>) => {
  const encode = Schema.encodeUnknownEffect(schema)
  const wrap = toWireError(codec, "encode")
  return (a: A): Effect.Effect<I, WireError> => wrap(Effect.suspend(() => encode(a)))
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
  if (
    !WireSchemas.isPlainObject(data) || !Object.hasOwn(data, "storage_key") ||
    !WireSchemas.isPlainObject(data.serializer)
  ) return json
  // `Object.fromEntries` defines properties, so a `__proto__` key in the data stays a key
  const out = Object.fromEntries(
    Object.entries(data).map(([key, value]) =>
      [key, key === "serializer" ? { type: (data.serializer as { readonly type: Schema.Json }).type } : value] as const
    )
  )
  return { ...json, data: out }
}

const encodeStateCreateSchema = encoder("StateCreate", StateCreateBody)

// a getter in the data could throw on this second walk: the failure stays a WireError
const encodeStateCreateTypeOnly = (proposal: StateCreate): Effect.Effect<StateCreateEncoded, WireError> =>
  Effect.flatMap(encodeStateCreateSchema(proposal), (json) =>
    Effect.try({
      try: () => typeOnlySerializer(json),
      catch: (defect) => new WireError({ codec: "StateCreate", operation: "encode", issue: unreadable(defect) })
    }))

/**
 * Encodes a proposal (from {@link toStateCreate}) into the JSON object
 * Prefect's `set_state` takes as `state`: exactly `type`, `name`, `message`,
 * `state_details`, `data`. With `serializerFields: "typeOnly"` the serializer
 * inside metadata is reduced to `{"type": ...}`, as Prefect's task-run
 * proposals are. Fails only when the proposal holds something that is not
 * JSON or a malformed UUID. The output is built with property definitions, so
 * a `__proto__` key in the data is a key of the output, never its prototype.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { State, Wire } from "@runstate/core"
 *
 * const body = Wire.encodeStateCreate(Wire.toStateCreate(State.Running())).pipe(
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
    ? encodeStateCreateTypeOnly(proposal)
    : encodeStateCreateSchema(proposal)

type Fast = State.State<unknown> | Effect.Effect<State.State<unknown>, WireError> | typeof bail | typeof needsClock

const fast = (u: unknown, clock: Clock.Clock | undefined): Fast => {
  try {
    return fastStateResponse(u, clock, decodeStateResponseSchema)
  } catch {
    // a hostile input (a throwing getter, a revoked proxy): the schema reports it
    return bail
  }
}

const fastResult = (u: unknown, result: Fast): Effect.Effect<State.State<unknown>, WireError> =>
  result === bail || result === needsClock
    ? decodeStateResponseSchema(u)
    : State.isState(result)
    ? Effect.succeed(result)
    : result

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
  const result = fast(u, undefined)
  return result === needsClock ? Clock.clockWith((clock) => fastResult(u, fast(u, clock))) : fastResult(u, result)
}

const notAnArray = (codec: string) =>
  new WireError({ codec, operation: "decode", issue: invalid("Expected an array of state documents") })

/**
 * Decodes a list of states from the API (the body of Prefect's
 * `GET /flow_run_states/?flow_run_id=...`, or any array of
 * {@link StateResponse} documents) into runstate states, in order. The result
 * and the error are those of `Effect.forEach(docs, decodeStateResponse)` —
 * the first document that does not fit fails the whole list with its
 * `WireError` — but the loop runs without per-document Effect overhead, and
 * `Clock` is read once. A body that is not an array (an error document such
 * as `{"detail": ...}`, `null`) fails with a `WireError`.
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
export const decodeStateResponses = (docs: unknown): Effect.Effect<Array<State.State<unknown>>, WireError> =>
  Clock.clockWith((clock) => {
    let n: number
    try {
      if (!Array.isArray(docs)) return Effect.fail(notAnArray("StateResponses"))
      n = docs.length
    } catch (defect) {
      return Effect.fail(new WireError({ codec: "StateResponses", operation: "decode", issue: unreadable(defect) }))
    }
    const list = docs as ReadonlyArray<unknown>
    const out: Array<State.State<unknown>> = new Array(n)
    const resume = (i: number) => (state: State.State<unknown>) => {
      out[i] = state
      return loop(i + 1)
    }
    const loop = (start: number): Effect.Effect<Array<State.State<unknown>>, WireError> => {
      for (let i = start; i < n; i++) {
        let u: unknown
        try {
          u = list[i]
        } catch (defect) {
          return Effect.fail(new WireError({ codec: "StateResponse", operation: "decode", issue: unreadable(defect) }))
        }
        const result = fast(u, clock)
        if (State.isState(result)) out[i] = result
        else if (result === bail || result === needsClock) {
          return Effect.flatMap(decodeStateResponseSchema(u), resume(i))
        } else return Effect.flatMap(result, resume(i))
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
// proposals
// -----------------------------------------------------------------------------

/**
 * Options of {@link toStateCreate}.
 *
 * @category models
 * @since 0.2.0
 */
export interface ToStateCreateOptions {
  /**
   * Prefect's `should_persist_result()` of the current run context: when true,
   * a record not yet persisted is still sent as metadata. Default `false`.
   */
  readonly shouldPersistResult?: boolean | undefined
}

/**
 * Prefect's `to_state_create`: the proposal to send to `set_state` — the
 * state's `type`, `name`, `message` and `stateDetails` (the same details
 * value: Prefect shares the object and later stamps run ids onto it in place;
 * here details are immutable, so sharing is harmless and stamping makes a new
 * value), and as `data` the metadata of the state's `ResultRecord` only when
 * the record is persisted or `shouldPersistResult` is true; otherwise `null`
 * — also when the data is already metadata, a raw value or an error. No id,
 * no timestamp: the server mints both. Encode it with {@link encodeStateCreate}.
 *
 * @example
 * ```ts
 * import { State, Wire } from "@runstate/core"
 *
 * const proposal = Wire.toStateCreate(State.Completed({ data: 42 }))
 * proposal.data // null: a raw value is never sent
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const toStateCreate = (self: State.State<unknown>, options?: ToStateCreateOptions): StateCreate => {
  const data = self.data
  const record = Predicate.isTagged(data, "ResultRecord") ? data as unknown as ResultRecord.ResultRecord<unknown> : null
  return {
    type: self.type,
    name: self.name,
    message: self.message,
    stateDetails: self.stateDetails,
    data: record !== null && (record.persisted || options?.shouldPersistResult === true) ? record.metadata : null
  }
}

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
