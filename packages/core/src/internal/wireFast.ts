/**
 * The hand-written hot path of `Wire.decodeStateResponse`: validates a
 * well-formed, plain `StateResponse` document and builds exactly the state the
 * `Wire.StateResponse` schema builds, or answers `bail` ("let the schema
 * decide") as soon as the input is anything else, so the schema stays the
 * reference codec and produces every error. `test/WireFuzz.test.ts` checks
 * the two against each other on random and hostile documents.
 *
 * The detail fields are read from the `StateDetails` declaration: each
 * field's shape (`Field.uuid`, `Field.dateTime`, ...) picks its reader.
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
import { normalizeUuid, parseDateTimeValue } from "./scalars.ts"
import { classifyData, Field, isPlainObject } from "./wireSchemas.ts"

/** "Let the schema decide." */
export const bail: unique symbol = Symbol("bail")
/** The document needs the clock (a missing timestamp, a SCHEDULED state without a time). */
export const needsClock: unique symbol = Symbol("needsClock")

const hasOwn = Object.prototype.hasOwnProperty

/** A field reader: the decoded value, the default when the key is absent, or `bail`. */
type Reader = (v: unknown) => unknown

const nullable = (read: (v: unknown) => unknown): Reader => (v) => v === null ? null : read(v)

const readUuid: Reader = nullable((v) => typeof v === "string" ? normalizeUuid(v) ?? bail : bail)

const readDateTime: Reader = nullable((v) => {
  const ms = parseDateTimeValue(v)
  return Number.isNaN(ms) ? bail : DateTime.makeUnsafe(ms)
})

const readString: Reader = (v) => v === null || typeof v === "string" ? v : bail

const readBoolean: Reader = (v) => v === null || typeof v === "boolean" ? v : bail

const readFlag: Reader = (v) => typeof v === "boolean" ? v : bail

const readKeyset: Reader = (v) => {
  if (v === null) return v
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

const readers = new Map<unknown, Reader>([
  [Field.uuid, readUuid],
  [Field.dateTime, readDateTime],
  [Field.string, readString],
  [Field.boolean, readBoolean],
  [Field.flag, readFlag],
  [Field.keyset, readKeyset]
])

interface DetailField {
  readonly name: string
  readonly key: string
  readonly read: Reader
  readonly fallback: unknown
}

const detailFields: ReadonlyArray<DetailField> = StateDetails.fields.map((name) => {
  const read = readers.get(StateDetails.schema.fields[name])
  if (read === undefined) throw new Error(`StateDetails.${name}: no fast reader for its shape`)
  return { name, key: StateDetails.jsonKeys[name], read, fallback: StateDetails.empty[name] }
})

const fastDetails = (u: unknown): StateDetails.Input | typeof bail => {
  if (!isPlainObject(u)) return bail
  const out: Record<string, unknown> = {}
  for (let i = 0; i < detailFields.length; i++) {
    const field = detailFields[i]!
    const v = u[field.key]
    let value: unknown
    if (v === undefined) {
      // an own key holding `undefined` is not JSON: the schema reports it
      if (hasOwn.call(u, field.key)) return bail
      value = field.fallback
    } else {
      value = field.read(v)
      if (value === bail) return bail
    }
    out[field.name] = value
  }
  return out as StateDetails.Input
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
  let details: StateDetails.Input = StateDetails.empty
  if (rawDetails !== undefined) {
    const d = fastDetails(rawDetails)
    if (d === bail) return bail
    details = d
  }
  if (type === "SCHEDULED" && (details.scheduledTime ?? null) === null) {
    if (clock === undefined) return needsClock
    details = { ...details, scheduledTime: DateTime.makeUnsafe(clock.currentTimeMillisUnsafe()) }
  }
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
