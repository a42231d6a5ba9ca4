/**
 * The shared conformance suite: `suite(name, target)` registers the same
 * describe/it blocks for any `ResultStore` layer (memory, key-value memory,
 * file system, Redis, PostgreSQL). Every layer must pass all of it.
 *
 * A target gives the store under test (`layer`, default options) and, when
 * the storage can be shared, a second store over the same storage with the
 * cache off (`uncached`), so reads prove the bytes went to storage and the
 * cache tests can observe the cache. Capabilities switch on the lock tests,
 * the split-metadata tests and the "expired records are deleted" tests.
 */
import { assert, describe, layer } from "@effect/vitest"
import { DateTime, Duration, Effect, Exit, Fiber, Layer, Schema } from "effect"
import * as Context from "effect/Context"
import { ResultRecord, ResultStore, type RunError, Serializer } from "@runstate/core"

/** A second store over the same storage, cache off. */
export class Uncached extends Context.Service<Uncached, ResultStore.ResultStoreShape>()("test/conformance/Uncached") {}

/** A store with Prefect's split metadata layout (its own storage), cache off. */
export class Split extends Context.Service<Split, ResultStore.ResultStoreShape>()("test/conformance/Split") {}

export interface Target {
  /** The store under test, default options (cache on). */
  readonly layer: Layer.Layer<ResultStore.ResultStore, unknown>
  /** The same storage, cache off; absent when the storage cannot be shared (reads then go through `layer`). */
  readonly uncached?: Layer.Layer<ResultStore.ResultStore, unknown> | undefined
  /** A split-layout store, when the layer supports a metadata store. */
  readonly split?: Layer.Layer<ResultStore.ResultStore, unknown> | undefined
  /** The layer has a lock manager. */
  readonly locks: boolean
  /** Storage deletes a record when it expires (Redis TTL): reading it afterwards is `MissingResult`. */
  readonly deletesExpired?: boolean | undefined
  /** Records in the batch test (default 10,000). */
  readonly batch?: number | undefined
  /** Test timeout in ms for the heavy tests (default 60 s). */
  readonly timeout?: number | undefined
}

let run = 0
/** Keys unique to one test, so tests share a layer without seeing each other's records. */
const keys = (test: string) => {
  const base = `c${Date.now().toString(36)}${(run++).toString(36)}-${test}`
  return (k: string | number) => `${base}/${k}`
}

const Point = Schema.Struct({ x: Schema.Number, label: Schema.String, tags: Schema.Array(Schema.String) })

/** Values every serializer must round-trip. */
const jsonValues: ReadonlyArray<unknown> = [
  "The results are in...",
  "",
  0,
  -17,
  1.5,
  true,
  false,
  null,
  [],
  [1, 2, 3],
  { a: [1, 2, 3], b: null },
  { nested: { deeper: { deepest: ["x", { y: 1 }] } } },
  "é ünïcødé 🎉 \u0000 \n \"quoted\" \\ back",
  "x".repeat(100_000)
]

/** Writes `value` at `key` with `serializer` (a record of the store whose serializer is replaced). */
const writeWith = (
  store: ResultStore.ResultStoreShape,
  key: string,
  value: unknown,
  serializer: Serializer.Serializer,
  expiration: DateTime.Utc | null = null
) =>
  Effect.gen(function*() {
    const created = yield* store.createResultRecord(value, { key, expiration })
    const record = ResultRecord.make({
      metadata: ResultRecord.makeMetadata({
        storageKey: created.metadata.storageKey,
        expiration: created.metadata.expiration,
        serializer,
        storageBlockId: created.metadata.storageBlockId
      }),
      result: value
    })
    return yield* store.persistResultRecord(record)
  })

const inMs = (ms: number) => Effect.map(DateTime.now, (now) => DateTime.add(now, { milliseconds: ms }))

const isTag = <T extends string>(exit: Exit.Exit<unknown, unknown>, tag: T): boolean =>
  Exit.isFailure(exit) &&
  exit.cause.reasons.some((r) => r._tag === "Fail" && (r.error as { _tag?: string })._tag === tag)

const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown => {
  if (!Exit.isFailure(exit)) return undefined
  const fail = exit.cause.reasons.find((r) => r._tag === "Fail")
  return fail === undefined ? undefined : (fail as { error: unknown }).error
}

