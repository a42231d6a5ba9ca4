/**
 * The algebraic laws of Prefect's aggregate rule (docs/aggregation-laws.md),
 * each a fast-check property over generated states: all nine types, Prefect's
 * named sub-states, custom names, any data. Replay a failure with
 * `FC_SEED=<printed seed> pnpm exec vitest run packages/core/test/AggregationLaws.test.ts`.
 */
import { afterAll, assert, beforeAll, describe, expect, it } from "@effect/vitest"
import { ManagedRuntime } from "effect"
import * as fc from "fast-check"
import { Aggregate, ResultStore, State, StateGroup, StateType } from "@runstate/core"
import * as Arb from "./arbitraries.ts"

beforeAll(() => {
  console.log(`AggregationLaws.test.ts fast-check seed: ${Arb.seed} (replay with FC_SEED=${Arb.seed})`)
})

const params = { seed: Arb.seed }

const runtime = ManagedRuntime.make(ResultStore.layerMemory)
afterAll(() => runtime.dispose())

const group = (xs: ReadonlyArray<State.State<unknown>>) => StateGroup.make(xs)
const agg = (xs: ReadonlyArray<State.State<unknown>>) => StateGroup.aggregate(StateGroup.make(xs))
/** A plain state standing for an aggregate result. */
const stateOf = (a: StateGroup.Aggregated): State.State<unknown> => State.make({ type: a.type })

const countsOf = (g: StateGroup.StateGroup) => ({
  total: g.totalCount,
  cancelled: g.cancelledCount,
  paused: g.pausedCount,
  final: g.finalCount,
  notFinal: g.notFinalCount,
  fail: g.failCount,
  byType: Object.fromEntries(StateType.all.map((t) => [t, StateGroup.countOf(g, t)]))
})

/** A list and a permutation of it. */
const listAndPermutation = Arb.states().chain((xs) =>
  fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length }))
)

/** Inserts `ys` into `xs` at random positions (an interleaving keeping each list's order). */
const interleave = <A>(xs: ReadonlyArray<A>, ys: ReadonlyArray<A>): fc.Arbitrary<Array<A>> =>
  fc.array(fc.boolean(), { minLength: xs.length + ys.length, maxLength: xs.length + ys.length }).map((picks) => {
    const out: Array<A> = []
    let i = 0
    let j = 0
    for (const pickX of picks) {
      if ((pickX && i < xs.length) || j >= ys.length) out.push(xs[i++]!)
      else out.push(ys[j++]!)
    }
    return out
  })

const completedStates = fc.array(Arb.stateOfType("COMPLETED", { data: fc.integer() }), { maxLength: 10 })

/** The rank of a type in the aggregate order: COMPLETED < any other < PAUSED < CANCELLED. */
const rank = (type: StateType.StateType): number =>
  type === "COMPLETED" ? 0 : type === "CANCELLED" ? 3 : type === "PAUSED" ? 2 : 1

