/**
 * Turning what a run returned into the run's final state (Prefect's
 * `return_value_to_state`). A state the user built by hand is kept; a state of
 * another run, or a non-empty array or Set of states, is aggregated by
 * Prefect's rule (see {@link StateGroup.aggregate}); a result record becomes a
 * COMPLETED state as is; anything else becomes a COMPLETED state holding a new
 * result record of the value. Generators and other one-shot iterators are
 * drained into an array first. Opt-in (`nested: true`), states found anywhere
 * inside arrays, plain objects, Sets and Maps are aggregated too.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as DateTime from "effect/DateTime"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import { pipeArguments, type Pipeable } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import { dual } from "effect/Function"
import { traceparentOf } from "./internal/trace.ts"
import * as ResultRecord from "./ResultRecord.ts"
import { ResultStore } from "./ResultStore.ts"
import * as State from "./State.ts"
import * as StateDetails from "./StateDetails.ts"
import * as StateGroup from "./StateGroup.ts"

// -----------------------------------------------------------------------------
// quote
// -----------------------------------------------------------------------------

/**
 * @category type ids
 * @since 0.1.0
 */
export const QuoteTypeId: QuoteTypeId = "~@runstate/core/Aggregate/Quote"

/**
 * @category type ids
 * @since 0.1.0
 */
export type QuoteTypeId = "~@runstate/core/Aggregate/Quote"

/**
 * A value marked "leave as is" (Prefect's `quote` annotation): a quoted array
 * of states is not a state iterable, and `nested` aggregation does not look
 * inside it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Quote<A> extends Pipeable, Inspectable.Inspectable {
  readonly [QuoteTypeId]: QuoteTypeId
  readonly _tag: "Quote"
  readonly value: A
}

const QuoteProto = {
  [QuoteTypeId]: QuoteTypeId,
  _tag: "Quote",
  pipe() {
    return pipeArguments(this, arguments)
  },
  toJSON(this: Quote<unknown>) {
    return { _id: "Quote", value: Inspectable.toJson(this.value) }
  },
  toString(this: Quote<unknown>) {
    return Inspectable.toStringUnknown(this.toJSON())
  },
  [Inspectable.NodeInspectSymbol](this: Quote<unknown>) {
    return this.toJSON()
  }
}

/**
 * Marks a value so that it is not treated as a state iterable (Prefect's
 * `quote`). `returnValueToState` stores the wrapper itself as plain data, as
 * Prefect stores the annotation object.
 *
 * @example
 * ```ts
 * import { Aggregate, State } from "@runstate/core"
 *
 * const states = [State.Failed()]
 * Aggregate.isStateIterable(states) // true
 * Aggregate.isStateIterable(Aggregate.quote(states)) // false
 * Aggregate.unquote(Aggregate.quote(states)) === states // true
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const quote = <A>(value: A): Quote<A> => {
  const self = Object.create(QuoteProto) as { value: A }
  self.value = value
  return self as Quote<A>
}

/**
 * The value inside a {@link quote}.
 *
 * @category getters
 * @since 0.1.0
 */
export const unquote = <A>(self: Quote<A>): A => self.value

/**
 * Tells whether a value is a {@link quote} wrapper.
 *
 * @category guards
 * @since 0.1.0
 */
export const isQuote = (u: unknown): u is Quote<unknown> => Predicate.hasProperty(u, QuoteTypeId)

// -----------------------------------------------------------------------------
// isStateIterable
// -----------------------------------------------------------------------------

