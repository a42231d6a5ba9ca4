/**
 * The run history: the memory layer, and the layer that persists through a
 * `KeyValueStore` (here over effect's memory store; files, Redis and
 * PostgreSQL in packages/node/test/RunLogStorage.test.ts).
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { KeyValueStore } from "effect/persistence"
import * as fc from "fast-check"
import { RunLog } from "@runstate/core"
import { Arbitraries } from "@runstate/core/testing"
import { failingSuite, lifecycle, runLogSuite, sameTransitions } from "./runLogSuite.ts"

describe("RunLog.makeMemory", () => {
  it.effect("keeps each run's transitions in order and lists runs in first-record order", () =>
    Effect.gen(function*() {
      const log = yield* RunLog.makeMemory
      const a = lifecycle("a")
      const b = lifecycle("b", { flowRunId: "f" })
      for (let i = 0; i < 5; i++) {
        yield* log.record(b[i]!)
        yield* log.record(a[i]!)
      }
      sameTransitions(yield* log.history("a"), a)
      assert.deepStrictEqual((yield* log.runs()).map((r) => r.runId), ["b", "a"])
      assert.deepStrictEqual((yield* log.runs({ flowRunId: "f" })).map((r) => r.runId), ["b"])
    }))
})

// One memory store shared by every handle: built once, provided as a value.
const sharedMemory = Layer.effect(
  KeyValueStore.KeyValueStore,
  Effect.succeed(Effect.runSync(KeyValueStore.KeyValueStore.pipe(Effect.provide(KeyValueStore.layerMemory))))
)

runLogSuite("KeyValueStore.layerMemory", sharedMemory)
failingSuite()

const seed = Arbitraries.seedFromEnv()
beforeAll(() => {
  console.log(`RunLog.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)
})

describe("law: every recorded history reads back equal through a fresh handle", () => {
  it("generated states (all types, any details, JSON data) round-trip through the KeyValueStore layer", () => {
    const transitions = fc.array(
      Arbitraries.stateType.chain((type) =>
        Arbitraries.stateOfType(type, { details: true, timestamp: true, data: Arbitraries.jsonData })
      ),
      { minLength: 1, maxLength: 6 }
    )
    fc.assert(
      fc.property(transitions, fc.uuid(), (states, runId) => {
        const kv = Effect.runSync(KeyValueStore.KeyValueStore.pipe(Effect.provide(KeyValueStore.layerMemory)))
        const open = RunLog.makeKeyValueStore().pipe(Effect.provideService(KeyValueStore.KeyValueStore, kv))
        const recorded = states.map((to, i): RunLog.Transition => ({
          runId,
          kind: "task",
          name: "generated",
          runCount: i,
          from: states[i - 1],
          to
        }))
        const back = Effect.runSync(Effect.gen(function*() {
          const writer = yield* open
          for (const t of recorded) yield* writer.record(t)
          return yield* (yield* open).history(runId)
        }))
        sameTransitions(back, recorded)
      }),
      { seed, numRuns: 100 }
    )
  })
})
