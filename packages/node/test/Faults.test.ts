/**
 * Storage faults injected with `FaultInjection` (a faulty `KeyValueStore`
 * wrapper) under the result store, over memory and over the file system:
 * failed persists are typed errors and leave what was stored before intact;
 * reads through transient faults succeed when retried (`getStateResult`'s
 * schedule); nothing acknowledged as written is lost.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Schedule } from "effect"
import { KeyValueStore } from "effect/persistence"
import * as fc from "fast-check"
import { mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ResultStore, State, StateResult } from "@runstate/core"
import { FaultInjection } from "@runstate/core/testing"
import { NodeResultStore } from "@runstate/node"

const seed = process.env.FC_SEED === undefined ? Date.now() % 1_000_000 : Number(process.env.FC_SEED)
console.log(`Faults.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)

const errorTag = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (!Exit.isFailure(exit)) return undefined
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  return reason === undefined ? "defect" : (reason as { error: { _tag: string } }).error._tag
}

const root = mkdtempSync(path.join(os.tmpdir(), "runstate-faults-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** The backing stores the faults are injected into. */
const backings: ReadonlyArray<readonly [string, () => Layer.Layer<KeyValueStore.KeyValueStore, unknown>]> = [
  ["memory", () => Layer.fresh(KeyValueStore.layerMemory)],
  [
    "file system",
    () => NodeResultStore.layerFileSystemKeyValueStore(mkdtempSync(path.join(root, "d")), { fsync: false })
  ]
]

/** A healthy store and a faulty one (cache off) over the same backing store. */
const stores = (backing: Layer.Layer<KeyValueStore.KeyValueStore, unknown>, options: FaultInjection.Options = {}) =>
  Effect.gen(function*() {
    const kv = yield* KeyValueStore.KeyValueStore
    const { controller, store: faultyKv } = FaultInjection.make(kv, options)
    const healthy = yield* ResultStore.make({ store: kv, cache: false })
    const faulty = yield* ResultStore.make({ store: faultyKv, cache: false })
    return { controller, faulty, healthy }
  }).pipe(Effect.provide(backing))