/**
 * Prefect's `is_state_iterable`: true for a non-empty array (subclasses
 * included) or Set whose elements are all states. False for empty
 * collections, Maps (even keyed by states), plain objects, strings, arrays
 * with holes (a hole is not a state) and {@link quote}d values.
 *
 * @example
 * ```ts
 * import { Aggregate, State } from "@runstate/core"
 *
 * Aggregate.isStateIterable([State.Completed(), State.Failed()]) // true
 * Aggregate.isStateIterable(new Set([State.Completed()])) // true
 * Aggregate.isStateIterable([]) // false
 * Aggregate.isStateIterable([State.Completed(), 1]) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isStateIterable = (
  u: unknown
): u is ReadonlyArray<State.State<unknown>> | ReadonlySet<State.State<unknown>> => {
  if (Array.isArray(u)) {
    const n = u.length
    if (n === 0) return false
    for (let i = 0; i < n; i++) if (!State.isState(u[i])) return false
    return true
  }
  if (u instanceof Set) {
    if (u.size === 0) return false
    for (const x of u) if (!State.isState(x)) return false
    return true
  }
  return false
}

// -----------------------------------------------------------------------------
// returnValueToState
// -----------------------------------------------------------------------------

/**
 * Options of {@link returnValueToState}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReturnValueOptions {
  /** Storage key of the new result record (default: the store's key function). */
  readonly key?: string | undefined
  /** Expiration of the new result record; `null` or absent means never. */
  readonly expiration?: DateTime.Utc | null | undefined
  /** Persist the new result record (failures are logged, not raised). Default `false`. */
  readonly writeResult?: boolean | undefined
  /**
   * Also aggregate states found anywhere inside arrays, plain objects, Sets
   * and Maps (Prefect issue 23137). Default `false` (Prefect's behaviour).
   */
  readonly nested?: boolean | undefined
}

/**
 * A result record of `A`, or `A` itself when it already is one (a returned
 * record is kept as the state's data).
 *
 * @category models
 * @since 0.2.0
 */
export type RecordOf<A> = A extends ResultRecord.ResultRecord<any> ? A : ResultRecord.ResultRecord<A>

/**
 * The states Prefect's aggregate rule gives (COMPLETED, FAILED, CANCELLED or
 * PAUSED), holding a result record of the value that was aggregated.
 *
 * @category models
 * @since 0.2.0
 */
export type Aggregated<A> =
  | State.Completed<ResultRecord.ResultRecord<A>>
  | State.Failed<ResultRecord.ResultRecord<A>>
  | State.Cancelled<ResultRecord.ResultRecord<A>>
  | State.Paused<ResultRecord.ResultRecord<A>>

/**
 * A state built by hand and kept: its type, with its data replaced by a
 * record of it (a record or metadata is kept as it is).
 *
 * @category models
 * @since 0.2.0
 */
export type KeptState<S> = S extends State.Proto<infer T, infer D>
  ? State.OfType<T, D extends ResultRecord.ResultRecord<any> | ResultRecord.ResultRecordMetadata ? D : RecordOf<D>>
  : never

/** The state of plain data: COMPLETED with a record, or, with nested aggregation, possibly an aggregate. */
type ValueState<A, Nested extends boolean> = Nested extends true ? State.Completed<RecordOf<A>> | Aggregated<A>
  : State.Completed<RecordOf<A>>

/**
 * Whether a value of type `A` could be a state or a collection of states
 * without the type saying so (`unknown`, `object`, `Array<unknown>`, ...).
 */
type MayHoldStates<A> = State.State<any> extends A ? true
  : Array<State.State<any>> extends A ? true
  : Set<State.State<any>> extends A ? true
  : false

/**
 * The state {@link returnValueToState} gives for a value of type `A`, as
 * precisely as the type tells, member by member of a union: a state is kept
 * ({@link KeptState}) or, when it belongs to another run, aggregated; an
 * array or Set of states is {@link Aggregated}; a generator is drained into
 * an array; a type that may hold states without saying so (`unknown`,
 * `object`, `Array<unknown>`) gives any `State<unknown>`; any other value is
 * COMPLETED holding a record of it. With `Nested` (`nested: true`) plain data
 * may be an aggregate too. Reading the state's result back gives `A` (a kept
 * state gives its own data's type).
 *
 * @category models
 * @since 0.2.0
 */
