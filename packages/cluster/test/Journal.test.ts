/**
 * A journaled outcome that cannot be decoded is not a defect: the run's final
 * state comes from its history, or the run ends CRASHED saying what failed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { RunLog, State } from "@runstate/core"
import { fromJournal, toJournal } from "../src/internal/journal.ts"

const runId = "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"

describe("the workflow journal's states", () => {
  it.effect("a state round-trips through its journal form", () =>
    Effect.gen(function*() {
      const state = State.Completed({ message: "All states completed." })
      const back = yield* fromJournal(yield* toJournal(state), runId)
      assert.deepStrictEqual([back.type, back.name, back.message, back.id], [
        state.type,
        state.name,
        state.message,
        state.id
      ])
    }))

  it.effect("an undecodable outcome reads the run's final state from the history", () =>
    Effect.gen(function*() {
      const log = yield* RunLog.makeMemory
      const final = State.Failed({ message: "Task run encountered an exception Error: boom" })
      yield* log.record({ runId, kind: "task", name: "t-0", runCount: 1, from: State.Running(), to: final })
      const back = yield* fromJournal({ type: "NOT-A-TYPE" }, runId).pipe(Effect.provideService(RunLog.RunLog, log))
      assert.strictEqual(back.id, final.id)
      assert.strictEqual(back.message, final.message)
    }))

  it.effect("without a final state in the history, an undecodable outcome ends the run CRASHED, saying why", () =>
    Effect.gen(function*() {
      const log = yield* RunLog.makeMemory
      yield* log.record({ runId, kind: "task", name: "t-0", runCount: 1, from: undefined, to: State.Running() })
      const back = yield* fromJournal(["garbage"], runId).pipe(Effect.provideService(RunLog.RunLog, log))
      assert.strictEqual(back.type, "CRASHED")
      assert.match(back.message!, new RegExp(`^The recorded outcome of run ${runId} could not be read back: `))
      const alone = yield* fromJournal(null, runId)
      assert.strictEqual(alone.type, "CRASHED")
    }))
})
