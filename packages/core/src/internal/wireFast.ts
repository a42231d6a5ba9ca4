/**
 * The hand-written hot path of `Wire.decodeStateResponse`: validates a
 * well-formed, plain `StateResponse` document and builds exactly the state the
 * `Wire.StateResponse` schema builds, or answers `bail` ("let the schema
 * decide") as soon as the input is anything else, so the schema stays the
 * reference codec and produces every error. `test/WireFuzz.test.ts` checks
 * the two against each other on random and hostile documents.
 *
 * The detail fields are read with named property reads in one object
 * literal (what keeps this path fast); the compiler holds the literal to the
 * names of the `StateDetails` declaration, and a check when the module loads
 * holds each field's reader to its declared shape (`Field.uuid`,
 * `Field.dateTime`, ...).
 *
 * @internal
 */
import type * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as ResultRecord from "../ResultRecord.ts"
import * as State from "../State.ts"
import * as StateDetails from "../StateDetails.ts"
import * as StateType from "../StateType.ts"
import { register } from "./detailsRegistry.ts"
import { normalizeUuid, parseDateTimeValue } from "./scalars.ts"
import { classifyData, Field, isPlainObject } from "./wireSchemas.ts"

/** "Let the schema decide." */
export const bail: unique symbol = Symbol("bail")
/** The document needs the clock (a missing timestamp, a SCHEDULED state without a time). */
export const needsClock: unique symbol = Symbol("needsClock")

const hasOwn = Object.prototype.hasOwnProperty

// The shape of each detail field, from its schema in the `StateDetails` declaration.
const UUID = 0
const DATETIME = 1
const STRING = 2
const BOOLEAN = 3
const FLAG = 4
const KEYSET = 5

const kinds = new Map<unknown, number>([
  [Field.uuid, UUID],
  [Field.dateTime, DATETIME],
  [Field.string, STRING],
  [Field.boolean, BOOLEAN],
  [Field.flag, FLAG],
  [Field.keyset, KEYSET]
])

const readKeyset = (v: unknown): unknown => {
  if (!isPlainObject(v)) return bail
  const entries: Array<[string, string]> = []
  for (const key in v) {
    if (!hasOwn.call(v, key)) continue
    const value = v[key]
    if (typeof value !== "string") return bail
    entries.push([key, value])
  }
  // `Object.fromEntries` defines properties: a `__proto__` key stays a key
  return Object.freeze(Object.fromEntries(entries))
}

/** A present field's decoded value, or `bail`. */
const read = (kind: number, v: unknown): unknown => {
  switch (kind) {
    case UUID:
      return v === null ? null : typeof v === "string" ? normalizeUuid(v) ?? bail : bail
    case DATETIME: {
      if (v === null) return null
      const ms = parseDateTimeValue(v)
      return Number.isNaN(ms) ? bail : DateTime.makeUnsafe(ms)
    }
    case STRING:
      return v === null || typeof v === "string" ? v : bail
    case BOOLEAN:
      return v === null || typeof v === "boolean" ? v : bail
    case FLAG:
      return typeof v === "boolean" ? v : bail
    default:
      return v === null ? null : readKeyset(v)
  }
}

/** Thrown by a field reader to bail out of the whole document (the caller catches it). */
class Bail {}

/** A detail field: its value, the default when the key is absent, or a throw of `Bail`. */
const field = (v: unknown, u: object, key: string, kind: number): unknown => {
  if (v === undefined) {
    // an own key holding `undefined` is not JSON: the schema reports it
    if (hasOwn.call(u, key)) throw new Bail()
    return kind === FLAG ? false : null
  }
  const value = read(kind, v)
  if (value === bail) throw new Bail()
  return value
}

type DetailsJson = { readonly [K in keyof StateDetails.StateDetails as StateDetails.SnakeCase<K>]?: unknown }

// Named reads in one literal keep this path fast; the compiler holds the literal to the
// declaration's names (camelCase and snake_case), and `shapesMatch` below to its shapes.
const readDetails = (u: DetailsJson): StateDetails.StateDetails => ({
  flowRunId: field(u.flow_run_id, u, "flow_run_id", UUID) as string | null,
  taskRunId: field(u.task_run_id, u, "task_run_id", UUID) as string | null,
  childFlowRunId: field(u.child_flow_run_id, u, "child_flow_run_id", UUID) as string | null,
  scheduledTime: field(u.scheduled_time, u, "scheduled_time", DATETIME) as DateTime.Utc | null,
  cacheKey: field(u.cache_key, u, "cache_key", STRING) as string | null,
  cacheExpiration: field(u.cache_expiration, u, "cache_expiration", DATETIME) as DateTime.Utc | null,
  deferred: field(u.deferred, u, "deferred", BOOLEAN) as boolean | null,
  untrackableResult: field(u.untrackable_result, u, "untrackable_result", FLAG) as boolean,
  pauseTimeout: field(u.pause_timeout, u, "pause_timeout", DATETIME) as DateTime.Utc | null,
  pauseReschedule: field(u.pause_reschedule, u, "pause_reschedule", FLAG) as boolean,
  pauseKey: field(u.pause_key, u, "pause_key", STRING) as string | null,
  runInputKeyset: field(
    u.run_input_keyset,
    u,
    "run_input_keyset",
    KEYSET
  ) as StateDetails.StateDetails["runInputKeyset"],
  refreshCache: field(u.refresh_cache, u, "refresh_cache", BOOLEAN) as boolean | null,
  retriable: field(u.retriable, u, "retriable", BOOLEAN) as boolean | null,
  transitionId: field(u.transition_id, u, "transition_id", UUID) as string | null,
  taskParametersId: field(u.task_parameters_id, u, "task_parameters_id", UUID) as string | null,
  traceparent: field(u.traceparent, u, "traceparent", STRING) as string | null,
  deploymentConcurrencyLeaseId: field(
    u.deployment_concurrency_lease_id,
    u,
    "deployment_concurrency_lease_id",
    UUID
  ) as string | null
})

