/**
 * fast-check arbitraries for runstate's values, for property tests of code
 * built on it: state types, details with any of Prefect's eighteen fields set,
 * states of every type (with Prefect's named sub-states such as `Late`,
 * `AwaitingRetry` and `Retrying`, and custom names), result-record metadata
 * and records. Requires the optional peer dependency `fast-check`.
 *
 * @since 0.2.0
 */
import * as DateTime from "effect/DateTime"
import * as fc from "fast-check"
import * as ResultRecord from "../ResultRecord.ts"
import * as Serializer from "../Serializer.ts"
import * as State from "../State.ts"
import * as StateDetails from "../StateDetails.ts"
import * as StateType from "../StateType.ts"

/**
 * The fast-check seed to use: the `FC_SEED` environment variable when it is
 * set (so that a failure replays), otherwise a fresh random one. Print it
 * with the test's output.
 *
 * @example
 * ```ts
 * import { Arbitraries } from "@runstate/core/testing"
 * import * as fc from "fast-check"
 *
 * const seed = Arbitraries.seedFromEnv()
 * fc.assert(fc.property(Arbitraries.state, (s) => s.name.length >= 0), { seed })
 * ```
 *
 * @category seeds
 * @since 0.2.0
 */
export const seedFromEnv = (): number => {
  const env = (globalThis as { process?: { env?: { [k: string]: string | undefined } } }).process?.env
  const raw = env?.FC_SEED
  const parsed = raw === undefined ? Number.NaN : Number(raw)
  return Number.isInteger(parsed) ? parsed : Math.floor(Math.random() * 0x7fffffff)
}

/**
 * One of the nine state types.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const stateType: fc.Arbitrary<StateType.StateType> = fc.constantFrom(...StateType.all)

/**
 * A state type other than COMPLETED.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const nonCompletedType: fc.Arbitrary<StateType.StateType> = fc.constantFrom(
  ...StateType.all.filter((t) => t !== "COMPLETED")
)

/**
 * Any data a run could return, kept small: `null` or any value (objects,
 * arrays, maps, sets, dates).
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const data: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.anything({ maxDepth: 2, maxKeys: 3, withMap: true, withSet: true, withDate: true })
)

/**
 * JSON data (what the `json` serializer writes and reads back equal).
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const jsonData: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }).filter((v) => !Object.is(v, -0))
)

/**
 * A message: `null`, empty, or any text.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const message: fc.Arbitrary<string | null> = fc.oneof(fc.constant(null), fc.constant(""), fc.string())

/**
 * A UUID in its canonical lower-case form.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const uuid: fc.Arbitrary<string> = fc.uuid()

/**
 * A UTC datetime with millisecond precision between the years 2000 and 2100.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const dateTime: fc.Arbitrary<DateTime.Utc> = fc
  .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) })
  .map((millis) => DateTime.makeUnsafe(millis) as DateTime.Utc)

const hex = (length: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: length, maxLength: length })

const optional = <A>(arb: fc.Arbitrary<A>): fc.Arbitrary<A | null> => fc.option(arb, { nil: null, freq: 2 })

/**
 * Details with any subset of Prefect's eighteen fields set (each field is
 * `null`, or its default, about half of the time).
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const stateDetails: fc.Arbitrary<StateDetails.StateDetails> = fc
  .record({
    flowRunId: optional(uuid),
    taskRunId: optional(uuid),
    childFlowRunId: optional(uuid),
    scheduledTime: optional(dateTime),
    cacheKey: optional(fc.string({ maxLength: 16 })),
    cacheExpiration: optional(dateTime),
    deferred: optional(fc.boolean()),
    untrackableResult: fc.boolean(),
    pauseTimeout: optional(dateTime),
    pauseReschedule: fc.boolean(),
    pauseKey: optional(fc.string({ maxLength: 8 })),
    runInputKeyset: optional(fc.dictionary(fc.constantFrom("schema", "response", "description"), fc.string())),
    refreshCache: optional(fc.boolean()),
    retriable: optional(fc.boolean()),
    transitionId: optional(uuid),
    taskParametersId: optional(uuid),
    traceparent: optional(
      fc.tuple(hex(32), hex(16)).map(([trace, span]) => `00-${trace}-${span}-01`)
    ),
    deploymentConcurrencyLeaseId: optional(uuid)
  })
  .map((fields) => StateDetails.make(fields))

/**
 * Which run ids a generated state carries.
 *
 * @category models
 * @since 0.2.0
 */
export type RunIds = "none" | "flow" | "task" | "both"

const runIds: fc.Arbitrary<RunIds> = fc.constantFrom("none", "flow", "task", "both")

const idsDetails = (ids: RunIds, id: string): StateDetails.Input => ({
  flowRunId: ids === "flow" || ids === "both" ? id : null,
  taskRunId: ids === "task" || ids === "both" ? id : null
})

/** Prefect's named sub-state constructors, by type. */
const named: {
  readonly [T in StateType.StateType]: ReadonlyArray<(o: State.Options<unknown>) => State.State<unknown>>
} = {
  SCHEDULED: [
    (o) => State.Late(o as never),
    (o) => State.AwaitingRetry(o as never),
    (o) => State.AwaitingConcurrencySlot(o as never)
  ],
  PENDING: [
    (o) => State.Submitting(o as never),
    (o) => State.InfrastructurePending(o as never)
  ],
  RUNNING: [(o) => State.Retrying(o as never)],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
  CRASHED: [],
  PAUSED: [(o) => State.Suspended(o as never)],
  CANCELLING: []
}