/**
 * Registers the conformance suite for one `ResultStore` layer.
 */
export const suite = (name: string, target: Target): void => {
  const uncachedLayer = Layer.effect(Uncached, ResultStore.ResultStore).pipe(
    Layer.provide(target.uncached ?? target.layer)
  )
  const base = target.uncached === undefined
    ? Layer.effectContext(
      Effect.map(
        ResultStore.ResultStore,
        (store) => Context.make(ResultStore.ResultStore, store).pipe(Context.add(Uncached, store))
      )
    ).pipe(
      Layer.provide(target.layer)
    )
    : Layer.merge(target.layer, uncachedLayer)
  // Without a split target the Split service is never used (its tests are not registered).
  const splitLayer: Layer.Layer<Split, unknown> = target.split === undefined
    ? Layer.succeed(Split, null as unknown as ResultStore.ResultStoreShape)
    : Layer.effect(Split, ResultStore.ResultStore).pipe(Layer.provide(target.split))
  const heavy = target.timeout ?? 60_000
  const shared = target.uncached !== undefined

  layer(Layer.merge(base, splitLayer), { timeout: "120 seconds", excludeTestServices: true })(
    `conformance: ${name}`,
    (it) => {
      describe("serializers", () => {
        const serializers: ReadonlyArray<readonly [string, Serializer.Serializer, ReadonlyArray<unknown>]> = [
          ["json", Serializer.json, jsonValues],
          ["compressed/json zlib", Serializer.compressedJson({ compressionlib: "zlib" }), jsonValues],
          ["compressed/json gzip", Serializer.compressedJson({ compressionlib: "gzip" }), jsonValues],
          ["schema(Point)", Serializer.schema(Point), [
            { x: 1, label: "a", tags: [] },
            { x: -2.5, label: "ünï", tags: ["p", "q"] }
          ]]
        ]
        for (const [label, serializer, values] of serializers) {
          it.effect(`${label}: every value round-trips through storage`, () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const cold = yield* Uncached
              const key = keys(`ser-${label.replace(/\W+/g, "-")}`)
              yield* Effect.forEach(values, (value, i) => writeWith(store, key(i), value, serializer), {
                concurrency: 4
              })
              for (let i = 0; i < values.length; i++) {
                const record = yield* cold.read(key(i))
                assert.deepStrictEqual(record.result, values[i])
                assert.strictEqual(record.metadata.serializer.type, serializer.type)
                assert.isTrue(record.persisted)
              }
            }))
        }

        it.effect("a value the serializer cannot encode is a SerializationError and nothing is written", () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            const cold = yield* Uncached
            const key = keys("unserializable")
            const cyclic: Record<string, unknown> = {}
            cyclic.self = cyclic
            const exit = yield* Effect.exit(store.write(cyclic, { key: key(0) }))
            assert.isTrue(isTag(exit, "SerializationError"), String(failureOf(exit)))
            assert.isTrue(isTag(yield* Effect.exit(cold.read(key(0))), "MissingResult"))
            assert.isFalse(yield* cold.exists(key(0)))
          }))
      })

      describe("exists", () => {
        it.effect("false for a missing key, true after a write without expiration", () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            const key = keys("exists")
            assert.isFalse(yield* store.exists(key(0)))
            yield* store.write({ v: 1 }, { key: key(0) })
            assert.isTrue(yield* store.exists(key(0)))
          }))

        it.effect("honours expiration: future → true, past → false", () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            const key = keys("exists-exp")
            yield* store.write("later", { key: key(0), expiration: yield* inMs(60_000) })
            yield* store.write("earlier", { key: key(1), expiration: yield* inMs(-1_000) })
            assert.isTrue(yield* store.exists(key(0)))
            assert.isFalse(yield* store.exists(key(1)))
          }))

        it.effect("turns false once the expiration passes", () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            const cold = yield* Uncached
            const key = keys("exists-ttl")
            yield* store.write("short-lived", { key: key(0), expiration: yield* inMs(250) })
            assert.isTrue(yield* store.exists(key(0)))
            yield* Effect.sleep(Duration.millis(400))
            assert.isFalse(yield* store.exists(key(0)))
            const exit = yield* Effect.exit(cold.read(key(0)))
            if (target.deletesExpired === true) {
              // Really deleted: storage has nothing at the key any more.
              assert.isTrue(isTag(exit, "MissingResult"), String(failureOf(exit)))
            } else {
              // Prefect does not check expiration when reading from storage.
              assert.isTrue(Exit.isSuccess(exit))
            }
          }))

        it.effect("false for a raw (envelope-less) result", () =>
          Effect.gen(function*() {
            const split = target.split === undefined ? undefined : yield* Split
            // Only observable through a metadata store: with one, a key never written there does not exist.
            if (split !== undefined) assert.isFalse(yield* split.exists(keys("raw")(0)))
            const store = yield* ResultStore.ResultStore
            assert.isFalse(yield* store.exists(keys("raw")(1)))
          }))
      })

      if (target.split !== undefined) {
        describe("split metadata layout", () => {
          it.effect("writes, reads back and answers exists from the metadata", () =>
            Effect.gen(function*() {
              const split = yield* Split
              const key = keys("split")
              yield* split.write({ a: [1, 2, 3], b: null }, { key: key(0) })
              yield* split.write("expired", { key: key(1), expiration: yield* inMs(-1_000) })
              const record = yield* split.read(key(0))
              assert.deepStrictEqual(record.result, { a: [1, 2, 3], b: null })
              assert.isTrue(yield* split.exists(key(0)))
              assert.isFalse(yield* split.exists(key(1)))
              assert.isTrue(isTag(yield* Effect.exit(split.read(key(2))), "MissingResult"))
            }))

          it.effect("concurrent split writes and reads stay consistent", () =>
            Effect.gen(function*() {
              const split = yield* Split
              const key = keys("split-conc")
              yield* Effect.forEach(
                Array.from({ length: 64 }, (_, i) => i),
                (i) => split.write({ i }, { key: key(i) }),
                {
                  concurrency: 16
                }
              )
              const results = yield* Effect.forEach(
                Array.from({ length: 64 }, (_, i) => i),
                (i) => Effect.map(split.read(key(i)), (r) => r.result),
                { concurrency: 16 }
              )
              assert.deepStrictEqual(results, Array.from({ length: 64 }, (_, i) => ({ i })))
            }))
        })
      }

      describe("hostile keys", () => {
        it.effect("keys differing only in lone surrogates never collide: InvalidState, nothing written", () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            const cold = yield* Uncached
            const key = keys("surrogate")
            // The key their UTF-8 would become (each lone surrogate → U+FFFD): a real record.
            yield* store.write("replacement", { key: key("x\uFFFD") })
            for (const bad of [key("x\ud800"), key("x\udfff"), `\udc00${key(0)}`]) {
              const written = yield* Effect.exit(store.write("lone", { key: bad }))
              assert.isTrue(isTag(written, "InvalidState"), String(failureOf(written)))
              assert.include((failureOf(written) as RunError.InvalidState).message, "lone surrogate")
              const created = yield* Effect.exit(store.createResultRecord("lone", { key: bad }))
              assert.isTrue(isTag(created, "InvalidState"), String(failureOf(created)))
              const read = yield* Effect.exit(cold.read(bad))
              assert.isTrue(isTag(read, "InvalidState"), String(failureOf(read)))
              assert.isFalse(yield* cold.exists(bad))
            }
            assert.strictEqual((yield* cold.read(key("x\uFFFD"))).result, "replacement")
            // Well-formed astral characters (surrogate pairs) are ordinary keys.
            yield* store.write("pair", { key: key("x\ud83c\udf89") })
            assert.strictEqual((yield* cold.read(key("x\ud83c\udf89"))).result, "pair")
          }))

        it.effect("a key ending in the temp-file suffix is an ordinary key", () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            const cold = yield* Uncached
            const key = keys("tmp-suffix")("report.runstate-tmp")
            yield* store.write({ kept: true }, { key })
            assert.deepStrictEqual((yield* cold.read(key)).result, { kept: true })
            assert.isTrue(yield* cold.exists(key))
          }))

        it.effect("keys starting with `..` (a legal name) are ordinary keys", () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            const cold = yield* Uncached
            const top = `..${keys("dotdot")(0).replace("/", "-")}`
            const nested = `${top}-dir/..inner`
            yield* store.write("top", { key: top })
            yield* store.write("nested", { key: nested })
            assert.strictEqual((yield* cold.read(top)).result, "top")
            assert.strictEqual((yield* cold.read(nested)).result, "nested")
            assert.isTrue(yield* cold.exists(top))
            if (target.split !== undefined) {
              const split = yield* Split
              yield* split.write("split", { key: top })
              assert.strictEqual((yield* split.read(top)).result, "split")
              assert.isTrue(yield* split.exists(top))
            }
            if (target.locks) {
              // The lock is keyed by the base key: another holder's write is refused.
              assert.isTrue(yield* store.acquireLock(top, { holder: "a" }))
              const refused = yield* Effect.exit(store.write("intruder", { key: top, holder: "b" }))
              assert.isTrue(isTag(refused, "InvalidState"), String(failureOf(refused)))
              yield* store.releaseLock(top, { holder: "a" })
              assert.strictEqual((yield* cold.read(top)).result, "top")
            }
          }))
      })

      describe("cache", () => {
        it.effect("a read after a write is served whole, marked persisted", () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            const key = keys("cache")
            yield* store.write({ n: 1 }, { key: key(0) })
            const record = yield* store.read(key(0))
            assert.deepStrictEqual(record.result, { n: 1 })
            assert.isTrue(record.persisted)
          }))

        if (shared) {
          it.effect("the cached store serves its cached record; an uncached store sees storage", () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const cold = yield* Uncached
              const key = keys("cache-hit")
              yield* store.write("first", { key: key(0) })
              yield* cold.write("second", { key: key(0) })
              assert.strictEqual((yield* store.read(key(0))).result, "first")
              assert.strictEqual((yield* cold.read(key(0))).result, "second")
            }))

          it.effect("a cached record past its expiration is evicted, not served", () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const cold = yield* Uncached
              const key = keys("cache-exp")
              yield* store.write("cached", { key: key(0), expiration: yield* inMs(200) })
              yield* cold.write("stored", { key: key(0) })
              assert.strictEqual((yield* store.read(key(0))).result, "cached")
              yield* Effect.sleep(Duration.millis(300))
              assert.strictEqual((yield* store.read(key(0))).result, "stored")
            }))
        }
      })

      if (target.locks) {
        describe("locks", () => {
          it.effect("acquire, re-enter, holder checks, release", () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const key = keys("lock")(0)
              assert.isTrue(yield* store.supportsIsolationLevel("SERIALIZABLE"))
              assert.isFalse(yield* store.isLocked(key))
              assert.isTrue(yield* store.acquireLock(key, { holder: "a" }))
              assert.isTrue(yield* store.acquireLock(key, { holder: "a", timeout: 0 }))
              assert.isTrue(yield* store.isLocked(key))
              assert.isTrue(yield* store.isLockHolder(key, { holder: "a" }))
              assert.isFalse(yield* store.isLockHolder(key, { holder: "b" }))
              yield* store.releaseLock(key, { holder: "a" })
              assert.isFalse(yield* store.isLocked(key))
              assert.isTrue(yield* store.acquireLock(key, { holder: "b", timeout: 0 }))
              yield* store.releaseLock(key, { holder: "b" })
            }))

          it.effect("contention: another holder times out; released locks are taken", () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const key = keys("lock-contend")(0)
              assert.isTrue(yield* store.acquireLock(key, { holder: "a" }))
              const start = Date.now()
              assert.isFalse(yield* store.acquireLock(key, { holder: "b", timeout: Duration.millis(100) }))
              assert.isAtLeast(Date.now() - start, 90)
              assert.isFalse(yield* store.acquireLock(key, { holder: "b", timeout: 0 }))
              const waiter = yield* Effect.forkChild(store.acquireLock(key, { holder: "b", timeout: "5 seconds" }))
              yield* Effect.sleep(Duration.millis(50))
              yield* store.releaseLock(key, { holder: "a" })
              assert.isTrue(yield* Fiber.join(waiter))
              assert.isTrue(yield* store.isLockHolder(key, { holder: "b" }))
              yield* store.releaseLock(key, { holder: "b" })
            }))

          it.effect("release by a non-holder fails with InvalidState", () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const key = keys("lock-release")(0)
              const free = yield* Effect.exit(store.releaseLock(key, { holder: "nobody" }))
              assert.strictEqual(
                (failureOf(free) as RunError.InvalidState).message,
                `No lock held by nobody for transaction with key ${key}`
              )
              yield* store.acquireLock(key, { holder: "a" })
              const other = yield* Effect.exit(store.releaseLock(key, { holder: "b" }))
              assert.isTrue(isTag(other, "InvalidState"))
              assert.strictEqual(
                (failureOf(other) as RunError.InvalidState).message,
                `No lock held by b for transaction with key ${key}`
              )
              assert.isTrue(yield* store.isLockHolder(key, { holder: "a" }))
              yield* store.releaseLock(key, { holder: "a" })
            }))

          it.effect("waitForLock: free → true, released in time → true, timeout → false", () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const key = keys("lock-wait")(0)
              assert.isTrue(yield* store.waitForLock(key, { timeout: 0 }))
              yield* store.acquireLock(key, { holder: "a" })
              assert.isFalse(yield* store.waitForLock(key, { timeout: Duration.millis(80) }))
              const waiter = yield* Effect.forkChild(store.waitForLock(key, { timeout: "5 seconds" }))
              yield* Effect.sleep(Duration.millis(50))
              yield* store.releaseLock(key, { holder: "a" })
              assert.isTrue(yield* Fiber.join(waiter))
            }))

          it.effect("a locked key refuses writes by others and makes their reads wait", () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const key = keys("lock-write")
              yield* store.write("before", { key: key(0), holder: "a" })
              const record = yield* store.createResultRecord("x", { key: key(0) })
              const storageKey = record.metadata.storageKey!
              // Locks are keyed by the base key: the key itself here.
              assert.isTrue(yield* store.acquireLock(key(0), { holder: "a" }))
              const refused = yield* Effect.exit(store.write("intruder", { key: key(0), holder: "b" }))
              assert.isTrue(isTag(refused, "InvalidState"))
              assert.include((failureOf(refused) as RunError.InvalidState).message, "is locked by another holder")
              yield* store.write("mine", { key: key(0), holder: "a" })
              const reader = yield* Effect.forkChild(store.read(key(0), { holder: "b" }))
              yield* Effect.sleep(Duration.millis(60))
              assert.isUndefined(reader.pollUnsafe())
              yield* store.releaseLock(key(0), { holder: "a" })
              const read = yield* Fiber.join(reader)
              assert.strictEqual(read.result, "mine")
              assert.strictEqual(read.metadata.storageKey, storageKey)
            }))

          it.effect("an invalid timeout (-5, \"soon\") is InvalidState for every lock operation", () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const key = keys("lock-invalid")(0)
              for (const timeout of [-5, "soon", "-5 seconds"] as ReadonlyArray<Duration.Input>) {
                const acquired = yield* Effect.exit(store.acquireLock(key, { holder: "a", timeout }))
                assert.isTrue(isTag(acquired, "InvalidState"), `acquireLock ${String(timeout)}: ${acquired}`)
                const waited = yield* Effect.exit(store.waitForLock(key, { timeout }))
                assert.isTrue(isTag(waited, "InvalidState"), `waitForLock ${String(timeout)}: ${waited}`)
              }
              // Nothing was taken.
              assert.isFalse(yield* store.isLocked(key))
            }))

          it.effect("16 holders contending for one lock never overlap", () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const key = keys("lock-mutex")(0)
              let inside = 0
              let maxInside = 0
              let entered = 0
              yield* Effect.forEach(Array.from({ length: 16 }, (_, i) => `h${i}`), (holder) =>
                Effect.gen(function*() {
                  assert.isTrue(yield* store.acquireLock(key, { holder, timeout: "20 seconds" }))
                  inside++
                  entered++
                  maxInside = Math.max(maxInside, inside)
                  yield* Effect.sleep(Duration.millis(2))
                  inside--
                  yield* store.releaseLock(key, { holder })
                }), { concurrency: 16 })
              assert.strictEqual(entered, 16)
              assert.strictEqual(maxInside, 1)
            }), heavy)
        })
      } else {
        it.effect("locking without a lock manager is a ConfigurationError", () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            assert.isFalse(yield* store.supportsIsolationLevel("SERIALIZABLE"))
            assert.isTrue(isTag(yield* Effect.exit(store.acquireLock("k")), "ConfigurationError"))
          }))
      }

      describe("concurrency", () => {
        it.effect("writers and readers on different keys (concurrency 16)", () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            const cold = yield* Uncached
            const key = keys("conc-diff")
            const n = 400
            const ids = Array.from({ length: n }, (_, i) => i)
            const [, reads] = yield* Effect.all([
              Effect.forEach(ids, (i) => store.write({ i, payload: "p".repeat(i) }, { key: key(i) }), {
                concurrency: 16
              }),
              // Readers race the writers: each sees nothing or the whole record.
              Effect.forEach(ids, (i) =>
                Effect.exit(cold.read(key(i))).pipe(
                  Effect.map((exit) => Exit.isSuccess(exit) ? exit.value.result : failureOf(exit))
                ), { concurrency: 16 })
            ], { concurrency: 2 })
            reads.forEach((r, i) => {
              if (typeof r === "object" && r !== null && "_tag" in r) {
                assert.strictEqual((r as { _tag: string })._tag, "MissingResult")
              } else {
                assert.deepStrictEqual(r, { i, payload: "p".repeat(i) })
              }
            })
            const after = yield* Effect.forEach(ids, (i) => Effect.map(cold.read(key(i)), (r) => r.result), {
              concurrency: 16
            })
            assert.deepStrictEqual(after, ids.map((i) => ({ i, payload: "p".repeat(i) })))
          }), heavy)

        it.effect(
          "writers and readers on the same key: every read is one whole written value",
          () =>
            Effect.gen(function*() {
              const store = yield* ResultStore.ResultStore
              const cold = yield* Uncached
              const key = keys("conc-same")(0)
              const big = "v".repeat(64 * 1024)
              yield* store.write({ writer: -1, round: -1, big }, { key })
              const written = new Set<string>(["-1:-1"])
              const writes = Effect.forEach(Array.from({ length: 16 }, (_, w) => w), (writer) =>
                Effect.forEach(
                  Array.from({ length: 8 }, (_, r) => r),
                  (round) =>
                    Effect.andThen(
                      Effect.sync(() => written.add(`${writer}:${round}`)),
                      store.write({ writer, round, big }, { key })
                    ),
                  { discard: true }
                ), { concurrency: 16, discard: true })
              const reads = Effect.forEach(
                Array.from({ length: 128 }, (_, i) => i),
                () => Effect.map(cold.read(key), (r) => r.result as { writer: number; round: number; big: string }),
                {
                  concurrency: 16
                }
              )
              const [, seen] = yield* Effect.all([writes, reads], { concurrency: 2 })
              for (const value of seen) {
                assert.strictEqual(value.big, big)
                assert.isTrue(written.has(`${value.writer}:${value.round}`))
              }
              const final = (yield* cold.read(key)).result as { round: number; big: string }
              assert.strictEqual(final.big, big)
              assert.strictEqual(final.round, 7)
            }),
          heavy
        )
      })

      it.effect(
        `a batch of ${target.batch ?? 10_000} records: written, read back, exist`,
        () =>
          Effect.gen(function*() {
            const store = yield* ResultStore.ResultStore
            const cold = yield* Uncached
            const key = keys("batch")
            const n = target.batch ?? 10_000
            const ids = Array.from({ length: n }, (_, i) => i)
            yield* Effect.forEach(ids, (i) => store.write({ i, s: `record ${i}` }, { key: key(i) }), {
              concurrency: 16,
              discard: true
            })
            const results = yield* Effect.forEach(ids, (i) => Effect.map(cold.read(key(i)), (r) => r.result), {
              concurrency: 16
            })
            for (let i = 0; i < n; i++) assert.deepStrictEqual(results[i], { i, s: `record ${i}` })
            const sample = [0, 1, n >> 1, n - 1]
            for (const i of sample) assert.isTrue(yield* cold.exists(key(i)))
          }),
        heavy
      )
    }
  )
}
