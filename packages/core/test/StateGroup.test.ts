import { assert, beforeAll, describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import * as fc from "fast-check"
import { State, StateGroup, StateType } from "@runstate/core"
import * as Arb from "./arbitraries.ts"
import { aggregateExamples } from "./support.ts"

beforeAll(() => {
  console.log(`StateGroup.test.ts fast-check seed: ${Arb.seed} (replay with FC_SEED=${Arb.seed})`)
})

const prefectExample = () => [State.Failed(), State.Running(), State.Crashed(), State.Running()]

/** Counts by a plain loop, for comparison. */
const naiveCounts = (states: ReadonlyArray<State.State<unknown>>): Array<[StateType.StateType, number]> => {
  const counts = new Map<StateType.StateType, number>()
  for (const s of states) counts.set(s.type, (counts.get(s.type) ?? 0) + 1)
  return [...counts]
}

describe("StateGroup.make", () => {
  it("counts Prefect's example [Failed, Running, Crashed, Running]", () => {
    const group = StateGroup.make(prefectExample())
    assert.strictEqual(group.totalCount, 4)
    assert.deepStrictEqual([...group.typeCounts], [["FAILED", 1], ["RUNNING", 2], ["CRASHED", 1]])
    assert.strictEqual(group.cancelledCount, 0)
    assert.strictEqual(group.pausedCount, 0)
    assert.strictEqual(group.finalCount, 2)
    assert.strictEqual(group.notFinalCount, 2)
    assert.strictEqual(group.failCount, 2)
  })

  it("keeps the given collection as is, without copying it", () => {
    const array = prefectExample()
    assert.strictEqual(StateGroup.make(array).states, array)
    const set = new Set(array)
    assert.strictEqual(StateGroup.make(set).states, set)
  })

  it("counts a Set like the array of its elements", () => {
    const array = prefectExample()
    const fromSet = StateGroup.make(new Set(array))
    const fromArray = StateGroup.make(array)
    assert.strictEqual(fromSet.totalCount, 4)
    assert.deepStrictEqual([...fromSet.typeCounts], [...fromArray.typeCounts])
    assert.strictEqual(StateGroup.countsMessage(fromSet), StateGroup.countsMessage(fromArray))
  })

  it("counts named sub-states by their type, never by their name", () => {
    const group = StateGroup.make([
      State.Late(),
      State.AwaitingRetry(),
      State.Retrying(),
      State.Suspended(),
      State.Submitting(),
      State.make({ type: "COMPLETED", name: "Failed" })
    ])
    assert.deepStrictEqual([...group.typeCounts], [["SCHEDULED", 2], ["RUNNING", 1], ["PAUSED", 1], [
      "PENDING",
      1
    ], ["COMPLETED", 1]])
    assert.strictEqual(group.failCount, 0)
    assert.strictEqual(group.pausedCount, 1)
    assert.strictEqual(group.notFinalCount, 5)
  })

  it("orders typeCounts by first appearance, not by Prefect's declared order", () => {
    const group = StateGroup.make([State.Cancelling(), State.Scheduled(), State.Cancelling(), State.Completed()])
    assert.deepStrictEqual([...group.typeCounts.keys()], ["CANCELLING", "SCHEDULED", "COMPLETED"])
  })

  it("counts every one of the nine types, CANCELLED and PAUSED separately", () => {
    const all = StateType.all.map((type) => State.make({ type }))
    const group = StateGroup.make(all)
    assert.strictEqual(group.totalCount, 9)
    assert.deepStrictEqual([...group.typeCounts.keys()], StateType.all)
    assert.strictEqual(group.cancelledCount, 1)
    assert.strictEqual(group.pausedCount, 1)
    assert.strictEqual(group.finalCount, 4)
    assert.strictEqual(group.notFinalCount, 5)
    assert.strictEqual(group.failCount, 2)
  })

  it("has the counts of a plain loop for any list (law: counts agree with a naive count)", () => {
    fc.assert(
      fc.property(Arb.states(), (states) => {
        const group = StateGroup.make(states)
        const naive = naiveCounts(states)
        expect([...group.typeCounts]).toEqual(naive)
        const of = (t: StateType.StateType) => states.filter((s) => s.type === t).length
        expect(group.totalCount).toBe(states.length)
        expect(group.cancelledCount).toBe(of("CANCELLED"))
        expect(group.pausedCount).toBe(of("PAUSED"))
        expect(group.failCount).toBe(of("FAILED") + of("CRASHED"))
        expect(group.finalCount).toBe(states.filter(State.isFinal).length)
        expect(group.notFinalCount).toBe(states.length - group.finalCount)
      }),
      { seed: Arb.seed }
    )
  })

  it("counts 10,000,000 states without overflowing the stack", () => {
    const n = 10_000_000
    const completed = State.Completed()
    const failed = State.Failed()
    const running = State.Running()
    const states = new Array<State.State<unknown>>(n).fill(completed)
    states[0] = running
    states[n - 1] = failed
    const group = StateGroup.make(states)
    assert.strictEqual(group.totalCount, n)
    assert.deepStrictEqual([...group.typeCounts], [["RUNNING", 1], ["COMPLETED", n - 2], ["FAILED", 1]])
    assert.deepStrictEqual(StateGroup.aggregate(group), { type: "FAILED", message: `1/${n} states failed.` })
  })
})

describe("StateGroup predicates", () => {
  it("answers Prefect's questions for [Failed, Running, Crashed, Running]", () => {
    const group = StateGroup.make(prefectExample())
    assert.isFalse(StateGroup.allCompleted(group))
    assert.isFalse(StateGroup.anyCancelled(group))
    assert.isTrue(StateGroup.anyFailed(group))
    assert.isFalse(StateGroup.anyPaused(group))
    assert.isFalse(StateGroup.allFinal(group))
  })

  it("sees CANCELLED and PAUSED, and a CRASHED state as failed", () => {
    assert.isTrue(StateGroup.anyCancelled(StateGroup.make([State.Completed(), State.Cancelled()])))
    assert.isTrue(StateGroup.anyPaused(StateGroup.make([State.Completed(), State.Suspended()])))
    assert.isTrue(StateGroup.anyFailed(StateGroup.make([State.Crashed()])))
    assert.isFalse(StateGroup.anyFailed(StateGroup.make([State.Cancelled(), State.Cancelling()])))
  })

  it("is all completed and all final for COMPLETED states only", () => {
    const group = StateGroup.make([State.Completed(), State.make({ type: "COMPLETED", name: "Cached" })])
    assert.isTrue(StateGroup.allCompleted(group))
    assert.isTrue(StateGroup.allFinal(group))
    const finals = StateGroup.make([State.Completed(), State.Failed(), State.Cancelled(), State.Crashed()])
    assert.isFalse(StateGroup.allCompleted(finals))
    assert.isTrue(StateGroup.allFinal(finals))
  })

  it("treats an empty group as all completed and all final (Prefect's quirk)", () => {
    const group = StateGroup.make([])
    assert.strictEqual(group.totalCount, 0)
    assert.isTrue(StateGroup.allCompleted(group))
    assert.isTrue(StateGroup.allFinal(group))
    assert.isFalse(StateGroup.anyFailed(group))
    assert.strictEqual(StateGroup.countsMessage(group), "total=0")
    assert.deepStrictEqual(StateGroup.aggregate(group), { type: "COMPLETED", message: "All states completed." })
  })

  it("countOf answers 0 for a missing type, data-first and data-last", () => {
    const group = StateGroup.make(prefectExample())
    assert.strictEqual(StateGroup.countOf(group, "RUNNING"), 2)
    assert.strictEqual(StateGroup.countOf(group, "PAUSED"), 0)
    assert.strictEqual(group.pipe(StateGroup.countOf("FAILED")), 1)
  })

  it("recognises groups", () => {
    assert.isTrue(StateGroup.isStateGroup(StateGroup.make([])))
    assert.isFalse(StateGroup.isStateGroup({ totalCount: 0 }))
  })
})

describe("StateGroup text forms", () => {
  it("countsMessage is Prefect's text, character for character", () => {
    assert.strictEqual(
      StateGroup.countsMessage(StateGroup.make(prefectExample())),
      "total=4, not_final=2, 'FAILED'=1, 'RUNNING'=2, 'CRASHED'=1"
    )
  })

  it("countsMessage omits not_final when every state is final", () => {
    assert.strictEqual(
      StateGroup.countsMessage(StateGroup.make([State.Completed(), State.Failed(), State.Completed()])),
      "total=3, 'COMPLETED'=2, 'FAILED'=1"
    )
  })

  it("format and toString are Prefect's repr", () => {
    const group = StateGroup.make(prefectExample())
    const expected = "StateGroup<total=4, not_final=2, 'FAILED'=1, 'RUNNING'=2, 'CRASHED'=1>"
    assert.strictEqual(StateGroup.format(group), expected)
    assert.strictEqual(String(group), expected)
  })

  it("toJSON lists the counts", () => {
    const json = StateGroup.make([State.Paused(), State.Completed()]).toJSON() as Record<string, unknown>
    assert.deepStrictEqual(json["typeCounts"], { PAUSED: 1, COMPLETED: 1 })
    assert.strictEqual(json["notFinalCount"], 1)
  })
})

describe("StateGroup.aggregate", () => {
  const cases = aggregateExamples
  for (const [name, make, type, message] of cases) {
    it(`${name} → ${type} "${message}"`, () => {
      assert.deepStrictEqual(StateGroup.aggregate(StateGroup.make(make())), { type, message })
    })
  }
})

describe("StateGroup.fromUnknown", () => {
  it("groups non-empty arrays and Sets of states", () => {
    const states = prefectExample()
    const fromArray = StateGroup.fromUnknown(states)
    assert.isTrue(Option.isSome(fromArray))
    assert.strictEqual(Option.getOrThrow(fromArray).states, states)
    assert.strictEqual(Option.getOrThrow(fromArray).totalCount, 4)
    assert.strictEqual(Option.getOrThrow(StateGroup.fromUnknown(new Set(states))).totalCount, 4)
  })

  it("refuses everything that is not a state iterable", () => {
    const s = State.Completed()
    const holey = new Array<State.State<unknown>>(3)
    holey[0] = s
    holey[2] = s
    for (
      const u of [[], new Set(), [s, 1], [s, undefined], holey, new Map([[s, s]]), { a: s }, "COMPLETED", s, null, 1]
    ) {
      assert.isTrue(Option.isNone(StateGroup.fromUnknown(u)), String(u))
    }
  })
})
