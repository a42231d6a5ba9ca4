/**
 * A group of states and the counts Prefect's aggregate rule reads (Prefect's
 * `StateGroup`): how many states of each type, in first-appearance order, how
 * many are final, cancelled, paused or failed, and the aggregate rule itself —
 * CANCELLED beats PAUSED beats FAILED, and only a group of COMPLETED states is
 * COMPLETED. A group is built in one pass over the states, without copying
 * them, so it stays linear (and stack-safe) for millions of states.
 *
 * @since 0.1.0
 */
import { dual } from "effect/Function"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import { pipeArguments, type Pipeable } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import { StateMarker } from "./internal/stateMarker.ts"
import * as State from "./State.ts"
import * as StateType from "./StateType.ts"

/**
 * @category type ids
 * @since 0.1.0
 */
export const TypeId: TypeId = "~@runstate/core/StateGroup"

/**
 * @category type ids
 * @since 0.1.0
 */
export type TypeId = "~@runstate/core/StateGroup"

/**
 * The counts of a collection of states (Prefect's `StateGroup`). Every count is
 * computed once, when the group is made.
 *
 * @category models
 * @since 0.1.0
 */
export interface StateGroup extends Pipeable, Inspectable.Inspectable {
  readonly [TypeId]: TypeId
  /** The collection given to {@link make}, as is (not copied). */
  readonly states: ReadonlyArray<State.State<unknown>> | ReadonlySet<State.State<unknown>>
  /** The number of states. */
  readonly totalCount: number
  /**
   * The number of states of each type that occurs, in the order the types
   * first appear. A type that does not occur is absent (see {@link countOf}).
   */
  readonly typeCounts: ReadonlyMap<StateType.StateType, number>
  /** The number of CANCELLED states. */
  readonly cancelledCount: number
  /** The number of PAUSED states. */
  readonly pausedCount: number
  /** The number of final states: COMPLETED, FAILED, CANCELLED or CRASHED. */
  readonly finalCount: number
  /** `totalCount - finalCount`: SCHEDULED, PENDING, RUNNING, PAUSED and CANCELLING states. */
  readonly notFinalCount: number
  /** The number of FAILED and CRASHED states. */
  readonly failCount: number
}

/**
 * The result of the aggregate rule: the type of the aggregate state and its
 * message (Prefect's exact text).
 *
 * @category models
 * @since 0.1.0
 */
export interface Aggregated {
  readonly type: StateType.StateType
  readonly message: string
}

// -----------------------------------------------------------------------------
// implementation
// -----------------------------------------------------------------------------

// Counter slots, one per type, in Prefect's declared order.
const SCHEDULED = 0
const PENDING = 1
const RUNNING = 2
const COMPLETED = 3
const FAILED = 4
const CANCELLED = 5
const CRASHED = 6
const PAUSED = 7
const CANCELLING = 8

// Slots follow Prefect's declared order, so a slot indexes `StateType.all`.
const typeOfSlot: ReadonlyArray<StateType.StateType> = StateType.all

/** The counter slot of a state type (a switch on interned strings: pointer comparisons). */
const slotOf = (type: StateType.StateType): number => {
  switch (type) {
    case "COMPLETED":
      return COMPLETED
    case "FAILED":
      return FAILED
    case "RUNNING":
      return RUNNING
    case "PENDING":
      return PENDING
    case "SCHEDULED":
      return SCHEDULED
    case "CANCELLED":
      return CANCELLED
    case "CRASHED":
      return CRASHED
    case "PAUSED":
      return PAUSED
    case "CANCELLING":
      return CANCELLING
  }
}

const GroupProto = {
  [TypeId]: TypeId,
  pipe() {
    return pipeArguments(this, arguments)
  },
  toJSON(this: StateGroup) {
    return {
      _id: "StateGroup",
      totalCount: this.totalCount,
      typeCounts: Object.fromEntries(this.typeCounts),
      cancelledCount: this.cancelledCount,
      pausedCount: this.pausedCount,
      finalCount: this.finalCount,
      notFinalCount: this.notFinalCount,
      failCount: this.failCount
    }
  },
  toString(this: StateGroup) {
    return format(this)
  },
  [Inspectable.NodeInspectSymbol](this: StateGroup) {
    return this.toJSON()
  }
}

/**
 * Builds the group from per-slot counts and, per slot, the position of the
 * first state of that type (so first-appearance order costs a store, not a
 * call, while counting).
 */