// The shapes in `readDetails` are checked against the declaration when this module loads:
// for each field, values its declared shape accepts must pass and values it rejects must not.
// The probes tell the six shapes apart.
const probes: ReadonlyArray<readonly [accepted: ReadonlyArray<unknown>, rejected: ReadonlyArray<unknown>]> = [
  [["0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70", null], ["x", 0]], // UUID
  [[0, null], ["x"]], // DATETIME
  [["x", null], [0]], // STRING
  [[true, null], ["x"]], // BOOLEAN
  [[true], [null]], // FLAG
  [[{}, null], ["x"]] // KEYSET
]

const accepts = (key: string, value: unknown): boolean => {
  try {
    readDetails({ [key]: value })
    return true
  } catch {
    return false
  }
}

for (const name of StateDetails.fields) {
  const kind = kinds.get(StateDetails.schema.fields[name])
  if (kind === undefined) throw new Error(`StateDetails.${name}: no fast reader for its shape`)
  const key = StateDetails.jsonKeys[name]
  const [accepted, rejected] = probes[kind]!
  if (!accepted.every((v) => accepts(key, v)) || rejected.some((v) => accepts(key, v))) {
    throw new Error(`StateDetails.${name}: the fast reader does not match its declared shape`)
  }
}

const fastDetails = (u: unknown): StateDetails.StateDetails | typeof bail => {
  if (!isPlainObject(u)) return bail
  try {
    return readDetails(u)
  } catch (e) {
    if (e instanceof Bail) return bail
    throw e
  }
}

/**
 * Complete details as `StateDetails.make` would return them: the shared empty
 * value when every field holds its default, else the same object, frozen and
 * registered (so `State.make` takes it without a copy).
 */
const adopt = (details: StateDetails.StateDetails): StateDetails.StateDetails => {
  const fields = StateDetails.fields
  for (let i = 0; i < fields.length; i++) {
    if (details[fields[i]!] !== StateDetails.empty[fields[i]!]) return register(details)
  }
  return StateDetails.empty
}

const own = (o: Record<string, unknown>, key: string): unknown => {
  const v = o[key]
  return v === undefined && hasOwn.call(o, key) ? bail : v
}

const optionalDateTime = (v: unknown): DateTime.Utc | null | undefined | typeof bail => {
  if (v === undefined || v === null) return v
  const ms = parseDateTimeValue(v)
  return Number.isNaN(ms) ? bail : DateTime.makeUnsafe(ms)
}

/**
 * Decodes a plain, valid `StateResponse` document. `clock` is read only when
 * the document needs it; without one such a document answers `needsClock`.
 * A document whose data is result-record metadata answers an Effect, whose
 * failure is that of `fallback` (the schema's decoder) on the same document.
 * May throw on a hostile input (a throwing getter): the caller catches.
 */
export const fastStateResponse = <E>(
  u: unknown,
  clock: Clock.Clock | undefined,
  fallback: (u: unknown) => Effect.Effect<State.State<unknown>, E>
): State.State<unknown> | Effect.Effect<State.State<unknown>, E> | typeof bail | typeof needsClock => {
  if (!isPlainObject(u)) return bail
  const type = own(u, "type")
  if (!StateType.isStateType(type)) return bail
  const rawId = own(u, "id")
  let id: string | undefined
  if (rawId !== undefined) {
    if (typeof rawId !== "string") return bail
    id = normalizeUuid(rawId)
    if (id === undefined) return bail
  }
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
    timestamp = parseDateTimeValue(rawTimestamp)
    if (Number.isNaN(timestamp)) return bail
  }
  const created = optionalDateTime(own(u, "created"))
  if (created === bail) return bail
  const updated = optionalDateTime(own(u, "updated"))
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
    details = { ...details, scheduledTime: DateTime.makeUnsafe(clock.currentTimeMillisUnsafe()) }
  }
  if (details !== StateDetails.empty) details = adopt(details)
  const data = own(u, "data")
  if (data === bail) return bail
  const kind = data === undefined || data === null ? "json" : classifyData(data)
  if (kind === "invalid") return bail
  const build = (value: unknown) =>
    State.make({
      type,
      name,
      message,
      stateDetails: details,
      data: value,
      id,
      timestamp: new Date(timestamp),
      created,
      updated
    })
  if (kind === "metadata") {
    return Effect.matchEffect(ResultRecord.metadataFromJson(data), {
      onFailure: () => fallback(u),
      onSuccess: (metadata) => Effect.succeed(build(metadata))
    })
  }
  return build(kind === "json" && data !== undefined ? data : null)
}
