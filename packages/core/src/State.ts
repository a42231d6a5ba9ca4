/**
 * A run's state: one of Prefect's nine state types, a name (`Completed`, or a
 * named sub-state such as `Late`, `AwaitingRetry`, `Retrying`), a timestamp, an
 * optional message, {@link StateDetails} and data (a value, a result record, or
 * an error). States are immutable tagged values: `_tag` is the PascalCase type
 * (`"Completed"`), `type` holds Prefect's `StateType`. Equality and hashing are
 * structural and ignore `id`, `created` and `updated`, as Prefect's do.
 *
 * Constructors are plain synchronous functions, one per Prefect constructor,
 * with Prefect's defaults and rules; conflicting arguments are type errors where
 * TypeScript can tell, and otherwise throw an `InvalidState` carrying Prefect's
 * exact message.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as Inspectable from "effect/Inspectable"
import { dual } from "effect/Function"
import { pipeArguments, type Pipeable } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import { repr, reprString } from "./internal/pyrepr.ts"
import { StateMarker } from "./internal/stateMarker.ts"
import { traceparentOf } from "./internal/trace.ts"
import * as Uuid from "./internal/uuid.ts"
import { InvalidState } from "./RunError.ts"
import * as StateDetails from "./StateDetails.ts"
import * as StateType from "./StateType.ts"

/**
 * @category type ids
 * @since 0.1.0
 */
export const TypeId: TypeId = "~@runstate/core/State"

/**
 * @category type ids
 * @since 0.1.0
 */
export type TypeId = "~@runstate/core/State"

/**
 * The `_tag` of each state type: its PascalCase name.
 *
 * @category models
 * @since 0.1.0
 */
export interface Tags {
  readonly SCHEDULED: "Scheduled"
  readonly PENDING: "Pending"
  readonly RUNNING: "Running"
  readonly COMPLETED: "Completed"
  readonly FAILED: "Failed"
  readonly CANCELLED: "Cancelled"
  readonly CRASHED: "Crashed"
  readonly PAUSED: "Paused"
  readonly CANCELLING: "Cancelling"
}

/**
 * The fields every state has.
 *
 * @category models
 * @since 0.1.0
 */