/**
 * Options of {@link stateOfType}.
 *
 * @category models
 * @since 0.2.0
 */
export interface StateOptions {
  /** Which run ids the state carries; random when absent. */
  readonly ids?: RunIds | undefined
  /** The data arbitrary; {@link data} when absent. */
  readonly data?: fc.Arbitrary<unknown> | undefined
  /** When `true`, the details are drawn from {@link stateDetails} (run ids then follow `ids`). */
  readonly details?: boolean | undefined
  /** When `true`, the timestamp is drawn from {@link dateTime} instead of the wall clock. */
  readonly timestamp?: boolean | undefined
}

/**
 * A state of the given type: the plain constructor, one of Prefect's named
 * sub-states of that type, or a custom name; any message and data; run ids as
 * `options.ids` says.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const stateOfType = (type: StateType.StateType, options?: StateOptions): fc.Arbitrary<State.State<unknown>> =>
  fc.record({
    naming: fc.nat({ max: 3 }),
    customName: fc.string({ maxLength: 12 }),
    message,
    data: options?.data ?? data,
    ids: options?.ids === undefined ? runIds : fc.constant(options.ids),
    id: uuid,
    details: options?.details === true ? stateDetails : fc.constant(StateDetails.empty),
    timestamp: options?.timestamp === true ? dateTime : fc.constant(undefined)
  }).map(({ customName, data, details, id, ids, message, naming, timestamp }) => {
    const base: StateDetails.Input = type === "SCHEDULED"
      ? { ...details, scheduledTime: details.scheduledTime ?? timestamp ?? null }
      : details
    const o: State.Options<unknown> = {
      message,
      data,
      stateDetails: StateDetails.make({ ...base, ...idsDetails(ids, id) }),
      ...(timestamp !== undefined ? { timestamp } : {})
    }
    const subs = named[type]
    if (naming === 1 && subs.length > 0) return subs[customName.length % subs.length]!(o)
    if (naming === 2) return State.make<StateType.StateType, unknown>({ ...o, type, name: customName })
    return State.make<StateType.StateType, unknown>({ ...o, type })
  })

/**
 * Any state: all nine types, named sub-states, any data, any run ids.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const state: fc.Arbitrary<State.State<unknown>> = stateType.chain((type) => stateOfType(type))

/**
 * A state of one of `types`.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const stateAmong = (
  types: ReadonlyArray<StateType.StateType>,
  options?: StateOptions
): fc.Arbitrary<State.State<unknown>> => fc.constantFrom(...types).chain((type) => stateOfType(type, options))

/**
 * A state built by hand: no flow or task run id.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const manualState: fc.Arbitrary<State.State<unknown>> = stateType.chain((type) =>
  stateOfType(type, { ids: "none" })
)

/**
 * A state of another run: it carries a flow run id, a task run id or both.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const runState: fc.Arbitrary<State.State<unknown>> = fc
  .tuple(stateType, fc.constantFrom<RunIds>("flow", "task", "both"))
  .chain(([type, ids]) => stateOfType(type, { ids }))

/**
 * A state with small data (cheap to generate in long lists).
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const lightState: fc.Arbitrary<State.State<unknown>> = stateType.chain((type) =>
  stateOfType(type, { data: fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 4 })) })
)

/**
 * A list of light states, up to `maxLength` (default 40) long.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const states = (
  options?: { readonly minLength?: number | undefined; readonly maxLength?: number | undefined }
): fc.Arbitrary<Array<State.State<unknown>>> =>
  fc.array(lightState, { minLength: options?.minLength ?? 0, maxLength: options?.maxLength ?? 40 })

/**
 * A non-empty list of light states.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const nonEmptyStates: fc.Arbitrary<Array<State.State<unknown>>> = states({ minLength: 1 })

/**
 * Result-record metadata: a storage key (or none), an expiration (or none),
 * the `json` serializer or a compressed one, and a storage block id (or none).
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const metadata: fc.Arbitrary<ResultRecord.ResultRecordMetadata> = fc
  .record({
    storageKey: optional(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,31}$/)),
    expiration: optional(dateTime),
    serializer: fc.constantFrom(
      Serializer.json,
      Serializer.compressedJson(),
      Serializer.compressedJson({ compressionlib: "zlib" })
    ),
    storageBlockId: optional(uuid)
  })
  .map((fields) => ResultRecord.makeMetadata(fields))

/**
 * A result record holding JSON data (by default) under generated metadata.
 *
 * @category arbitraries
 * @since 0.2.0
 */
export const resultRecord = (
  options?: { readonly result?: fc.Arbitrary<unknown> | undefined; readonly persisted?: boolean | undefined }
): fc.Arbitrary<ResultRecord.ResultRecord<unknown>> =>
  fc.record({ metadata, result: options?.result ?? jsonData, persisted: fc.boolean() }).map((r) =>
    ResultRecord.make({
      metadata: r.metadata,
      result: r.result,
      persisted: options?.persisted ?? r.persisted
    })
  )