export type ReturnState<A, Nested extends boolean = false> = A extends State.State<any> ? KeptState<A> | Aggregated<A>
  : A extends ReadonlyArray<State.State<any>> | ReadonlySet<State.State<any>> ? Aggregated<A>
  : A extends Iterable<infer T> & { readonly next: (...args: ReadonlyArray<any>) => unknown }
    ? ValueState<Array<T>, Nested>
  : MayHoldStates<A> extends true ? State.State<unknown>
  : ValueState<A, Nested>

/** A one-shot iterator: generators, iterator helpers, `map.values()`, ... (Python's generators). */
const isIterator = (u: unknown): u is Iterable<unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) &&
  typeof (u as { next?: unknown }).next === "function" &&
  typeof (u as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function"

/** Drains an iterator into an array with a loop (never by spreading onto the stack). */
const drain = (iterator: Iterable<unknown>): Array<unknown> => {
  const out: Array<unknown> = []
  for (const x of iterator) out.push(x)
  return out
}

const isPlainObject = (u: object): boolean => {
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

/** Iterates a Map's keys and values, in entry order. */
function* keysAndValues(map: ReadonlyMap<unknown, unknown>): Generator<unknown> {
  for (const [k, v] of map) {
    yield k
    yield v
  }
}

interface Frame {
  readonly items: ReadonlyArray<unknown> | undefined
  readonly iterator: Iterator<unknown> | undefined
  index: number
}

/**
 * The states inside arrays, plain objects, Sets and Maps (keys and values),
 * in depth-first document order, found with an explicit stack (no recursion,
 * whatever the depth or length). Each container is walked once, so cyclic and
 * shared data terminate; a state is counted once per place it occurs in a
 * walked container. States, result records and quoted values are leaves.
 */
const collectNested = (root: unknown): Array<State.State<unknown>> => {
  const found: Array<State.State<unknown>> = []
  const visited = new Set<object>()
  const stack: Array<Frame> = []
  const visit = (u: unknown): void => {
    if (typeof u !== "object" || u === null) return
    if (State.isState(u)) {
      found.push(u)
      return
    }
    if (visited.has(u)) return
    if (Array.isArray(u)) {
      visited.add(u)
      stack.push({ items: u, iterator: undefined, index: 0 })
    } else if (u instanceof Set) {
      visited.add(u)
      stack.push({ items: undefined, iterator: u.values(), index: 0 })
    } else if (u instanceof Map) {
      visited.add(u)
      stack.push({ items: undefined, iterator: keysAndValues(u), index: 0 })
    } else if (
      isPlainObject(u) && !isQuote(u) && !ResultRecord.isResultRecord(u) && !ResultRecord.isResultRecordMetadata(u)
    ) {
      visited.add(u)
      stack.push({ items: Object.values(u), iterator: undefined, index: 0 })
    }
  }
  visit(root)
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!
    if (frame.items !== undefined) {
      const items = frame.items
      const n = items.length
      // Walk this array until a container is met; states are collected in place.
      let i = frame.index
      let descended = false
      while (i < n && !descended) {
        const x = items[i++]
        if (typeof x !== "object" || x === null) continue
        if (State.isState(x)) {
          found.push(x)
          continue
        }
        const depth = stack.length
        visit(x)
        descended = stack.length > depth
      }
      frame.index = i
      // Not descended means this frame is still on top.
      if (!descended) stack.pop()
    } else {
      const next = frame.iterator!.next()
      if (next.done === true) stack.pop()
      else visit(next.value)
    }
  }
  return found
}

const errorText = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  if (error instanceof Error) return error.message
  if (Predicate.hasProperty(error, "message") && typeof error.message === "string") return error.message
  return String(error)
}

/**
 * Persists the record; on any failure or defect (an interruption stays one)
 * logs Prefect's warning and carries on with the unpersisted record.
 */