export interface Proto<T extends StateType.StateType, A> extends Pipeable, Equal.Equal, Inspectable.Inspectable {
  readonly [TypeId]: TypeId
  readonly _tag: Tags[T]
  readonly type: T
  /** A UUIDv7 (time-ordered). Assigned on first read unless given. Not part of equality. */
  readonly id: string
  /** Set by the server; `null` on states built here. Not part of equality. */
  readonly created: DateTime.Utc | null
  /** Set by the server; `null` on states built here. Not part of equality. */
  readonly updated: DateTime.Utc | null
  readonly name: string
  readonly timestamp: DateTime.Utc
  readonly message: string | null
  readonly stateDetails: StateDetails.StateDetails
  readonly data: A
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Scheduled<A = unknown> extends Proto<"SCHEDULED", A> {}
/**
 * @category models
 * @since 0.1.0
 */
export interface Pending<A = unknown> extends Proto<"PENDING", A> {}
/**
 * @category models
 * @since 0.1.0
 */
export interface Running<A = unknown> extends Proto<"RUNNING", A> {}
/**
 * @category models
 * @since 0.1.0
 */
export interface Completed<A = unknown> extends Proto<"COMPLETED", A> {}
/**
 * @category models
 * @since 0.1.0
 */
export interface Failed<A = unknown> extends Proto<"FAILED", A> {}
/**
 * @category models
 * @since 0.1.0
 */
export interface Cancelled<A = unknown> extends Proto<"CANCELLED", A> {}
/**
 * @category models
 * @since 0.1.0
 */
export interface Crashed<A = unknown> extends Proto<"CRASHED", A> {}
/**
 * @category models
 * @since 0.1.0
 */
export interface Paused<A = unknown> extends Proto<"PAUSED", A> {}
/**
 * @category models
 * @since 0.1.0
 */
export interface Cancelling<A = unknown> extends Proto<"CANCELLING", A> {}

/**
 * A Prefect state: the tagged union of the nine state types.
 *
 * @category models
 * @since 0.1.0
 */
export type State<A = unknown> =
  | Scheduled<A>
  | Pending<A>
  | Running<A>
  | Completed<A>
  | Failed<A>
  | Cancelled<A>
  | Crashed<A>
  | Paused<A>
  | Cancelling<A>

/**
 * The state variant of a given type.
 *
 * @category models
 * @since 0.1.0
 */
export type OfType<T extends StateType.StateType, A = unknown> = Extract<State<A>, { readonly type: T }>

/**
 * @category models
 * @since 0.1.0
 */
export declare namespace State {
  /**
   * The data type of a state.
   *
   * @since 0.1.0
   */
  export type Data<S> = S extends Proto<any, infer A> ? A : never
}

/**
 * A timestamp as constructors accept it: an Effect `DateTime.Utc` or a JS `Date`.
 *
 * @category models
 * @since 0.1.0
 */
export type TimestampInput = DateTime.Utc | Date

/**
 * The options every constructor takes.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options<A> {
  readonly message?: string | null | undefined
  readonly name?: string | null | undefined
  readonly data?: A | undefined
  readonly stateDetails?: StateDetails.Input | StateDetails.StateDetails | undefined
  readonly timestamp?: TimestampInput | undefined
  readonly id?: string | undefined
  readonly created?: TimestampInput | null | undefined
  readonly updated?: TimestampInput | null | undefined
}

/**
 * Options of the fixed-name constructors (`Late`, `Retrying`, ...): `name` is theirs.
 *
 * @category models
 * @since 0.1.0
 */
export type FixedNameOptions<A> = Omit<Options<A>, "name"> & { readonly name?: never }

/**
 * Options of `Scheduled` and its named variants. Passing `scheduledTime` both
 * as an argument and inside `stateDetails` is a type error (and Prefect's
 * `An extra scheduled_time was provided in state_details` at run time).
 *
 * @category models
 * @since 0.1.0
 */
export type ScheduledOptions<A> =
  | (Options<A> & {
    readonly scheduledTime: TimestampInput
    readonly stateDetails?:
      | (StateDetails.Input & { readonly scheduledTime?: null | undefined })
      | StateDetails.StateDetails
      | undefined
  })
  | (Options<A> & { readonly scheduledTime?: null | undefined })

/**
 * Options of `Paused`. `timeoutSeconds` and `pauseExpirationTime` exclude each
 * other (a type error here, Prefect's `Cannot supply both a
 * pause_expiration_time and timeout_seconds` at run time).
 *
 * @category models
 * @since 0.1.0
 */
export type PausedOptions<A> =
  & Options<A>
  & {
    readonly reschedule?: boolean | undefined
    readonly pauseKey?: string | null | undefined
  }
  & (
    | { readonly timeoutSeconds: number; readonly pauseExpirationTime?: null | undefined }
    | { readonly pauseExpirationTime: TimestampInput; readonly timeoutSeconds?: null | undefined }
    | { readonly timeoutSeconds?: null | undefined; readonly pauseExpirationTime?: null | undefined }
  )

/**
 * Options of `make`: any state type plus the usual options.
 *
 * @category models
 * @since 0.1.0
 */
export interface MakeOptions<T extends StateType.StateType, A> extends Options<A> {
  readonly type: T
}

// -----------------------------------------------------------------------------
// implementation
// -----------------------------------------------------------------------------

const tags: Tags = {
  SCHEDULED: "Scheduled",
  PENDING: "Pending",
  RUNNING: "Running",
  COMPLETED: "Completed",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
  CRASHED: "Crashed",
  PAUSED: "Paused",
  CANCELLING: "Cancelling"
}

interface Internal {
  _tag: string
  type: StateType.StateType
  name: string
  _ts: number
  _tsCache: DateTime.Utc | undefined
  message: string | null
  stateDetails: StateDetails.StateDetails
  data: unknown
  _id: string | undefined
  created: DateTime.Utc | null
  updated: DateTime.Utc | null
}

const StateProto = {
  [TypeId]: TypeId,
  get id(): string {
    const self = this as unknown as Internal
    return self._id ??= Uuid.v7(self._ts)
  },
  get timestamp(): DateTime.Utc {
    const self = this as unknown as Internal
    return self._tsCache ??= DateTime.makeUnsafe(self._ts)
  },
  [Equal.symbol](this: Internal, that: unknown): boolean {
    if (!isState(that)) return false
    const other = that as unknown as Internal
    return this.type === other.type &&
      this.name === other.name &&
      this._ts === other._ts &&
      this.message === other.message &&
      (this.stateDetails === other.stateDetails || Equal.equals(this.stateDetails, other.stateDetails)) &&
      Equal.equals(this.data, other.data)
  },
  [Hash.symbol](this: Internal): number {
    let h = Hash.string(this.type)
    h = Hash.combine(h)(Hash.number(this._ts))
    if (this.stateDetails.flowRunId !== null) h = Hash.combine(h)(Hash.string(this.stateDetails.flowRunId))
    if (this.stateDetails.taskRunId !== null) h = Hash.combine(h)(Hash.string(this.stateDetails.taskRunId))
    return h
  },
  pipe() {
    return pipeArguments(this, arguments)
  },
  toJSON(this: Internal & { id: string; timestamp: DateTime.Utc }) {
    return {
      _id: "State",
      _tag: this._tag,
      id: this.id,
      type: this.type,
      name: this.name,
      timestamp: DateTime.formatIso(this.timestamp),
      message: this.message,
      stateDetails: this.stateDetails,
      data: Inspectable.toJson(this.data)
    }
  },
  toString(this: State) {
    return format(this)
  },
  [Inspectable.NodeInspectSymbol](this: { toJSON(): unknown }) {
    return this.toJSON()
  }
}

// For a fast `isState`: `instanceof` walks a state's prototype chain in a few
// pointer loads, while the property lookup behind `hasProperty` is megamorphic
// across the nine state classes. Objects that carry the type id some other way
// still answer through the property check.
StateMarker.prototype = StateProto

// One class per type so that V8 allocates every state with one stable shape.
const makeClass = (type: StateType.StateType) => {
  const tag = tags[type]
  function S(
    this: Internal,
    name: string,
    ts: number,
    message: string | null,
    details: StateDetails.StateDetails,
    data: unknown,
    id: string | undefined,
    created: DateTime.Utc | null,
    updated: DateTime.Utc | null
  ) {
    this._tag = tag
    this.type = type
    this.name = name
    this._ts = ts
    this._tsCache = undefined
    this.message = message
    this.stateDetails = details
    this.data = data
    this._id = id
    this.created = created
    this.updated = updated
  }
  S.prototype = Object.create(StateProto)
  return S as unknown as new(
    name: string,
    ts: number,
    message: string | null,
    details: StateDetails.StateDetails,
    data: unknown,
    id: string | undefined,
    created: DateTime.Utc | null,
    updated: DateTime.Utc | null
  ) => State<unknown>
}

const classes: Record<StateType.StateType, ReturnType<typeof makeClass>> = {
  SCHEDULED: makeClass("SCHEDULED"),
  PENDING: makeClass("PENDING"),
  RUNNING: makeClass("RUNNING"),
  COMPLETED: makeClass("COMPLETED"),
  FAILED: makeClass("FAILED"),
  CANCELLED: makeClass("CANCELLED"),
  CRASHED: makeClass("CRASHED"),
  PAUSED: makeClass("PAUSED"),
  CANCELLING: makeClass("CANCELLING")
}

const toMillis = (input: TimestampInput, field: string): number => {
  if (input instanceof Date) {
    const ms = input.getTime()
    if (Number.isNaN(ms)) throw new InvalidState({ message: `Invalid ${field}: the Date is invalid (NaN).` })
    return ms
  }
  if (DateTime.isDateTime(input)) {
    if (!DateTime.isUtc(input)) {
      throw new InvalidState({
        message: `Invalid ${field}: expected a UTC DateTime, got a zoned DateTime (${
          DateTime.formatIsoZoned(input)
        }); convert it with DateTime.toUtc.`
      })
    }
    if (!Number.isFinite(input.epochMilliseconds)) {
      throw new InvalidState({ message: `Invalid ${field}: the DateTime is invalid.` })
    }
    return input.epochMilliseconds
  }
  throw new InvalidState({
    message: `Invalid ${field}: expected a DateTime.Utc or a Date, got ${repr(input)}.`
  })
}

const toUtc = (input: TimestampInput | null | undefined, field: string): DateTime.Utc | null => {
  if (input === null || input === undefined) return null
  if (DateTime.isDateTime(input) && DateTime.isUtc(input)) {
    toMillis(input, field)
    return input
  }
  return DateTime.makeUnsafe(toMillis(input, field))
}

const unpersisted = (data: unknown): unknown =>
  data !== null && typeof data === "object" && (data as { type?: unknown }).type === "unpersisted" &&
    Object.getPrototypeOf(data) === Object.prototype
    ? null
    : data

const build = (
  type: StateType.StateType,
  options: Options<unknown> | undefined,
  details: StateDetails.StateDetails,
  fixedName?: string
): State<unknown> => {
  const name = fixedName ?? (options?.name == null ? StateType.defaultName(type) : options.name)
  const ts = options?.timestamp === undefined ? Date.now() : toMillis(options.timestamp, "timestamp")
  const Ctor = classes[type]
  return new Ctor(
    name,
    ts,
    options?.message ?? null,
    details,
    options?.data === undefined ? null : unpersisted(options.data),
    options?.id,
    options?.created == null ? null : toUtc(options.created, "created"),
    options?.updated == null ? null : toUtc(options.updated, "updated")
  )
}

const detailsOf = (options: Options<unknown> | undefined): StateDetails.StateDetails =>
  options?.stateDetails === undefined ? StateDetails.empty : StateDetails.make(options.stateDetails)

const scheduled = (options: ScheduledOptions<unknown> | undefined, fixedName?: string): State<unknown> => {
  let details = detailsOf(options)
  const scheduledTime = options?.scheduledTime
  if (scheduledTime == null) {
    // Prefect's quirk: without an argument, "now" overwrites a scheduled time given in the details.
    details = StateDetails.update(details, { scheduledTime: DateTime.makeUnsafe(Date.now()) })
  } else {
    if (details.scheduledTime !== null) {
      throw new InvalidState({ message: "An extra scheduled_time was provided in state_details" })
    }
    details = StateDetails.update(details, { scheduledTime: toUtc(scheduledTime, "scheduledTime") })
  }
  return build("SCHEDULED", options, details, fixedName)
}

const paused = (options: PausedOptions<unknown> | undefined, reschedule: boolean, fixedName?: string) => {
  const details = detailsOf(options)
  if (details.pauseTimeout !== null) {
    throw new InvalidState({ message: "An extra pause timeout was provided in state_details" })
  }
  const o = options as
    | (Options<unknown> & {
      timeoutSeconds?: number | null
      pauseExpirationTime?: TimestampInput | null
      pauseKey?: string | null
    })
    | undefined
  const timeoutSeconds = o?.timeoutSeconds ?? null
  const expiration = o?.pauseExpirationTime ?? null
  if (timeoutSeconds !== null && expiration !== null) {
    throw new InvalidState({ message: "Cannot supply both a pause_expiration_time and timeout_seconds" })
  }
  let pauseTimeout: DateTime.Utc | null = null
  if (expiration !== null) {
    pauseTimeout = toUtc(expiration, "pauseExpirationTime")
  } else if (timeoutSeconds !== null) {
    if (!Number.isFinite(timeoutSeconds)) {
      throw new InvalidState({ message: `Invalid timeoutSeconds: expected a finite number, got ${timeoutSeconds}.` })
    }
    pauseTimeout = DateTime.makeUnsafe(Date.now() + timeoutSeconds * 1000)
  }
  const next = StateDetails.make({
    ...details,
    pauseTimeout,
    pauseReschedule: reschedule,
    pauseKey: o?.pauseKey ?? null
  })
  return build("PAUSED", options, next, fixedName)
}

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/**
 * A SCHEDULED state. `scheduledTime` defaults to now and is stored in
 * `stateDetails.scheduledTime`.
 *
 * Prefect's rules: without `scheduledTime`, now overwrites a scheduled time
 * given inside `stateDetails`; with both, throws `InvalidState`
 * (`An extra scheduled_time was provided in state_details`).
 *
 * @example
 * ```ts
 * import { State } from "@runstate/core"
 *
 * const state = State.Scheduled({ scheduledTime: new Date("2030-01-01T00:00:00Z") })
 * State.format(state) // "Scheduled()"
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const Scheduled = <A = null>(options?: ScheduledOptions<A>): Scheduled<A> =>
  scheduled(options as ScheduledOptions<unknown>) as Scheduled<A>

/**
 * A PENDING state.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Pending = <A = null>(options?: Options<A>): Pending<A> =>
  build("PENDING", options, detailsOf(options)) as Pending<A>

/**
 * A RUNNING state.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Running = <A = null>(options?: Options<A>): Running<A> =>
  build("RUNNING", options, detailsOf(options)) as Running<A>

/**
 * A COMPLETED state.
 *
 * @example
 * ```ts
 * import { State } from "@runstate/core"
 *
 * const state = State.Completed({ data: 42, message: "ok" })
 * State.format(state) // "Completed('ok')"
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const Completed = <A = null>(options?: Options<A>): Completed<A> =>
  build("COMPLETED", options, detailsOf(options)) as Completed<A>

/**
 * A FAILED state.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Failed = <A = null>(options?: Options<A>): Failed<A> =>
  build("FAILED", options, detailsOf(options)) as Failed<A>

/**
 * A CRASHED state.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Crashed = <A = null>(options?: Options<A>): Crashed<A> =>
  build("CRASHED", options, detailsOf(options)) as Crashed<A>

/**
 * A CANCELLING state.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Cancelling = <A = null>(options?: Options<A>): Cancelling<A> =>
  build("CANCELLING", options, detailsOf(options)) as Cancelling<A>

/**
 * A CANCELLED state.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Cancelled = <A = null>(options?: Options<A>): Cancelled<A> =>
  build("CANCELLED", options, detailsOf(options)) as Cancelled<A>

/**
 * A PAUSED state. `timeoutSeconds` (from now) or `pauseExpirationTime` set
 * `stateDetails.pauseTimeout`; `reschedule` and `pauseKey` always overwrite the
 * details' `pauseReschedule` / `pauseKey` (with `false` / `null` when omitted).
 *
 * Throws `InvalidState` with Prefect's texts when `stateDetails.pauseTimeout` is
 * already set (`An extra pause timeout was provided in state_details`) or when
 * both timeouts are given at run time.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Paused = <A = null>(options?: PausedOptions<A>): Paused<A> =>
  paused(options as PausedOptions<unknown>, options?.reschedule ?? false) as Paused<A>

/**
 * A PAUSED state named `Suspended`: `Paused` with `reschedule: true`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Suspended = <A = null>(
  options?: Omit<PausedOptions<A>, "name" | "reschedule"> & { readonly name?: never; readonly reschedule?: never }
): Paused<A> => paused(options as PausedOptions<unknown>, true, "Suspended") as Paused<A>

/**
 * A SCHEDULED state named `AwaitingRetry`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const AwaitingRetry = <A = null>(
  options?: ScheduledOptions<A> & { readonly name?: never }
): Scheduled<A> => scheduled(options as ScheduledOptions<unknown>, "AwaitingRetry") as Scheduled<A>

/**
 * A SCHEDULED state named `AwaitingConcurrencySlot`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const AwaitingConcurrencySlot = <A = null>(
  options?: ScheduledOptions<A> & { readonly name?: never }
): Scheduled<A> => scheduled(options as ScheduledOptions<unknown>, "AwaitingConcurrencySlot") as Scheduled<A>

/**
 * A SCHEDULED state named `Late`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Late = <A = null>(options?: ScheduledOptions<A> & { readonly name?: never }): Scheduled<A> =>
  scheduled(options as ScheduledOptions<unknown>, "Late") as Scheduled<A>

/**
 * A PENDING state named `Submitting`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Submitting = <A = null>(options?: FixedNameOptions<A>): Pending<A> =>
  build("PENDING", options, detailsOf(options), "Submitting") as Pending<A>

/**
 * A PENDING state named `InfrastructurePending`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const InfrastructurePending = <A = null>(options?: FixedNameOptions<A>): Pending<A> =>
  build("PENDING", options, detailsOf(options), "InfrastructurePending") as Pending<A>

/**
 * A RUNNING state named `Retrying`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const Retrying = <A = null>(options?: FixedNameOptions<A>): Running<A> =>
  build("RUNNING", options, detailsOf(options), "Retrying") as Running<A>

/**
 * Builds a state of any type, as Prefect's `State(type=...)` does: the name
 * defaults from the type (an empty string is kept), a SCHEDULED state without
 * a scheduled time gets now, and `{ type: "unpersisted" }` data becomes `null`.
 * An unknown type throws `InvalidState` (`'FOO' is not a valid StateType`).
 *
 * @example
 * ```ts
 * import { State } from "@runstate/core"
 *
 * const state = State.make({ type: "CRASHED", message: "boom" })
 * State.inspect(state) // "Crashed(message='boom', type=CRASHED, result=None)"
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <T extends StateType.StateType, A = null>(options: MakeOptions<T, A>): OfType<T, A> => {
  const type: unknown = (options as { type?: unknown } | undefined)?.type
  if (!StateType.isStateType(type)) {
    throw new InvalidState({ message: `${repr(type)} is not a valid StateType` })
  }
  let details = detailsOf(options)
  if (type === "SCHEDULED" && details.scheduledTime === null) {
    details = StateDetails.update(details, { scheduledTime: DateTime.makeUnsafe(Date.now()) })
  }
  return build(type, options, details) as OfType<T, A>
}

// -----------------------------------------------------------------------------
// guards and predicates
// -----------------------------------------------------------------------------

/**
 * Tells whether a value is a runstate state.
 *
 * @category guards
 * @since 0.1.0
 */
export const isState = (u: unknown): u is State<unknown> => u instanceof StateMarker || Predicate.hasProperty(u, TypeId)

/**
 * @category predicates
 * @since 0.1.0
 */
export const isScheduled = <A>(self: State<A>): self is Scheduled<A> => self.type === "SCHEDULED"
/**
 * @category predicates
 * @since 0.1.0
 */
export const isPending = <A>(self: State<A>): self is Pending<A> => self.type === "PENDING"
/**
 * @category predicates
 * @since 0.1.0
 */
export const isRunning = <A>(self: State<A>): self is Running<A> => self.type === "RUNNING"
/**
 * @category predicates
 * @since 0.1.0
 */
export const isCompleted = <A>(self: State<A>): self is Completed<A> => self.type === "COMPLETED"
/**
 * @category predicates
 * @since 0.1.0
 */
export const isFailed = <A>(self: State<A>): self is Failed<A> => self.type === "FAILED"
/**
 * @category predicates
 * @since 0.1.0
 */
export const isCrashed = <A>(self: State<A>): self is Crashed<A> => self.type === "CRASHED"
/**
 * @category predicates
 * @since 0.1.0
 */
export const isCancelled = <A>(self: State<A>): self is Cancelled<A> => self.type === "CANCELLED"
/**
 * @category predicates
 * @since 0.1.0
 */
export const isCancelling = <A>(self: State<A>): self is Cancelling<A> => self.type === "CANCELLING"
/**
 * @category predicates
 * @since 0.1.0
 */
export const isPaused = <A>(self: State<A>): self is Paused<A> => self.type === "PAUSED"

/**
 * Tells whether the state is final: COMPLETED, FAILED, CANCELLED or CRASHED.
 * Like every predicate, it looks only at `type`, never at `name`.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isFinal = <A>(self: State<A>): self is Completed<A> | Failed<A> | Cancelled<A> | Crashed<A> =>
  StateType.isTerminal(self.type)

// -----------------------------------------------------------------------------
// combinators
// -----------------------------------------------------------------------------

/**
 * The fields that can be changed on a copy.
 *
 * @category models
 * @since 0.1.0
 */
export interface Update<A> {
  readonly name?: string | undefined
  readonly message?: string | null | undefined
  readonly data?: A | undefined
  readonly stateDetails?: StateDetails.StateDetails | undefined
  readonly timestamp?: TimestampInput | undefined
}

/**
 * A patch that leaves `data` as it is.
 *
 * @category models
 * @since 0.2.0
 */
export type UpdateKeepData = Omit<Update<unknown>, "data"> & { readonly data?: undefined }

const updateImpl = (self: State<unknown>, patch: Update<unknown>): State<unknown> => {
  const s = self as unknown as Internal
  const Ctor = classes[s.type]
  return new Ctor(
    patch.name ?? s.name,
    patch.timestamp === undefined ? s._ts : toMillis(patch.timestamp, "timestamp"),
    patch.message === undefined ? s.message : patch.message,
    patch.stateDetails ?? s.stateDetails,
    patch.data === undefined ? s.data : patch.data,
    self.id,
    s.created,
    s.updated
  )
}

/**
 * Returns a copy with some fields replaced. The `id`, `created` and `updated`
 * fields are kept (Prefect's `model_copy(update=...)` without its timestamp reset).
 * The copy's data type is the patch's `data` when it has one, else the state's.
 *
 * Data-first (`State.update(state, patch)`) or data-last
 * (`state.pipe(State.update(patch))`).
 *
 * @example
 * ```ts
 * import { State } from "@runstate/core"
 *
 * const renamed = State.Completed({ data: 1 }).pipe(State.update({ name: "Cached" }))
 * renamed.name // "Cached"
 * renamed.data // 1
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const update: {
  <S extends State<any>, B>(self: S, patch: Update<B> & { readonly data: B }): OfType<S["type"], B>
  <S extends State<any>>(self: S, patch: UpdateKeepData): OfType<S["type"], State.Data<S>>
  <B>(patch: Update<B> & { readonly data: B }): <S extends State<any>>(self: S) => OfType<S["type"], B>
  (patch: UpdateKeepData): <S extends State<any>>(self: S) => OfType<S["type"], State.Data<S>>
} = dual(
  (args: IArguments) => isState(args[0]),
  (self: State<unknown>, patch: Update<unknown>): State<unknown> => updateImpl(self, patch)
) as any

const freshCopyImpl = (self: State<unknown>, patch: Update<unknown> | undefined): State<unknown> => {
  const s = self as unknown as Internal
  const now = Date.now()
  const nowUtc = DateTime.makeUnsafe(now)
  const Ctor = classes[s.type]
  return new Ctor(
    patch?.name ?? s.name,
    patch?.timestamp === undefined ? now : toMillis(patch.timestamp, "timestamp"),
    patch?.message === undefined ? s.message : patch.message,
    patch?.stateDetails ?? s.stateDetails,
    patch?.data === undefined ? s.data : patch.data,
    undefined,
    nowUtc,
    nowUtc
  )
}

/**
 * A copy with a new id and `created`, `updated` and `timestamp` set to now
 * (Prefect's `fresh_copy`). Other fields can be replaced at the same time.
 *
 * Data-first (`State.freshCopy(state, patch?)`) or data-last
 * (`state.pipe(State.freshCopy(patch?))`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const freshCopy: {
  <S extends State<any>, B>(self: S, patch: Update<B> & { readonly data: B }): OfType<S["type"], B>
  <S extends State<any>>(self: S, patch?: UpdateKeepData): OfType<S["type"], State.Data<S>>
  <B>(patch: Update<B> & { readonly data: B }): <S extends State<any>>(self: S) => OfType<S["type"], B>
  (patch?: UpdateKeepData): <S extends State<any>>(self: S) => OfType<S["type"], State.Data<S>>
} = dual(
  (args: IArguments) => isState(args[0]),
  (self: State<unknown>, patch?: Update<unknown>): State<unknown> => freshCopyImpl(self, patch)
) as any

/**
 * Stamps `stateDetails.traceparent` with the W3C trace context of the current
 * Effect span (`00-<trace id>-<span id>-<flags>`), or sets it to `null` when no
 * span is active — Prefect's `_traced`, which always overwrites the field.
 *
 * The span is read from the fiber without failing, so stamping costs no error
 * allocation when no span is active; a state that already carries the right
 * traceparent is returned as is.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { State } from "@runstate/core"
 *
 * const program = State.withTraceparent(State.Completed()).pipe(Effect.withSpan("task"))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const withTraceparent = <S extends State<any>>(self: S): Effect.Effect<S> =>
  Effect.withFiber((fiber) => {
    const traceparent = traceparentOf(fiber)
    if (self.stateDetails.traceparent === traceparent) return Effect.succeed(self)
    return Effect.succeed(
      updateImpl(self, { stateDetails: StateDetails.update(self.stateDetails, { traceparent }) }) as S
    )
  })

// -----------------------------------------------------------------------------
// text forms
// -----------------------------------------------------------------------------

const reprValue = (u: unknown): string => repr(u, (v) => (isState(v) ? inspect(v) : undefined))

/**
 * Prefect's `str(state)`: the name, then the message (Python `repr`) when it is
 * not empty, then `type=TYPE` when the type differs from the name (ignoring case).
 *
 * @example
 * ```ts
 * import { State } from "@runstate/core"
 *
 * State.format(State.Completed()) // "Completed()"
 * State.format(State.Late({ message: "behind" })) // "Late('behind', type=SCHEDULED)"
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const format = (self: State<unknown>): string => {
  const parts: Array<string> = []
  if (self.message !== null && self.message !== "") parts.push(reprString(self.message))
  if (self.type.toLowerCase() !== self.name.toLowerCase()) parts.push(`type=${self.type}`)
  return `${self.name}(${parts.join(", ")})`
}

/**
 * Prefect's `repr(state)`: `{name}(message={repr}, type={TYPE}, result={repr})`.
 *
 * @example
 * ```ts
 * import { State } from "@runstate/core"
 *
 * State.inspect(State.Completed({ message: "hi", data: "x" }))
 * // "Completed(message='hi', type=COMPLETED, result='x')"
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const inspect = (self: State<unknown>): string =>
  `${self.name}(message=${self.message === null ? "None" : reprString(self.message)}, type=${self.type}, result=${
    reprValue(self.data)
  })`