describe("aggregation laws", () => {
  it("order does not matter: a permutation has the same type, message and counts", () => {
    fc.assert(
      fc.property(listAndPermutation, ([xs, ys]) => {
        expect(agg(ys)).toEqual(agg(xs))
        expect(countsOf(group(ys))).toEqual(countsOf(group(xs)))
      }),
      params
    )
  })

  it("grouping does not matter: aggregate(xs ++ ys).type = aggregate([stateOf(aggregate(xs)), stateOf(aggregate(ys))]).type", () => {
    fc.assert(
      fc.property(Arb.states(), Arb.states(), (xs, ys) => {
        const whole = agg([...xs, ...ys]).type
        const split = agg([stateOf(agg(xs)), stateOf(agg(ys))]).type
        expect(split).toBe(whole)
      }),
      params
    )
  })

  it("grouping does not matter for any number of parts: aggregate of a flattening = aggregate of the parts' aggregates", () => {
    fc.assert(
      fc.property(fc.array(Arb.states({ maxLength: 8 }), { minLength: 1, maxLength: 6 }), (parts) => {
        expect(agg(parts.map((p) => stateOf(agg(p)))).type).toBe(agg(parts.flat()).type)
      }),
      params
    )
  })

  it("the type is the maximum rank: COMPLETED < FAILED (any other type) < PAUSED < CANCELLED", () => {
    fc.assert(
      fc.property(Arb.states(), (xs) => {
        const top = xs.reduce((m, s) => Math.max(m, rank(s.type)), 0)
        expect(rank(agg(xs).type)).toBe(top)
        expect(agg(xs).type).toBe((["COMPLETED", "FAILED", "PAUSED", "CANCELLED"] as const)[top])
      }),
      params
    )
  })

  it("COMPLETED is the identity: adding COMPLETED states anywhere never changes the type of a non-empty list", () => {
    fc.assert(
      fc.property(
        Arb.nonEmptyStates.chain((xs) => completedStates.chain((cs) => fc.tuple(fc.constant(xs), interleave(xs, cs)))),
        ([xs, withCompleted]) => {
          expect(agg(withCompleted).type).toBe(agg(xs).type)
        }
      ),
      params
    )
  })

  it("COMPLETED is the identity: a non-empty list of COMPLETED states (any names and data) is COMPLETED", () => {
    fc.assert(
      fc.property(fc.array(Arb.stateOfType("COMPLETED"), { minLength: 1, maxLength: 20 }), (cs) => {
        expect(agg(cs)).toEqual({ type: "COMPLETED", message: "All states completed." })
      }),
      params
    )
  })

  it("idempotence: a list followed by itself has the same type, and every count doubles", () => {
    fc.assert(
      fc.property(Arb.nonEmptyStates, (xs) => {
        const once = group(xs)
        const twice = group([...xs, ...xs])
        expect(StateGroup.aggregate(twice).type).toBe(StateGroup.aggregate(once).type)
        const c1 = countsOf(once)
        const c2 = countsOf(twice)
        expect(c2.total).toBe(2 * c1.total)
        expect(c2.cancelled).toBe(2 * c1.cancelled)
        expect(c2.paused).toBe(2 * c1.paused)
        expect(c2.final).toBe(2 * c1.final)
        expect(c2.notFinal).toBe(2 * c1.notFinal)
        expect(c2.fail).toBe(2 * c1.fail)
        for (const t of StateType.all) expect(c2.byType[t]).toBe(2 * c1.byType[t]!)
      }),
      params
    )
  })

  it("CANCELLED absorbs everything: any list with a CANCELLED state is CANCELLED", () => {
    fc.assert(
      fc.property(
        Arb.states().chain((xs) =>
          fc.array(Arb.stateOfType("CANCELLED"), { minLength: 1, maxLength: 3 }).chain((cs) => interleave(xs, cs))
        ),
        (xs) => {
          expect(agg(xs).type).toBe("CANCELLED")
        }
      ),
      params
    )
  })

  it("then PAUSED: a list with a PAUSED state and no CANCELLED one is PAUSED", () => {
    const noCancelled = fc.array(Arb.stateAmong(StateType.all.filter((t) => t !== "CANCELLED")), { maxLength: 30 })
    fc.assert(
      fc.property(
        noCancelled.chain((xs) =>
          fc.array(Arb.stateOfType("PAUSED"), { minLength: 1, maxLength: 3 }).chain((ps) => interleave(xs, ps))
        ),
        (xs) => {
          expect(agg(xs).type).toBe("PAUSED")
        }
      ),
      params
    )
  })

  it("then FAILED: a list with any non-COMPLETED state and no CANCELLED or PAUSED one is FAILED", () => {
    const others = StateType.all.filter((t) => t !== "CANCELLED" && t !== "PAUSED")
    const failing = others.filter((t) => t !== "COMPLETED")
    fc.assert(
      fc.property(
        fc.array(Arb.stateAmong(others), { maxLength: 30 }).chain((xs) =>
          fc.array(Arb.stateAmong(failing), { minLength: 1, maxLength: 3 }).chain((fs) => interleave(xs, fs))
        ),
        (xs) => {
          expect(agg(xs).type).toBe("FAILED")
        }
      ),
      params
    )
  })

  it("the message's counts agree with StateGroup's and with a plain count", () => {
    fc.assert(
      fc.property(Arb.nonEmptyStates, (xs) => {
        const g = group(xs)
        const { message, type } = StateGroup.aggregate(g)
        const n = xs.length
        const count = (...types: Array<StateType.StateType>) => xs.filter((s) => types.includes(s.type)).length
        expect(g.totalCount).toBe(n)
        if (type === "COMPLETED") {
          expect(message).toBe("All states completed.")
          expect(count("COMPLETED")).toBe(n)
        } else if (type === "CANCELLED") {
          expect(message).toBe(`${g.cancelledCount}/${n} states cancelled.`)
          expect(g.cancelledCount).toBe(count("CANCELLED"))
        } else if (type === "PAUSED") {
          expect(message).toBe(`${g.pausedCount}/${n} states paused.`)
          expect(g.pausedCount).toBe(count("PAUSED"))
        } else if (g.failCount > 0) {
          expect(message).toBe(`${g.failCount}/${n} states failed.`)
          expect(g.failCount).toBe(count("FAILED", "CRASHED"))
        } else {
          expect(message).toBe(`${g.notFinalCount}/${n} states are not final.`)
          expect(g.notFinalCount).toBe(n - count("COMPLETED", "FAILED", "CANCELLED", "CRASHED"))
        }
      }),
      params
    )
  })

  it("a single state built by hand passes through returnValueToState with its type, name, message and details", () => {
    fc.assert(
      fc.property(Arb.manualState, (original) => {
        const state = runtime.runSync(Aggregate.returnValueToState(original))
        expect(state.type).toBe(original.type)
        expect(state.name).toBe(original.name)
        expect(state.message).toBe(original.message)
        expect(state.stateDetails).toBe(original.stateDetails)
        expect(state.timestamp.epochMilliseconds).toBe(original.timestamp.epochMilliseconds)
      }),
      params
    )
  })

  it("returnValueToState of a non-empty list of states has the type and message of StateGroup.aggregate", () => {
    fc.assert(
      fc.property(Arb.nonEmptyStates, (xs) => {
        const state = runtime.runSync(Aggregate.returnValueToState(xs))
        const expected = agg(xs)
        expect(state.type).toBe(expected.type)
        expect(state.message).toBe(expected.message)
        expect(state.name).toBe(StateType.defaultName(expected.type))
      }),
      params
    )
  })

  it("returnValueToState of a state of another run is the aggregate of a group of one", () => {
    fc.assert(
      fc.property(Arb.runState, (inner) => {
        const state = runtime.runSync(Aggregate.returnValueToState(inner))
        expect({ type: state.type, message: state.message }).toEqual(agg([inner]))
      }),
      params
    )
  })
})

describe("what the laws do not say", () => {
  it("grouping preserves the type but not the counts: [Failed, Failed] ++ [Completed]", () => {
    const xs = [State.Failed(), State.Failed()]
    const ys = [State.Completed()]
    assert.deepStrictEqual(agg([...xs, ...ys]), { type: "FAILED", message: "2/3 states failed." })
    assert.deepStrictEqual(agg([stateOf(agg(xs)), stateOf(agg(ys))]), { type: "FAILED", message: "1/2 states failed." })
  })

  it("the empty list is COMPLETED only in StateGroup; returnValueToState treats [] as plain data", () => {
    assert.deepStrictEqual(agg([]), { type: "COMPLETED", message: "All states completed." })
    const state = runtime.runSync(Aggregate.returnValueToState([]))
    assert.strictEqual(state.type, "COMPLETED")
    assert.isNull(state.message)
  })
})