const build = (
  states: ReadonlyArray<State.State<unknown>> | ReadonlySet<State.State<unknown>>,
  total: number,
  c: Float64Array,
  first: Float64Array
): StateGroup => {
  const slots: Array<number> = []
  for (let slot = 0; slot < 9; slot++) if (c[slot]! > 0) slots.push(slot)
  slots.sort((a, b) => first[a]! - first[b]!)
  const typeCounts = new Map<StateType.StateType, number>()
  for (const slot of slots) typeCounts.set(typeOfSlot[slot]!, c[slot]!)
  const finalCount = c[COMPLETED]! + c[FAILED]! + c[CANCELLED]! + c[CRASHED]!
  const group = Object.create(GroupProto) as { -readonly [K in keyof StateGroup]: StateGroup[K] }
  group.states = states
  group.totalCount = total
  group.typeCounts = typeCounts
  group.cancelledCount = c[CANCELLED]!
  group.pausedCount = c[PAUSED]!
  group.finalCount = finalCount
  group.notFinalCount = total - finalCount
  group.failCount = c[FAILED]! + c[CRASHED]!
  return group
}

// The loops test `x instanceof StateMarker` first (written out, so that the
// check's type feedback is this loop's own), then fall back to `State.isState`,
// so the answer is exactly `State.isState`'s.
// The counting loops hold nothing but the loop, so that the optimised code of a
// long first call (on-stack replacement) does not meet an unseen call after it.

/**
 * Counts an array into `c` / `first`; with `check`, stops and answers `false`
 * at the first element that is not a state (a hole reads as `undefined`).
 */
const scanArray = (xs: ReadonlyArray<unknown>, check: boolean, c: Float64Array, first: Float64Array): boolean => {
  const n = xs.length
  for (let i = 0; i < n; i++) {
    const x = xs[i]
    if (check && !(x instanceof StateMarker) && !State.isState(x)) return false
    const slot = slotOf((x as State.State<unknown>).type)
    if (c[slot]++ === 0) first[slot] = i
  }
  return true
}

/** Counts a Set into `c` / `first`; answers the size, or `-1` at the first non-state with `check`. */
const scanSet = (xs: ReadonlySet<unknown>, check: boolean, c: Float64Array, first: Float64Array): number => {
  let i = 0
  for (const x of xs) {
    if (check && !(x instanceof StateMarker) && !State.isState(x)) return -1
    const slot = slotOf((x as State.State<unknown>).type)
    if (c[slot]++ === 0) first[slot] = i
    i++
  }
  return i
}

const group = (
  states: ReadonlyArray<unknown> | ReadonlySet<unknown>,
  check: boolean
): StateGroup | undefined => {
  const c = new Float64Array(9)
  const first = new Float64Array(9)
  if (Array.isArray(states)) {
    const xs = states as ReadonlyArray<State.State<unknown>>
    return scanArray(xs, check, c, first) ? build(xs, xs.length, c, first) : undefined
  }
  const xs = states as ReadonlySet<State.State<unknown>>
  const total = scanSet(xs, check, c, first)
  return total < 0 ? undefined : build(xs, total, c, first)
}

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/**
 * Groups states and counts them, in one pass and without copying the
 * collection (an array or a Set; the group keeps it as `states`). Stack-safe
 * for any size.
 *
 * @example
 * ```ts
 * import { State, StateGroup } from "@runstate/core"
 *
 * const group = StateGroup.make([State.Failed(), State.Running(), State.Crashed(), State.Running()])
 * group.totalCount // 4
 * group.failCount // 2
 * StateGroup.countsMessage(group) // "total=4, not_final=2, 'FAILED'=1, 'RUNNING'=2, 'CRASHED'=1"
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  states: ReadonlyArray<State.State<unknown>> | ReadonlySet<State.State<unknown>>
): StateGroup => group(states, false)!

/**
 * Groups a value when it is a state iterable — a non-empty array or Set whose
 * elements are all states (holes in an array are not states) — in the same
 * single pass that checks it; `Option.none()` for anything else, including
 * empty collections. This is how `Aggregate.returnValueToState` recognises and
 * counts an aggregate at once.
 *
 * @example
 * ```ts
 * import { Option } from "effect"
 * import { State, StateGroup } from "@runstate/core"
 *
 * Option.isSome(StateGroup.fromUnknown([State.Completed()])) // true
 * Option.isSome(StateGroup.fromUnknown([State.Completed(), 1])) // false
 * Option.isSome(StateGroup.fromUnknown([])) // false
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromUnknown = (u: unknown): Option.Option<StateGroup> => {
  const found = (Array.isArray(u) && u.length > 0) || (u instanceof Set && u.size > 0) ? group(u, true) : undefined
  return found === undefined ? Option.none() : Option.some(found)
}

// -----------------------------------------------------------------------------
// guards and getters
// -----------------------------------------------------------------------------

/**
 * Tells whether a value is a {@link StateGroup}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isStateGroup = (u: unknown): u is StateGroup => Predicate.hasProperty(u, TypeId)

/**
 * The number of states of a type in the group; `0` for a type that does not
 * occur (Prefect's `Counter` lookup).
 *
 * @example
 * ```ts
 * import { State, StateGroup } from "@runstate/core"
 *
 * const group = StateGroup.make([State.Completed(), State.Failed()])
 * StateGroup.countOf(group, "FAILED") // 1
 * StateGroup.countOf(group, "PAUSED") // 0
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const countOf: {
  (type: StateType.StateType): (self: StateGroup) => number
  (self: StateGroup, type: StateType.StateType): number
} = dual(2, (self: StateGroup, type: StateType.StateType): number => self.typeCounts.get(type) ?? 0)

// -----------------------------------------------------------------------------
// predicates
// -----------------------------------------------------------------------------

/**
 * Whether every state is COMPLETED. True for an empty group (Prefect's quirk).
 *
 * @category predicates
 * @since 0.1.0
 */
