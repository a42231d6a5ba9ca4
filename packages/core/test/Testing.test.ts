/**
 * The testing entry point, `@runstate/core/testing`: its arbitraries produce
 * what they promise (checked as properties), and `FaultInjection` is the same
 * module through the entry point, the deprecated barrel re-export and the old
 * deep import.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Equal } from "effect"
import * as fc from "fast-check"
import * as OldFaultInjection from "@runstate/core/FaultInjection"
import { FaultInjection as BarrelFaultInjection, ResultRecord, State, StateDetails, StateType } from "@runstate/core"
import { Arbitraries, FaultInjection } from "@runstate/core/testing"

const seed = Arbitraries.seedFromEnv()
beforeAll(() => {
  console.log(`Testing.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)
})

describe("Arbitraries", () => {
  it("law: stateOfType(t) gives states of type t, with the run ids asked for", () => {
    fc.assert(
      fc.property(
        Arbitraries.stateType.chain((type) =>
          fc.tuple(
            fc.constant(type),
            fc.constantFrom<Arbitraries.RunIds>("none", "flow", "task", "both").chain((ids) =>
              fc.tuple(fc.constant(ids), Arbitraries.stateOfType(type, { ids, details: true, timestamp: true }))
            )
          )
        ),
        ([type, [ids, state]]) => {
          assert.isTrue(State.isState(state))
          assert.strictEqual(state.type, type)
          assert.strictEqual(state.stateDetails.flowRunId !== null, ids === "flow" || ids === "both")
          assert.strictEqual(state.stateDetails.taskRunId !== null, ids === "task" || ids === "both")
          if (type === "SCHEDULED") assert.isNotNull(state.stateDetails.scheduledTime)
        }
      ),
      { seed, numRuns: 300 }
    )
  })

  it("law: stateDetails are complete details; stateAmong stays among its types", () => {
    fc.assert(
      fc.property(Arbitraries.stateDetails, Arbitraries.stateAmong(["FAILED", "CRASHED"]), (details, state) => {
        assert.deepStrictEqual(Object.keys(details).sort(), [...StateDetails.fields].sort())
        assert.include(["FAILED", "CRASHED"], state.type)
      }),
      { seed, numRuns: 200 }
    )
    const seen = new Set(fc.sample(Arbitraries.state, { seed, numRuns: 500 }).map((s) => s.type))
    assert.deepStrictEqual([...seen].sort(), [...StateType.all].sort())
  })

  it.effect("law: a generated result record serializes and reads back equal", () =>
    Effect.gen(function*() {
      const records = fc.sample(Arbitraries.resultRecord(), { seed, numRuns: 100 })
      for (const record of records) {
        const back = yield* ResultRecord.deserialize(yield* ResultRecord.serialize(record))
        assert.isTrue(Equal.equals(back, record), ResultRecord.isResultRecord(back) ? "unequal" : "not a record")
      }
    }))
})

describe("FaultInjection", () => {
  it("is the same module through the testing entry point, the barrel and the old deep import", () => {
    assert.strictEqual(BarrelFaultInjection.make, FaultInjection.make)
    assert.strictEqual(OldFaultInjection.make, FaultInjection.make)
    assert.strictEqual(OldFaultInjection.FaultController, FaultInjection.FaultController)
  })
})