for (const [name, backing] of backings) {
  describe(`faults over ${name}`, () => {
    it.effect("a failed write is a StorageError and the record stored before stays intact", () =>
      Effect.gen(function*() {
        const { controller, faulty, healthy } = yield* stores(backing())
        yield* faulty.write({ version: 1 }, { key: "k" })
        yield* controller.failNext(1)
        const exit = yield* Effect.exit(faulty.write({ version: 2 }, { key: "k" }))
        assert.strictEqual(errorTag(exit), "StorageError")
        if (Exit.isFailure(exit)) {
          assert.isTrue(FaultInjection.isInjectedFault((exit.cause.reasons[0] as { error: unknown }).error))
        }
        assert.deepStrictEqual((yield* healthy.read("k")).result, { version: 1 })
        // The store recovers after the fault.
        yield* faulty.write({ version: 3 }, { key: "k" })
        assert.deepStrictEqual((yield* healthy.read("k")).result, { version: 3 })
        assert.deepStrictEqual(yield* controller.stats, { operations: 3, failures: 1 })
      }))

    it.effect("with 30% of operations failing, every failure is typed and every acknowledged write is readable", () =>
      Effect.gen(function*() {
        const { controller, faulty, healthy } = yield* stores(backing(), { rate: 0.3, seed })
        const outcomes = yield* Effect.forEach(
          Array.from({ length: 200 }, (_, i) => i),
          (i) => Effect.exit(faulty.write({ i }, { key: `r/${i}` })),
          { concurrency: 16 }
        )
        const failed = outcomes.filter(Exit.isFailure)
        assert.isAbove(failed.length, 20)
        assert.isBelow(failed.length, 120)
        for (const exit of failed) assert.strictEqual(errorTag(exit), "StorageError")
        yield* controller.heal
        for (let i = 0; i < outcomes.length; i++) {
          const read = yield* Effect.exit(healthy.read(`r/${i}`))
          if (Exit.isSuccess(outcomes[i]!)) {
            assert.isTrue(Exit.isSuccess(read))
            if (Exit.isSuccess(read)) assert.deepStrictEqual(read.value.result, { i })
          } else {
            // A fault before the write: nothing was stored.
            assert.strictEqual(errorTag(read), "MissingResult")
          }
        }
      }))

    it.effect("faults after the operation (lost acknowledgements) never lose an acknowledged write", () =>
      Effect.gen(function*() {
        const { controller, faulty, healthy } = yield* stores(backing(), { rate: 0.5, seed, timing: "after" })
        const outcomes = yield* Effect.forEach(
          Array.from({ length: 100 }, (_, i) => i),
          (i) => Effect.exit(faulty.write({ i }, { key: `after/${i}` })),
          { concurrency: 8 }
        )
        yield* controller.heal
        for (let i = 0; i < outcomes.length; i++) {
          // Applied either way: an unacknowledged write may have landed, an acknowledged one must have.
          assert.deepStrictEqual((yield* healthy.read(`after/${i}`)).result, { i })
        }
        assert.isTrue(outcomes.some(Exit.isFailure))
      }))

    it.live("getStateResult reads through transient faults on its retry schedule", () =>
      Effect.gen(function*() {
        const { controller, faulty, healthy } = yield* stores(backing())
        const record = yield* healthy.persistResultRecord(yield* healthy.createResultRecord({ answer: 42 }))
        const state = State.Completed({ data: record.metadata })
        yield* controller.failNext(4)
        const value = yield* StateResult.getStateResult(state).pipe(
          Effect.provideService(ResultStore.ResultStore, faulty)
        )
        assert.deepStrictEqual(value, { answer: 42 })
        assert.strictEqual((yield* controller.stats).failures, 4)
        // A fault that does not go away is reported once the schedule gives up.
        yield* controller.setRate(1)
        const exit = yield* Effect.exit(
          StateResult.getStateResult(state, { retrySchedule: Schedule.recurs(3) }).pipe(
            Effect.provideService(ResultStore.ResultStore, faulty)
          )
        )
        assert.strictEqual(errorTag(exit), "StorageError")
        // Without retries, one fault is enough to fail.
        yield* controller.heal
        yield* controller.failNext(1)
        const once = yield* Effect.exit(
          StateResult.getStateResult(state, { retryResultFailure: false }).pipe(
            Effect.provideService(ResultStore.ResultStore, faulty)
          )
        )
        assert.strictEqual(errorTag(once), "StorageError")
      }))

    it.effect(
      "property: after any sequence of faulty writes, storage holds the last acknowledged value",
      () =>
        Effect.gen(function*() {
          const ops = fc.array(
            fc.record({ key: fc.integer({ min: 0, max: 5 }), value: fc.integer(), fail: fc.boolean() }),
            { minLength: 1, maxLength: 40 }
          )
          const runs = fc.sample(ops, { numRuns: 25, seed })
          for (const run of runs) {
            const { controller, faulty, healthy } = yield* stores(backing())
            const acknowledged = new Map<number, number>()
            for (const op of run) {
              if (op.fail) yield* controller.failNext(1)
              const exit = yield* Effect.exit(faulty.write(op.value, { key: `p/${op.key}` }))
              assert.strictEqual(Exit.isFailure(exit), op.fail)
              if (Exit.isSuccess(exit)) acknowledged.set(op.key, op.value)
            }
            for (let key = 0; key <= 5; key++) {
              const read = yield* Effect.exit(healthy.read(`p/${key}`))
              const expected = acknowledged.get(key)
              if (expected === undefined) assert.strictEqual(errorTag(read), "MissingResult")
              else assert.isTrue(Exit.isSuccess(read) && read.value.result === expected)
            }
          }
        }),
      60_000
    )
  })
}

describe("FaultInjection", () => {
  it.effect("the same seed fails the same operations", () =>
    Effect.gen(function*() {
      const pattern = (s: number) =>
        Effect.gen(function*() {
          const kv = yield* KeyValueStore.KeyValueStore
          const { store } = FaultInjection.make(kv, { rate: 0.5, seed: s })
          return yield* Effect.forEach(
            Array.from({ length: 64 }, (_, i) => i),
            (i) => Effect.map(Effect.exit(store.set(`k${i}`, "v")), Exit.isFailure)
          )
        }).pipe(Effect.provide(KeyValueStore.layerMemory))
      assert.deepStrictEqual(yield* pattern(7), yield* pattern(7))
      assert.notDeepEqual(yield* pattern(7), yield* pattern(8))
    }))

  it.effect("only the chosen operations fail; the layer provides the controller", () =>
    Effect.gen(function*() {
      const kv = yield* KeyValueStore.KeyValueStore
      const controller = yield* FaultInjection.FaultController
      yield* kv.set("k", "v")
      assert.strictEqual(yield* kv.get("k"), "v")
      yield* controller.setRate(1)
      assert.isTrue(Exit.isFailure(yield* Effect.exit(kv.get("k"))))
      yield* kv.set("k", "w")
      yield* controller.heal
      assert.strictEqual(yield* kv.get("k"), "w")
    }).pipe(
      Effect.provide(FaultInjection.layer({ operations: ["get"] }).pipe(Layer.provide(KeyValueStore.layerMemory)))
    ))
})