const persist = <A>(
  store: ResultStore["Service"],
  record: ResultRecord.ResultRecord<A>
): Effect.Effect<ResultRecord.ResultRecord<A>> =>
  Effect.catchCause(
    store.persistResultRecord(record),
    (cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.interrupt
        : Effect.as(
          Effect.logWarning(
            `Encountered an error while persisting result: ${
              errorText(cause)
            } Execution will continue, but the result has not been persisted`
          ),
          record
        )
  )

/**
 * Now, from the fiber's `Clock` (`Clock.currentTimeMillis` without the extra
 * step), as a `Date`: a state keeps only the epoch milliseconds, and a `Date`
 * is much cheaper to make than a `DateTime.Utc`.
 */
const nowOf = (fiber: Fiber.Fiber<unknown, unknown>): Date =>
  new Date(fiber.getRef(Clock.Clock).currentTimeMillisUnsafe())

/**
 * The state details of a COMPLETED state: empty but for the traceparent of the
 * fiber's current span (the one builder `State.withTraceparent` uses too).
 */
const tracedDetails = (fiber: Fiber.Fiber<unknown, unknown>): StateDetails.StateDetails => {
  const traceparent = traceparentOf(fiber)
  return traceparent === null ? StateDetails.empty : StateDetails.make({ traceparent })
}

const completed = (fiber: Fiber.Fiber<unknown, unknown>, data: unknown): State.State<unknown> =>
  State.Completed<unknown>({ data, timestamp: nowOf(fiber), stateDetails: tracedDetails(fiber) })

/**
 * A new result record of `data` (a store error is a defect), persisted when
 * asked, handed to `f`. Without persistence it is one step after the store's.
 */
const withRecord = <B>(
  store: ResultStore["Service"],
  data: unknown,
  options: ReturnValueOptions | undefined,
  f: (record: ResultRecord.ResultRecord<unknown>) => B
): Effect.Effect<B> => {
  const created = store.createResultRecord(data, options)
  return options?.writeResult === true
    ? Effect.map(Effect.flatMap(Effect.orDie(created), (record) => persist(store, record)), f)
    : Effect.matchEffect(created, { onFailure: Effect.die, onSuccess: (record) => Effect.succeed(f(record)) })
}

/** Branch B: a plain state of the group's aggregate type, holding a record of the original value. */
const aggregateOf = (
  fiber: Fiber.Fiber<unknown, unknown>,
  store: ResultStore["Service"],
  group: StateGroup.StateGroup,
  original: unknown,
  options: ReturnValueOptions | undefined
): Effect.Effect<State.State<unknown>> => {
  const { message, type } = StateGroup.aggregate(group)
  return withRecord(
    store,
    original,
    options,
    (data) => State.make<typeof type, unknown>({ type, message, data, timestamp: nowOf(fiber) }) as State.State<unknown>
  )
}

const returnValueToStateImpl = (
  value: unknown,
  options?: ReturnValueOptions
): Effect.Effect<State.State<unknown>, never, ResultStore> =>
  Effect.withFiber((fiber) => {
    const store = Context.getOrUndefined(fiber.context, ResultStore)
    // Unreachable when the types are respected (`ResultStore` is required); a clear defect otherwise.
    if (store === undefined) return Effect.die(new Error("Aggregate.returnValueToState needs a ResultStore"))
    // A. A state built by hand.
    if (State.isState(value)) {
      const details = value.stateDetails
      if (!details.flowRunId && !details.taskRunId) {
        const data = value.data
        if (ResultRecord.isResultRecord(data) || ResultRecord.isResultRecordMetadata(data)) {
          return Effect.succeed<State.State<unknown>>(value)
        }
        return withRecord(
          store,
          data,
          options,
          (record) => State.update(value, { data: record as unknown }) as State.State<unknown>
        )
      }
      // B. A state of another run: a group of one.
      return aggregateOf(fiber, store, StateGroup.make([value]), value, options)
    }

    // B. A state iterable, checked and counted in one pass.
    const group = StateGroup.fromUnknown(value)
    if (Option.isSome(group)) return aggregateOf(fiber, store, group.value, value, options)

    // C. Generators and other one-shot iterators.
    const data = isIterator(value) ? drain(value) : value

    // D. A result record.
    if (ResultRecord.isResultRecord(data)) return Effect.succeed(completed(fiber, data))

    // Opt-in: states nested in arrays, plain objects, Sets and Maps.
    if (options?.nested === true) {
      const nested = collectNested(data)
      if (nested.length > 0) return aggregateOf(fiber, store, StateGroup.make(nested), data, options)
    }

    // E. Plain data.
    return withRecord(store, data, options, (record) => completed(fiber, record))
  })

/**
 * Prefect's `return_value_to_state`: the final state of a run from the value
 * its code returned. Branches, first match wins:
 *
 * - **A — a state built by hand** (a state whose details have neither
 *   `flowRunId` nor `taskRunId`): kept with its type, name, message, details
 *   and timestamp — even when not final — as a new state value whose `data` is
 *   a new result record of the old data (persisted when `writeResult`). If its
 *   data already is a result record or metadata, the very same state is
 *   returned (not persisted again).
 * - **B — an aggregate** (a state of another run, or a state iterable, see
 *   {@link isStateIterable}): a new plain state with the type and message of
 *   {@link StateGroup.aggregate} (name from the type, empty details, no
 *   traceparent) whose data is a result record of the original value
 *   (persisted when `writeResult`).
 * - **C — a generator or other one-shot iterator** (anything with `next` and
 *   `Symbol.iterator`: generator objects, iterator helpers, `map.values()`):
 *   drained into an array first, which is then plain data (D or E) — as in
 *   Prefect, a generator of states is *not* an aggregate, because the state
 *   check comes before the conversion. Reusable iterables (Effect's `Chunk`,
 *   `Option`, user classes) are data as they are.
 * - **D — a result record**: `Completed` with that record as data; no new
 *   record, no persistence. (Bare metadata is plain data, as in Prefect.)
 * - **E — anything else**: `Completed` with a new result record of the value
 *   (persisted when `writeResult`).
 *
 * The COMPLETED states of D and E carry the traceparent of the caller's
 * current span (`null` when no span is active), as Prefect's `Completed(...)`
 * does; `returnValueToState` is a per-run hot path and opens no span of its
 * own. A generator that throws while being drained is a defect. Persistence
 * failures are logged at WARNING
 * (`Encountered an error while persisting result: {error} Execution will continue, but the result has not been persisted`)
 * and the state is still returned. A store that rejects the key outright (a
 * file-system key outside its base directory) is a defect, as Prefect's
 * `ValueError` escapes `return_value_to_state`.
 *
 * With `nested: true` (beyond Prefect, issue 23137) a value that is neither A,
 * B nor D is searched — after C — for states inside arrays, plain objects,
 * Sets and Maps (keys and values), iteratively and cycle-safely; if any are
 * found they are aggregated as in B (data: a record of the value), otherwise E
 * applies.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Aggregate, ResultStore, State } from "@runstate/core"
 *
 * const program = Aggregate.returnValueToState([State.Completed(), State.Failed(), State.Failed()])
 * const state = Effect.runSync(Effect.provide(program, ResultStore.layerMemory))
 * state.type // "FAILED"
 * state.message // "2/3 states failed."
 * ```
 *
 * The state is typed by the value ({@link ReturnState}), so reading it back
 * with `StateResult.getStateResult` gives the value's type. Data-first
 * (`returnValueToState(value, options?)`); since any value can be returned —
 * an options object included — the data-last form is the empty call
 * (`Effect.flatMap(Aggregate.returnValueToState())`).
 *
 * @category conversions
 * @since 0.1.0
 */
export const returnValueToState: {
  <A>(
    value: A,
    options: ReturnValueOptions & { readonly nested: true }
  ): Effect.Effect<ReturnState<A, true>, never, ResultStore>
  <A>(value: A, options?: ReturnValueOptions): Effect.Effect<ReturnState<A>, never, ResultStore>
  (): <A>(value: A) => Effect.Effect<ReturnState<A>, never, ResultStore>
} = dual(
  // Any value can be returned, options included, so only the empty call is data-last.
  (args: IArguments) => args.length > 0,
  returnValueToStateImpl
) as any
