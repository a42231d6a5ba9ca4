/**
 * The run history: the memory layer, and the layer that persists through a
 * `KeyValueStore` (here over effect's memory store; files, Redis and
 * PostgreSQL in packages/node/test/RunLogStorage.test.ts).
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { KeyValueStore } from "effect/persistence"
import * as fc from "fast-check"
import { ResultRecord, RunLog, Serializer, State } from "@runstate/core"
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

describe("RunLog.makeKeyValueStore: result records", () => {
  it.effect("a record reads back persisted or not as it was written, so a state read back sends the same data", () =>
    Effect.gen(function*() {
      const log = yield* RunLog.makeKeyValueStore()
      const metadata = ResultRecord.makeMetadata({ storageKey: "/results/k", serializer: Serializer.json })
      const unpersisted = ResultRecord.make({ metadata, result: 23.25 })
      const persisted = ResultRecord.markPersisted(unpersisted)
      const to = (data: ResultRecord.ResultRecord<number>) => State.Completed({ data })
      yield* log.record({ runId: "p", kind: "task", name: "t", runCount: 1, from: undefined, to: to(persisted) })
      yield* log.record({ runId: "u", kind: "task", name: "t", runCount: 1, from: undefined, to: to(unpersisted) })
      // A fresh handle over the same store: what another process reads.
      const fresh = yield* RunLog.makeKeyValueStore()
      const back = (runId: string) =>
        Effect.map(fresh.history(runId), (h) => h[0]!.to.data as ResultRecord.ResultRecord<number>)
      const p = yield* back("p")
      const u = yield* back("u")
      assert.isTrue(p.persisted)
      assert.isFalse(u.persisted)
      assert.strictEqual(p.result, 23.25)
      assert.strictEqual(p.metadata.storageKey, "/results/k")
      // The state read back sends its metadata to Prefect as the original does.
      assert.deepStrictEqual(State.toStateCreate(to(p)).data, State.toStateCreate(to(persisted)).data)
      assert.isNotNull(State.toStateCreate(to(p)).data)
    }).pipe(Effect.provide(KeyValueStore.layerMemory)))
})