export const allCompleted = (self: StateGroup): boolean => (self.typeCounts.get("COMPLETED") ?? 0) === self.totalCount

/**
 * Whether any state is CANCELLED.
 *
 * @category predicates
 * @since 0.1.0
 */
export const anyCancelled = (self: StateGroup): boolean => self.cancelledCount > 0

/**
 * Whether any state is FAILED or CRASHED.
 *
 * @category predicates
 * @since 0.1.0
 */
export const anyFailed = (self: StateGroup): boolean => self.failCount > 0

/**
 * Whether any state is PAUSED.
 *
 * @category predicates
 * @since 0.1.0
 */
export const anyPaused = (self: StateGroup): boolean => self.pausedCount > 0

/**
 * Whether every state is final. True for an empty group (Prefect's quirk).
 *
 * @category predicates
 * @since 0.1.0
 */
export const allFinal = (self: StateGroup): boolean => self.finalCount === self.totalCount

// -----------------------------------------------------------------------------
// text forms
// -----------------------------------------------------------------------------

/**
 * Prefect's `counts_message()`: `total={n}`, then `not_final={n}` when some
 * states are not final, then `'{TYPE}'={n}` for each type in first-appearance
 * order, joined by `, `.
 *
 * @example
 * ```ts
 * import { State, StateGroup } from "@runstate/core"
 *
 * StateGroup.countsMessage(
 *   StateGroup.make([State.Failed(), State.Running(), State.Crashed(), State.Running()])
 * ) // "total=4, not_final=2, 'FAILED'=1, 'RUNNING'=2, 'CRASHED'=1"
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const countsMessage = (self: StateGroup): string => {
  let out = `total=${self.totalCount}`
  if (self.notFinalCount > 0) out += `, not_final=${self.notFinalCount}`
  for (const [type, n] of self.typeCounts) if (n > 0) out += `, '${type}'=${n}`
  return out
}

/**
 * Prefect's `repr(StateGroup)`: `StateGroup<{countsMessage}>`.
 *
 * @example
 * ```ts
 * import { State, StateGroup } from "@runstate/core"
 *
 * StateGroup.format(StateGroup.make([State.Completed()])) // "StateGroup<total=1, 'COMPLETED'=1>"
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const format = (self: StateGroup): string => `StateGroup<${countsMessage(self)}>`

// -----------------------------------------------------------------------------
// aggregation
// -----------------------------------------------------------------------------

/**
 * Prefect's aggregate rule (the type and message `return_value_to_state`
 * gives a group of states). First match wins:
 *
 * | condition | type | message |
 * |---|---|---|
 * | all COMPLETED | COMPLETED | `All states completed.` |
 * | any CANCELLED | CANCELLED | `{cancelled}/{total} states cancelled.` |
 * | any PAUSED | PAUSED | `{paused}/{total} states paused.` |
 * | any FAILED or CRASHED | FAILED | `{failed}/{total} states failed.` |
 * | not all final | FAILED | `{notFinal}/{total} states are not final.` |
 * | otherwise | FAILED | `Given states: {countsMessage}` |
 *
 * (The last row cannot be reached by a non-empty group: all final with no
 * cancelled, failed or crashed state means all completed.)
 *
 * @example
 * ```ts
 * import { State, StateGroup } from "@runstate/core"
 *
 * StateGroup.aggregate(StateGroup.make([State.Completed(), State.Failed(), State.Running(), State.Cancelled()]))
 * // { type: "CANCELLED", message: "1/4 states cancelled." }
 * ```
 *
 * @category aggregation
 * @since 0.1.0
 */
export const aggregate = (self: StateGroup): Aggregated => {
  const total = self.totalCount
  if (allCompleted(self)) return { type: "COMPLETED", message: "All states completed." }
  if (self.cancelledCount > 0) {
    return { type: "CANCELLED", message: `${self.cancelledCount}/${total} states cancelled.` }
  }
  if (self.pausedCount > 0) return { type: "PAUSED", message: `${self.pausedCount}/${total} states paused.` }
  if (self.failCount > 0) return { type: "FAILED", message: `${self.failCount}/${total} states failed.` }
  if (self.notFinalCount > 0) {
    return { type: "FAILED", message: `${self.notFinalCount}/${total} states are not final.` }
  }
  return { type: "FAILED", message: `Given states: ${countsMessage(self)}` }
}
