/**
 * Shared fast-check arbitraries for states: all nine types, Prefect's named
 * sub-states (`Late`, `AwaitingRetry`, `Retrying`, `Suspended`, ...) and
 * custom names, any message, any data, with or without run ids.
 */
import { State, StateType } from "@runstate/core"
import * as fc from "fast-check"

/** The fast-check seed of this process: `FC_SEED` when set, otherwise random. */
export const seed: number = process.env.FC_SEED === undefined
  ? Math.floor(Math.random() * 0x7fffffff)
  : Number(process.env.FC_SEED)

/** One of the nine state types. */
export const stateType: fc.Arbitrary<StateType.StateType> = fc.constantFrom(...StateType.all)

/** A non-COMPLETED state type. */
export const nonCompletedType: fc.Arbitrary<StateType.StateType> = fc.constantFrom(
  ...StateType.all.filter((t) => t !== "COMPLETED")
)

/** Any data a run could return, kept small. */
export const data: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.anything({ maxDepth: 2, maxKeys: 3, withMap: true, withSet: true, withDate: true })
)

/** An optional message: null, empty, or any text. */
export const message: fc.Arbitrary<string | null> = fc.oneof(fc.constant(null), fc.constant(""), fc.string())

/** The kind of run ids a state carries. */
export type RunIds = "none" | "flow" | "task" | "both"

const runIdsArb: fc.Arbitrary<RunIds> = fc.constantFrom("none", "flow", "task", "both")

const detailsFor = (ids: RunIds, id: string) => ({
  flowRunId: ids === "flow" || ids === "both" ? id : null,
  taskRunId: ids === "task" || ids === "both" ? id : null
})

/** Prefect's named sub-state constructors, by type. */
const named: Record<StateType.StateType, ReadonlyArray<(o: State.Options<unknown>) => State.State<unknown>>> = {
  SCHEDULED: [
    (o) => State.Late(o as never),
    (o) => State.AwaitingRetry(o as never),
    (o) => State.AwaitingConcurrencySlot(o as never)
  ],
  PENDING: [(o) => State.Submitting(o as never), (o) => State.InfrastructurePending(o as never)],
  RUNNING: [(o) => State.Retrying(o as never)],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
  CRASHED: [],
  PAUSED: [(o) => State.Suspended(o as never)],
  CANCELLING: []
}

/**
 * A state of the given type: the plain constructor, one of Prefect's named
 * sub-states of that type, or a custom name; any message and data; run ids as
 * `ids` says (random when absent).
 */
export const stateOfType = (
  type: StateType.StateType,
  options?: { readonly ids?: RunIds; readonly data?: fc.Arbitrary<unknown> }
): fc.Arbitrary<State.State<unknown>> =>
  fc.record({
    naming: fc.nat({ max: 3 }),
    customName: fc.string({ maxLength: 12 }),
    message,
    data: options?.data ?? data,
    ids: options?.ids === undefined ? runIdsArb : fc.constant(options.ids),
    id: fc.uuid()
  }).map(({ customName, data, id, ids, message, naming }) => {
    const o: State.Options<unknown> = { message, data, stateDetails: detailsFor(ids, id) }
    const subs = named[type]
    if (naming === 1 && subs.length > 0) return subs[customName.length % subs.length]!(o)
    if (naming === 2) return State.make<StateType.StateType, unknown>({ ...o, type, name: customName })
    return State.make<StateType.StateType, unknown>({ ...o, type })
  })

/** Any state: all nine types, named sub-states, any data, any run ids. */
export const state: fc.Arbitrary<State.State<unknown>> = stateType.chain((type) => stateOfType(type))

/** A state of any type among `types`. */
export const stateAmong = (
  types: ReadonlyArray<StateType.StateType>,
  options?: { readonly ids?: RunIds; readonly data?: fc.Arbitrary<unknown> }
): fc.Arbitrary<State.State<unknown>> => fc.constantFrom(...types).chain((type) => stateOfType(type, options))

/** A state built by hand: no flow or task run id. */
export const manualState: fc.Arbitrary<State.State<unknown>> = stateType.chain((type) =>
  stateOfType(type, { ids: "none" })
)

/** A state of another run: it carries a flow run id, a task run id or both. */
export const runState: fc.Arbitrary<State.State<unknown>> = fc.tuple(
  stateType,
  fc.constantFrom<RunIds>("flow", "task", "both")
).chain(([type, ids]) => stateOfType(type, { ids }))

/** A state with small data (cheap to generate in long lists). */
export const lightState: fc.Arbitrary<State.State<unknown>> = stateType.chain((type) =>
  stateOfType(type, { data: fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 4 })) })
)

/** A list of states (any length up to `maxLength`, default 40). */
export const states = (
  options?: { readonly minLength?: number; readonly maxLength?: number }
): fc.Arbitrary<Array<State.State<unknown>>> =>
  fc.array(lightState, { minLength: options?.minLength ?? 0, maxLength: options?.maxLength ?? 40 })

/** A non-empty list of states. */
export const nonEmptyStates: fc.Arbitrary<Array<State.State<unknown>>> = states({ minLength: 1 })
