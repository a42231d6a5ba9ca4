import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Exit, Fiber, Layer, Schema } from "effect"
import { KeyValueStore } from "effect/persistence"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { ResultRecord, ResultStore, RunError, Serializer } from "@runstate/core"

const seed = process.env.FC_SEED === undefined ? Date.now() : Number(process.env.FC_SEED)
console.log(`ResultStore.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** An in-memory KeyValueStore that counts its reads and writes and can be told to fail. */
const makeSpyStore = () => {
  const map = new Map<string, Uint8Array>()
  const counts = { get: 0, set: 0 }
  const failing = { get: false, set: false }
  const fail = (method: string, key: string) =>
    Effect.fail(new KeyValueStore.KeyValueStoreError({ message: `disk on fire`, method, key }))
  const store = KeyValueStore.make({
    get: (key) =>
      Effect.suspend(() => {
        counts.get++
        if (failing.get) return fail("get", key)
        const v = map.get(key)
        return Effect.succeed(v === undefined ? undefined : decoder.decode(v))
      }),
    getUint8Array: (key) =>
      Effect.suspend(() => {
        counts.get++
        if (failing.get) return fail("getUint8Array", key)
        return Effect.succeed(map.get(key))
      }),
    set: (key, value) =>
      Effect.suspend(() => {
        counts.set++
        if (failing.set) return fail("set", key)
        map.set(key, typeof value === "string" ? encoder.encode(value) : value)
        return Effect.void
      }),
    remove: (key) => Effect.sync(() => void map.delete(key)),
    clear: Effect.sync(() => map.clear()),
    size: Effect.sync(() => map.size),
    keys: Effect.sync(() => Array.from(map.keys()))
  })
  const text = (key: string): string | undefined => {
    const v = map.get(key)
    return v === undefined ? undefined : decoder.decode(v)
  }
  return { map, counts, failing, store, text }
}

const expectFailure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) assert.fail(`expected a failure, got ${String(exit.value)}`)
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined || error._tag !== "Fail") assert.fail(`expected a typed failure, got ${String(exit.cause)}`)
  return error.error
}

const uuid4Hex = /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/

describe("ResultStore.make: records", () => {
  it.effect("createResultRecord keys with options.key and builds unpersisted metadata from the store", () =>
    Effect.gen(function*() {
      const { store: kv } = makeSpyStore()
      const store = yield* ResultStore.make({ store: kv, storageBlockId: "block-1" })
      const expiration = DateTime.makeUnsafe("2030-01-01T00:00:00Z")
      const record = yield* store.createResultRecord({ a: 1 }, { key: "the-key", expiration })
      assert.strictEqual(record.metadata.storageKey, "the-key")
      assert.strictEqual(record.metadata.storageBlockId, "block-1")
      assert.strictEqual(record.metadata.serializer, store.serializer)
      assert.strictEqual(record.metadata.serializer.type, "json")
      assert.isTrue(DateTime.Equivalence(record.metadata.expiration!, expiration))
      assert.deepStrictEqual(record.result, { a: 1 })
      assert.isFalse(record.persisted)
      assert.strictEqual(store.storageBlockId, "block-1")
    }))

  it.effect("an empty or absent key draws a UUID4 as 32 lowercase hex characters", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.make({ store: makeSpyStore().store })
      const a = yield* store.createResultRecord(1)
      const b = yield* store.createResultRecord(1, { key: "" })
      assert.match(a.metadata.storageKey!, uuid4Hex)
      assert.match(b.metadata.storageKey!, uuid4Hex)
      assert.notStrictEqual(a.metadata.storageKey, b.metadata.storageKey)
      assert.isNull(a.metadata.expiration)
    }))

  it.effect("storageKeyFn and resolveKey shape the storage key; a rejected key is InvalidState", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.make({
        store: makeSpyStore().store,
        storageKeyFn: Effect.succeed("generated"),
        resolveKey: (key) =>
          key.startsWith("..")
            ? Effect.fail(
              new RunError.InvalidState({ message: `Provided path ${key} is outside of the base path /b.` })
            )
            : Effect.succeed(`/b/${key}`)
      })
      assert.strictEqual((yield* store.createResultRecord(1)).metadata.storageKey, "/b/generated")
      assert.strictEqual((yield* store.createResultRecord(1, { key: "k" })).metadata.storageKey, "/b/k")
      const error = expectFailure(yield* Effect.exit(store.createResultRecord(1, { key: "../x" })))
      assert.instanceOf(error, RunError.InvalidState)
      assert.strictEqual(error.message, "Provided path ../x is outside of the base path /b.")
    }))

  it.effect("persistResultRecord writes Prefect's full envelope at the storage key and returns it marked persisted", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const store = yield* ResultStore.make({ store: spy.store })
      const record = yield* store.createResultRecord("The results are in...", { key: "the-key" })
      const persisted = yield* store.persistResultRecord(record)
      assert.isTrue(persisted.persisted)
      assert.isFalse(record.persisted)
      const expected = decoder.decode(yield* ResultRecord.serialize(record))
      assert.strictEqual(spy.text("the-key"), expected)
      assert.include(expected, "\"result\":\"\\\"The results are in...\\\"\"")
    }))

  it.effect("write then read returns the value; a fresh store over the same storage reads it back persisted", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const store = yield* ResultStore.make({ store: spy.store })
      yield* store.write({ a: [1, 2, 3], b: null }, { key: "k" })
      const cachedRead = yield* store.read("k")
      assert.deepStrictEqual(cachedRead.result, { a: [1, 2, 3], b: null })
      assert.strictEqual(spy.counts.get, 0, "served from the cache")
      const other = yield* ResultStore.make({ store: spy.store })
      const read = yield* other.read("k")
      assert.deepStrictEqual(read.result, { a: [1, 2, 3], b: null })
      assert.isTrue(read.persisted)
      assert.strictEqual(read.metadata.storageKey, "k")
      assert.strictEqual(spy.counts.get, 1)
    }))

  it.effect("reading a missing key fails with MissingResult NotFound naming the key", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.make({ store: makeSpyStore().store })
      const error = expectFailure(yield* Effect.exit(store.read("nope")))
      assert.instanceOf(error, RunError.MissingResult)
      assert.strictEqual((error as RunError.MissingResult).reason, "NotFound")
      assert.strictEqual((error as RunError.MissingResult).key, "nope")
      assert.strictEqual(error.message, "Result record not found in result storage at key \"nope\".")
    }))

  it.effect("a record without a storage key cannot be persisted", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.make({ store: makeSpyStore().store })
      const record = ResultRecord.make({
        metadata: ResultRecord.makeMetadata({ storageKey: null, serializer: Serializer.json }),
        result: 1
      })
      const error = expectFailure(yield* Effect.exit(store.persistResultRecord(record)))
      assert.instanceOf(error, RunError.InvalidState)
      assert.strictEqual(error.message, "Storage key is required on result record")
    }))

  it.effect("a raw result (no envelope) is read with the backup serializer, the read option overriding the store's", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      spy.map.set("raw", encoder.encode("\"The results are in...\""))
      const store = yield* ResultStore.make({ store: spy.store, serializer: Serializer.json })
      const record = yield* store.read("raw")
      assert.strictEqual(record.result, "The results are in...")
      assert.isNull(record.metadata.storageKey)
      const other = yield* ResultStore.make({ store: spy.store, serializer: Serializer.unknown({ type: "pickle" }) })
      const failed = expectFailure(yield* Effect.exit(other.read("raw")))
      assert.instanceOf(failed, RunError.SerializationError)
      const viaOption = yield* other.read("raw", { serializer: Serializer.json })
      assert.strictEqual(viaOption.result, "The results are in...")
    }))
})

describe("ResultStore.make: getStored", () => {
  // A store that hands back what it holds — text as text — is read without a UTF-8 round trip,
  // and must read every stored value exactly as getUint8Array would.
  const withGetStored = (spy: ReturnType<typeof makeSpyStore>, calls: { n: number }) =>
    ResultStore.make({
      store: spy.store,
      cache: false,
      getStored: (key) =>
        Effect.sync(() => {
          calls.n++
          const bytes = spy.map.get(key)
          if (bytes === undefined) return undefined
          try {
            return new TextDecoder("utf-8", { fatal: true }).decode(bytes)
          } catch {
            return bytes
          }
        })
    })

  it.effect("text and bytes read as getUint8Array reads them: envelopes, raw results, garbage, missing keys", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const calls = { n: 0 }
      const viaText = yield* withGetStored(spy, calls)
      const viaBytes = yield* ResultStore.make({ store: spy.store, cache: false })
      for (let i = 0; i < 3; i++) yield* viaBytes.write({ i, text: `record ${i} ✓` }, { key: `k${i}` })
      spy.map.set("raw", encoder.encode("[1, 2]"))
      spy.map.set("garbage", encoder.encode("{\"metadata\":{\"storage_key\":\"x\""))
      spy.map.set("binary", new Uint8Array([0xff, 0xfe, 0x00]))
      for (const key of ["k0", "k1", "k2", "raw", "garbage", "binary", "missing"]) {
        const a = yield* Effect.exit(viaText.read(key))
        const b = yield* Effect.exit(viaBytes.read(key))
        assert.strictEqual(a._tag, b._tag, key)
        if (Exit.isSuccess(a) && Exit.isSuccess(b)) {
          assert.deepStrictEqual(a.value.result, b.value.result)
          assert.deepStrictEqual(
            ResultRecord.metadataToJson(a.value.metadata),
            ResultRecord.metadataToJson(b.value.metadata)
          )
          assert.isTrue(a.value.persisted)
        } else {
          assert.strictEqual(String(expectFailure(a)), String(expectFailure(b)), key)
        }
      }
      assert.strictEqual(calls.n, 7)
    }))
})

describe("ResultStore.make: expiration and cache", () => {
  it.effect("an expired cache entry is evicted (by Clock); storage reads ignore expiration, as Prefect", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const store = yield* ResultStore.make({ store: spy.store })
      const now = yield* DateTime.now
      const expiration = DateTime.add(now, { seconds: 10 })
      yield* store.write("v", { key: "k", expiration })
      assert.strictEqual((yield* store.read("k")).result, "v")
      assert.strictEqual(spy.counts.get, 0)
      assert.isTrue(yield* store.exists("k"))
      const getsAfterExists = spy.counts.get
      yield* TestClock.adjust("10 seconds")
      // expiration is not strictly later than now any more
      assert.isFalse(yield* store.exists("k"))
      const read = yield* store.read("k")
      assert.strictEqual(read.result, "v", "storage does not check expiration")
      assert.strictEqual(spy.counts.get, getsAfterExists + 2, "exists and the evicted cache entry both hit storage")
    }))

  it.effect("a record that has not expired is served from the cache", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const store = yield* ResultStore.make({ store: spy.store })
      const expiration = DateTime.add(yield* DateTime.now, { seconds: 10 })
      yield* store.write("v", { key: "k", expiration })
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual((yield* store.read("k")).result, "v")
      assert.strictEqual(spy.counts.get, 0)
    }))

  it.effect("the cache keeps the most recently used entries up to its capacity", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const store = yield* ResultStore.make({ store: spy.store, cache: 2 })
      yield* store.write(1, { key: "a" })
      yield* store.write(2, { key: "b" })
      yield* store.read("a") // a is now most recently used
      yield* store.write(3, { key: "c" }) // evicts b
      assert.strictEqual(spy.counts.get, 0)
      yield* store.read("a")
      yield* store.read("c")
      assert.strictEqual(spy.counts.get, 0, "a and c are cached")
      assert.strictEqual((yield* store.read("b")).result, 2)
      assert.strictEqual(spy.counts.get, 1, "b was evicted")
    }))

  it.effect("cache: 0 and cache: false disable the cache", () =>
    Effect.gen(function*() {
      for (const cache of [0, false] as const) {
        const spy = makeSpyStore()
        const store = yield* ResultStore.make({ store: spy.store, cache })
        yield* store.write(1, { key: "a" })
        yield* store.read("a")
        yield* store.read("a")
        assert.strictEqual(spy.counts.get, 2)
      }
    }))

  it("reading through an LRU cache of any capacity always returns the last value written (model check)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.tuple(fc.boolean(), fc.constantFrom("a", "b", "c", "d", "e"), fc.integer()), { maxLength: 40 }),
        (capacity, ops) => {
          const program = Effect.gen(function*() {
            const spy = makeSpyStore()
            const store = yield* ResultStore.make({ store: spy.store, cache: capacity })
            const model = new Map<string, number>()
            for (const [isWrite, key, value] of ops) {
              if (isWrite) {
                yield* store.write(value, { key })
                model.set(key, value)
              } else {
                const exit = yield* Effect.exit(store.read(key))
                if (model.has(key)) {
                  if (!Exit.isSuccess(exit) || exit.value.result !== model.get(key)) return false
                } else if (Exit.isSuccess(exit)) return false
              }
            }
            return true
          })
          return Effect.runSync(program)
        }
      ),
      { seed }
    )
  })

  it("a written value reads back equal, from the cache and from storage (round-trip law)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ noUnicodeString: false }), fc.string({ minLength: 1 }), (value, key) => {
        const program = Effect.gen(function*() {
          const spy = makeSpyStore()
          const store = yield* ResultStore.make({ store: spy.store })
          yield* store.write(value, { key })
          const cached = yield* store.read(key)
          const fresh = yield* (yield* ResultStore.make({ store: spy.store })).read(key)
          return [cached.result, fresh.result] as const
        })
        const [cached, fresh] = Effect.runSync(program)
        // exact, -0 included: the json serializer writes it as Python's -0.0 and reads it back
        assert.deepStrictEqual(cached, value)
        assert.deepStrictEqual(fresh, value)
      }),
      { seed }
    )
  })
})

describe("ResultStore.make: exists", () => {
  it.effect("exists is true for an envelope without expiration, false for missing keys", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.make({ store: makeSpyStore().store })
      yield* store.write(1, { key: "k" })
      assert.isTrue(yield* store.exists("k"))
      assert.isFalse(yield* store.exists("missing"))
    }))

  it.effect("exists is false for raw results, garbage, non-record JSON and storage errors", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      spy.map.set("raw", encoder.encode("\"hello\""))
      spy.map.set("garbage", new Uint8Array([0xff, 0xfe, 0x00]))
      spy.map.set("object", encoder.encode("{\"a\": 1}"))
      spy.map.set("truncated", encoder.encode("{\"metadata\":{\"storage_key\":\"x\""))
      const store = yield* ResultStore.make({ store: spy.store })
      for (const key of ["raw", "garbage", "object", "truncated"]) assert.isFalse(yield* store.exists(key), key)
      yield* store.write(1, { key: "k" })
      spy.failing.get = true
      assert.isFalse(yield* store.exists("k"))
    }))

  it.effect("exists parses the envelope only: a result in a serializer this runtime cannot run still exists", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      spy.map.set(
        "pickled",
        encoder.encode(
          "{\"metadata\":{\"storage_key\":\"/root/.prefect/storage/pickled\",\"expiration\":null,\"serializer\":{\"type\":\"pickle\",\"picklelib\":\"cloudpickle\",\"picklelib_version\":null},\"prefect_version\":\"3.8.4\",\"storage_block_id\":null},\"result\":\"gAWVCQAAAAAAAACMBWhlbGxvlC4=\\n\"}"
        )
      )
      const store = yield* ResultStore.make({ store: spy.store })
      assert.isTrue(yield* store.exists("pickled"))
      const error = expectFailure(yield* Effect.exit(store.read("pickled")))
      assert.instanceOf(error, RunError.SerializationError)
    }))

  it.effect("exists honours an expiration in the stored envelope", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const writer = yield* ResultStore.make({ store: spy.store })
      const now = yield* DateTime.now
      yield* writer.write(1, { key: "later", expiration: DateTime.add(now, { milliseconds: 1 }) })
      yield* writer.write(1, { key: "now", expiration: now })
      assert.isTrue(yield* writer.exists("later"))
      assert.isFalse(yield* writer.exists("now"))
    }))
})

describe("ResultStore.make: split metadata layout", () => {
  it.effect("writes the raw result at the storage key and the metadata in the metadata store", () =>
    Effect.gen(function*() {
      const results = makeSpyStore()
      const metadata = makeSpyStore()
      const store = yield* ResultStore.make({
        store: results.store,
        metadataStore: metadata.store,
        resolveKey: (key) => Effect.succeed(`/tmp/x/results/${key}`),
        baseKey: (key) => key.replace("/tmp/x/results/", "")
      })
      yield* store.write("The results are in...", { key: "test" })
      assert.strictEqual(results.text("/tmp/x/results/test"), "\"The results are in...\"")
      const meta = JSON.parse(metadata.text("test")!)
      assert.strictEqual(meta.storage_key, "/tmp/x/results/test")
      assert.strictEqual(meta.serializer.type, "json")
      assert.isTrue(yield* store.exists("test"))
      const fresh = yield* ResultStore.make({
        store: results.store,
        metadataStore: metadata.store,
        resolveKey: (key) => Effect.succeed(`/tmp/x/results/${key}`),
        baseKey: (key) => key.replace("/tmp/x/results/", "")
      })
      const read = yield* fresh.read("test")
      assert.strictEqual(read.result, "The results are in...")
      assert.strictEqual(read.metadata.storageKey, "/tmp/x/results/test")
      assert.isTrue(read.persisted)
    }))

  it.effect("missing metadata, a missing result and metadata without a storage key fail clearly", () =>
    Effect.gen(function*() {
      const results = makeSpyStore()
      const metadata = makeSpyStore()
      const store = yield* ResultStore.make({ store: results.store, metadataStore: metadata.store, cache: false })
      const noMeta = expectFailure(yield* Effect.exit(store.read("k")))
      assert.strictEqual(noMeta.message, "Result metadata not found in result storage at key \"k\".")
      assert.isFalse(yield* store.exists("k"))
      yield* store.write(1, { key: "k" })
      results.map.clear()
      const noResult = expectFailure(yield* Effect.exit(store.read("k")))
      assert.instanceOf(noResult, RunError.MissingResult)
      assert.strictEqual(noResult.message, "Result not found in result storage at key \"k\".")
      assert.isTrue(yield* store.exists("k"), "exists reads metadata only")
      const meta = yield* ResultRecord.serializeMetadata(
        ResultRecord.makeMetadata({ storageKey: null, serializer: Serializer.json })
      )
      metadata.map.set("k", meta)
      const noKey = expectFailure(yield* Effect.exit(store.read("k")))
      assert.instanceOf(noKey, RunError.SerializationError)
      assert.strictEqual(noKey.message, "Did not find storage key in metadata (metadata key \"k\").")
    }))
})

describe("ResultStore.make: bad input and failing storage", () => {
  it.effect("corrupted, truncated and non-UTF-8 bytes fail with SerializationError, never throw", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      spy.map.set("binary", new Uint8Array([0xff, 0xfe, 0x00]))
      spy.map.set("truncated", encoder.encode("{\"metadata\":{\"storage_key\":\"x\",\"result\":\"1"))
      spy.map.set("text", encoder.encode("not json at all"))
      const store = yield* ResultStore.make({ store: spy.store })
      for (const key of ["binary", "truncated", "text"]) {
        const error = expectFailure(yield* Effect.exit(store.read(key)))
        assert.instanceOf(error, RunError.SerializationError, key)
      }
    }))

  it.effect("an envelope naming an unknown serializer fails to read with SerializationError", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      spy.map.set(
        "custom",
        encoder.encode(
          "{\"metadata\":{\"storage_key\":\"custom\",\"expiration\":null,\"serializer\":{\"type\":\"custom\",\"foo\":\"bar\"},\"prefect_version\":\"3.8.4\",\"storage_block_id\":null},\"result\":\"x\"}"
        )
      )
      const store = yield* ResultStore.make({ store: spy.store })
      const error = expectFailure(yield* Effect.exit(store.read("custom")))
      assert.instanceOf(error, RunError.SerializationError)
      assert.include(error.message, "custom")
    }))

  it.effect("storage failures become StorageError naming key and operation; the old record stays intact", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const store = yield* ResultStore.make({ store: spy.store, cache: false })
      yield* store.write("old", { key: "k" })
      spy.failing.set = true
      const writeError = expectFailure(yield* Effect.exit(store.write("new", { key: "k" })))
      assert.instanceOf(writeError, RunError.StorageError)
      assert.strictEqual(writeError.message, "Result storage failed to write key \"k\": disk on fire")
      assert.strictEqual((writeError as RunError.StorageError).key, "k")
      spy.failing.set = false
      assert.strictEqual((yield* store.read("k")).result, "old")
      spy.failing.get = true
      const readError = expectFailure(yield* Effect.exit(store.read("k")))
      assert.instanceOf(readError, RunError.StorageError)
      assert.strictEqual(readError.message, "Result storage failed to read key \"k\": disk on fire")
    }))

  it.effect("a failed write caches nothing", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const store = yield* ResultStore.make({ store: spy.store })
      spy.failing.set = true
      yield* Effect.exit(store.write("new", { key: "k" }))
      spy.failing.set = false
      assert.instanceOf(expectFailure(yield* Effect.exit(store.read("k"))), RunError.MissingResult)
    }))
})

describe("ResultStore.make: locks", () => {
  const noManager =
    "Result store is not configured with a lock manager. Please set a lock manager when creating the result store to enable locking."

  it.effect("without a lock manager every lock method fails with ConfigurationError", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.make({ store: makeSpyStore().store })
      const calls = [
        store.acquireLock("k"),
        store.releaseLock("k"),
        store.isLocked("k"),
        store.isLockHolder("k"),
        store.waitForLock("k")
      ]
      for (const call of calls) {
        const error = expectFailure(yield* Effect.exit(call as Effect.Effect<unknown, unknown>))
        assert.instanceOf(error, RunError.ConfigurationError)
        assert.strictEqual((error as RunError.ConfigurationError).message, noManager)
      }
    }))

  it.effect("supportsIsolationLevel: READ_COMMITTED always, SERIALIZABLE iff locks, else InvalidState", () =>
    Effect.gen(function*() {
      const plain = yield* ResultStore.make({ store: makeSpyStore().store })
      const locking = yield* ResultStore.make({
        store: makeSpyStore().store,
        lockManager: yield* ResultStore.lockManagerMemory
      })
      assert.isTrue(yield* plain.supportsIsolationLevel("READ_COMMITTED"))
      assert.isFalse(yield* plain.supportsIsolationLevel("SERIALIZABLE"))
      assert.isTrue(yield* locking.supportsIsolationLevel("SERIALIZABLE"))
      const error = expectFailure(yield* Effect.exit(plain.supportsIsolationLevel("READ_UNCOMMITTED")))
      assert.instanceOf(error, RunError.InvalidState)
      assert.strictEqual(error.message, "Unsupported isolation level: READ_UNCOMMITTED")
    }))

  it.effect("persisting a key locked by another holder fails with Prefect's text; the holder may write", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.make({
        store: makeSpyStore().store,
        lockManager: yield* ResultStore.lockManagerMemory
      })
      assert.isTrue(yield* store.acquireLock("k", { holder: "other" }))
      const error = expectFailure(yield* Effect.exit(store.write(1, { key: "k" })))
      assert.instanceOf(error, RunError.InvalidState)
      assert.strictEqual(
        error.message,
        "Cannot write to result record with key k because it is locked by another holder."
      )
      yield* store.write(1, { key: "k", holder: "other" })
      assert.strictEqual((yield* store.read("k", { holder: "other" })).result, 1)
    }))

  it.effect("the default holder is the calling fiber: it can write what it locked", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.make({
        store: makeSpyStore().store,
        lockManager: yield* ResultStore.lockManagerMemory
      })
      assert.isTrue(yield* store.acquireLock("k"))
      assert.isTrue(yield* store.isLockHolder("k"))
      assert.isFalse(yield* store.isLockHolder("k", { holder: "someone" }))
      yield* store.write(1, { key: "k" })
      const other = yield* Effect.forkChild(Effect.exit(store.write(2, { key: "k" })))
      const exit = yield* Fiber.join(other)
      assert.instanceOf(expectFailure(exit), RunError.InvalidState)
      yield* store.releaseLock("k")
      assert.isFalse(yield* store.isLocked("k"))
    }))

  it.effect("a read waits while another holder holds the lock, then reads", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.make({
        store: makeSpyStore().store,
        lockManager: yield* ResultStore.lockManagerMemory
      })
      yield* store.write("v", { key: "k" })
      yield* store.acquireLock("k", { holder: "writer" })
      const reader = yield* Effect.forkChild(store.read("k"))
      yield* TestClock.adjust("1 second")
      assert.isUndefined(reader.pollUnsafe(), "still waiting")
      yield* store.releaseLock("k", { holder: "writer" })
      assert.strictEqual((yield* Fiber.join(reader)).result, "v")
    }))

  it.effect("store.acquireLock with a timeout gives up with false", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.make({
        store: makeSpyStore().store,
        lockManager: yield* ResultStore.lockManagerMemory
      })
      yield* store.acquireLock("k", { holder: "a" })
      const waiting = yield* Effect.forkChild(store.acquireLock("k", { holder: "b", timeout: "2 seconds" }))
      yield* TestClock.adjust("2 seconds")
      assert.isFalse(yield* Fiber.join(waiting))
      assert.isTrue(yield* store.waitForLock("free-key", { timeout: 0 }))
    }))
})

describe("lockManagerMemory", () => {
  it.effect("acquires a free key; the same holder re-acquires at once; another holder with timeout 0 gets false", () =>
    Effect.gen(function*() {
      const locks = yield* ResultStore.lockManagerMemory
      assert.isTrue(yield* locks.acquire("k", "a"))
      assert.isTrue(yield* locks.acquire("k", "a"))
      assert.isTrue(yield* locks.isLocked("k"))
      assert.isTrue(yield* locks.isLockHolder("k", "a"))
      assert.isFalse(yield* locks.isLockHolder("k", "b"))
      assert.isFalse(yield* locks.acquire("k", "b", { timeout: 0 }))
      assert.isFalse(yield* locks.isLocked("other"))
    }))

  it.effect("another holder waits for the release and then holds the lock", () =>
    Effect.gen(function*() {
      const locks = yield* ResultStore.lockManagerMemory
      yield* locks.acquire("k", "a")
      const b = yield* Effect.forkChild(locks.acquire("k", "b"))
      yield* TestClock.adjust("1 hour")
      assert.isUndefined(b.pollUnsafe())
      yield* locks.release("k", "a")
      assert.isTrue(yield* Fiber.join(b))
      assert.isTrue(yield* locks.isLockHolder("k", "b"))
    }))

  it.effect("an acquire timeout gives up with false at the deadline, not before", () =>
    Effect.gen(function*() {
      const locks = yield* ResultStore.lockManagerMemory
      yield* locks.acquire("k", "a")
      const b = yield* Effect.forkChild(locks.acquire("k", "b", { timeout: "5 seconds" }))
      yield* TestClock.adjust("4999 millis")
      assert.isUndefined(b.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      assert.isFalse(yield* Fiber.join(b))
      assert.isTrue(yield* locks.isLockHolder("k", "a"))
    }))

  it.effect("a hold timeout frees the lock: waiters get it, the holder loses it", () =>
    Effect.gen(function*() {
      const locks = yield* ResultStore.lockManagerMemory
      yield* locks.acquire("k", "a", { holdTimeout: "3 seconds" })
      const b = yield* Effect.forkChild(locks.acquire("k", "b", { timeout: "10 seconds" }))
      yield* TestClock.adjust("3 seconds")
      assert.isTrue(yield* Fiber.join(b))
      assert.isTrue(yield* locks.isLockHolder("k", "b"))
      const error = expectFailure(yield* Effect.exit(locks.release("k", "a")))
      assert.strictEqual(error.message, "No lock held by a for transaction with key k")
    }))

  it.effect("releasing a lock one does not hold fails with Prefect's ValueError text", () =>
    Effect.gen(function*() {
      const locks = yield* ResultStore.lockManagerMemory
      const none = expectFailure(yield* Effect.exit(locks.release("k", "a")))
      assert.instanceOf(none, RunError.InvalidState)
      assert.strictEqual(none.message, "No lock held by a for transaction with key k")
      yield* locks.acquire("k", "a")
      const other = expectFailure(yield* Effect.exit(locks.release("k", "b")))
      assert.strictEqual(other.message, "No lock held by b for transaction with key k")
      assert.isTrue(yield* locks.isLockHolder("k", "a"))
    }))

  it.effect("waitForLock: true at once when free, true when freed in time, false on timeout", () =>
    Effect.gen(function*() {
      const locks = yield* ResultStore.lockManagerMemory
      assert.isTrue(yield* locks.waitForLock("k", { timeout: 0 }))
      yield* locks.acquire("k", "a")
      const short = yield* Effect.forkChild(locks.waitForLock("k", { timeout: "1 second" }))
      yield* TestClock.adjust("1 second")
      assert.isFalse(yield* Fiber.join(short))
      const long = yield* Effect.forkChild(locks.waitForLock("k", { timeout: "1 minute" }))
      yield* TestClock.adjust("10 seconds")
      yield* locks.release("k", "a")
      assert.isTrue(yield* Fiber.join(long))
      assert.isFalse(yield* locks.isLocked("k"))
    }))

  it.effect("an invalid timeout is InvalidState, not a throw", () =>
    Effect.gen(function*() {
      const locks = yield* ResultStore.lockManagerMemory
      const error = expectFailure(yield* Effect.exit(locks.acquire("k", "a", { timeout: "soon" as never })))
      assert.instanceOf(error, RunError.InvalidState)
      assert.strictEqual(error.message, "Invalid timeout: soon is not a duration.")
    }))

  it.effect("layerLockManagerMemory shares one manager", () =>
    Effect.gen(function*() {
      const a = yield* ResultStore.LockManager
      const b = yield* ResultStore.LockManager
      yield* a.acquire("k", "x")
      assert.isTrue(yield* b.isLockHolder("k", "x"))
    }).pipe(Effect.provide(ResultStore.layerLockManagerMemory)))
})

describe("ResultStore layers", () => {
  it.effect("layerMemory stores and reads with the JSON serializer", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      assert.strictEqual(store.serializer.type, "json")
      yield* store.write({ x: 1 }, { key: "k" })
      assert.deepStrictEqual((yield* store.read("k")).result, { x: 1 })
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("layer builds over the KeyValueStore in context; layerMemoryWith passes options", () =>
    Effect.gen(function*() {
      const kv = yield* KeyValueStore.KeyValueStore
      const store = yield* ResultStore.ResultStore
      yield* store.write(1, { key: "k" })
      assert.isTrue(yield* kv.has("k"))
      const withLocks = yield* Effect.provide(
        Effect.service(ResultStore.ResultStore),
        ResultStore.layerMemoryWith({ lockManager: yield* ResultStore.lockManagerMemory })
      )
      assert.isTrue(yield* withLocks.supportsIsolationLevel("SERIALIZABLE"))
    }).pipe(Effect.provide(ResultStore.layer().pipe(Layer.provideMerge(KeyValueStore.layerMemory)))))
})

describe("ResultStore.make: one envelope parser", () => {
  const nanRecord =
    "{\"metadata\":{\"storage_key\":\"nan\",\"expiration\":null,\"serializer\":{\"type\":\"json\",\"jsonlib\":\"json\",\"object_encoder\":\"prefect.serializers.prefect_json_object_encoder\",\"object_decoder\":\"prefect.serializers.prefect_json_object_decoder\",\"dumps_kwargs\":{},\"loads_kwargs\":{}},\"prefect_version\":\"3.8.4\",\"storage_block_id\":null},\"result\":NaN}"

  it.effect("a record whose result is NaN: read gives NaN and exists answers true (cold, and after a read)", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      spy.map.set("nan", encoder.encode(nanRecord))
      const fresh = yield* ResultStore.make({ store: spy.store, cache: false })
      assert.isTrue(yield* fresh.exists("nan"))
      const store = yield* ResultStore.make({ store: spy.store, cache: false })
      assert.isTrue(Number.isNaN((yield* store.read("nan")).result))
      assert.isTrue(yield* store.exists("nan"))
    }))

  it.effect("exists and read agree on Python JSON in the result after the store learned the metadata text", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const store = yield* ResultStore.make({ store: spy.store, cache: false })
      yield* store.write("primer", { key: "primer" })
      yield* store.read("primer")
      assert.isTrue(yield* store.exists("primer"))
      const head = spy.text("primer")!.replace("\"primer\"", "\"k\"")
      const at = head.indexOf("\"result\":") + "\"result\":".length
      for (const result of ["[NaN, 1.5]", "-Infinity", "9007199254740993", "\"[1, 2]\""]) {
        spy.map.set("k", encoder.encode(head.slice(0, at) + result + "}"))
        const read = yield* Effect.exit(store.read("k"))
        assert.strictEqual(yield* store.exists("k"), Exit.isSuccess(read), result)
      }
    }))
})

describe("ResultStore.make: one codec per store", () => {
  // A json serializer with non-default fields: `Serializer.fromJson` builds a new serializer object on every full
  // read, while a store's codec reads later records with the metadata it learned: the serializer object tells which.
  const fields = {
    type: "json",
    jsonlib: "json",
    object_encoder: "prefect.serializers.prefect_json_object_encoder",
    object_decoder: "prefect.serializers.prefect_json_object_decoder",
    dumps_kwargs: {},
    loads_kwargs: { parse_float: null }
  }

  it.effect("each store learns metadata texts on its own; records differing in key and expiration share them", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const serializer = yield* Serializer.fromJson(fields)
      const writer = yield* ResultStore.make({ store: spy.store, serializer })
      yield* writer.write(1, { key: "a" })
      yield* writer.write(2, { key: "b", expiration: DateTime.makeUnsafe(4_000_000_000_000) })
      yield* writer.write(3, { key: "c", expiration: DateTime.makeUnsafe(4_100_000_000_000) })
      const one = yield* ResultStore.make({ store: spy.store, cache: false })
      const two = yield* ResultStore.make({ store: spy.store, cache: false })
      const a = yield* one.read("a")
      const b = yield* one.read("b")
      const c = yield* one.read("c")
      assert.deepStrictEqual([a.result, b.result, c.result], [1, 2, 3])
      // `one` learned the metadata text from "a": "b" and "c" (other keys, other expirations) reuse it.
      assert.strictEqual(b.metadata.serializer, a.metadata.serializer)
      assert.strictEqual(c.metadata.serializer, a.metadata.serializer)
      assert.strictEqual(c.metadata.expiration?.epochMilliseconds, 4_100_000_000_000)
      // `two` has learned nothing from `one`, and nothing is remembered outside the stores.
      const b2 = yield* two.read("b")
      assert.notStrictEqual(b2.metadata.serializer, a.metadata.serializer)
      const plain = yield* ResultRecord.deserialize(encoder.encode(spy.text("b")!))
      assert.notStrictEqual(plain.metadata.serializer, a.metadata.serializer)
    }))
})

describe("ResultStore.make: one write path", () => {
  it.effect("write and persistResultRecord store the same bytes, with and without locks", () =>
    Effect.gen(function*() {
      for (const locked of [false, true]) {
        const spy = makeSpyStore()
        const lockManager = locked ? yield* ResultStore.lockManagerMemory : undefined
        const store = yield* ResultStore.make({ store: spy.store, lockManager })
        yield* store.write({ a: [1, 2] }, { key: "w" })
        const record = yield* store.createResultRecord({ a: [1, 2] }, { key: "w" })
        const before = spy.text("w")
        const persisted = yield* store.persistResultRecord(record)
        assert.strictEqual(spy.text("w"), before)
        assert.isTrue(persisted.persisted)
      }
    }))
})

describe("ResultStore.make: custom serializers", () => {
  const makeUpper = () => {
    const calls = { dumps: 0, loads: 0, textDumps: 0, textLoads: 0 }
    const serializer = Serializer.make({
      fields: { type: "text/upper", version: 1 },
      dumps: (value) =>
        Effect.sync(() => {
          calls.dumps++
          return encoder.encode(String(value).toUpperCase())
        }),
      loads: (bytes) =>
        Effect.sync(() => {
          calls.loads++
          return decoder.decode(bytes).toLowerCase()
        }),
      text: {
        dumps: (value) => {
          calls.textDumps++
          return String(value).toUpperCase()
        },
        loads: (text) => {
          calls.textLoads++
          return text.toLowerCase()
        }
      }
    })
    return { serializer, calls }
  }

  it.effect("a user serializer with a text form is written and read through it, by this store and a fresh one", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const { serializer, calls } = makeUpper()
      const store = yield* ResultStore.make({ store: spy.store, serializer })
      yield* store.write("hello", { key: "k" })
      assert.deepStrictEqual(calls, { dumps: 0, loads: 0, textDumps: 1, textLoads: 0 })
      assert.include(spy.text("k"), "\"serializer\":{\"type\":\"text/upper\",\"version\":1}")
      assert.include(spy.text("k"), "\"result\":\"HELLO\"")
      const fresh = yield* ResultStore.make({ store: spy.store, serializer })
      const record = yield* fresh.read("k")
      assert.strictEqual(record.result, "hello")
      assert.strictEqual(record.metadata.serializer, serializer)
      assert.deepStrictEqual(calls, { dumps: 0, loads: 0, textDumps: 1, textLoads: 1 })
      // A store without it cannot run the serializer the record names.
      const other = yield* ResultStore.make({ store: spy.store })
      assert.instanceOf(expectFailure(yield* Effect.exit(other.read("k"))), RunError.SerializationError)
    }))

  it.effect("without a text form the byte form is used", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const { serializer: upper, calls } = makeUpper()
      const serializer = Serializer.make({ fields: upper.fields as never, dumps: upper.dumps, loads: upper.loads })
      const store = yield* ResultStore.make({ store: spy.store, serializer, cache: false })
      yield* store.write("hello", { key: "k" })
      assert.strictEqual((yield* store.read("k")).result, "hello")
      assert.deepStrictEqual(calls, { dumps: 1, loads: 1, textDumps: 0, textLoads: 0 })
    }))
})

describe("ResultStore.make: reads that know a schema decode every time", () => {
  const Event = Schema.Struct({ n: Schema.NumberFromString, at: Schema.DateTimeUtcFromString })
  const at = DateTime.makeUnsafe(1_700_000_000_000)

  it.effect("a store whose serializer is Serializer.schema(S) decodes cold and cached reads", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const serializer = Serializer.schema(Event)
      const store = yield* ResultStore.make({ store: spy.store, serializer })
      yield* store.write({ n: 42, at }, { key: "e" })
      // Storage holds the encoded form, as Prefect's json serializer writes it.
      assert.include(spy.text("e"), "\\\"n\\\": \\\"42\\\"")
      const cached = (yield* store.read("e")).result as { n: number; at: DateTime.Utc }
      assert.strictEqual(cached.n, 42)
      assert.isTrue(DateTime.isDateTime(cached.at))
      const fresh = yield* ResultStore.make({ store: spy.store, serializer })
      const cold = (yield* fresh.read("e")).result as { n: number; at: DateTime.Utc }
      assert.strictEqual(cold.n, 42)
      assert.isTrue(DateTime.isDateTime(cold.at))
      assert.strictEqual(cold.at.epochMilliseconds, at.epochMilliseconds)
      // A record that does not match the schema fails to read, cached or cold.
      const plain = yield* ResultStore.make({ store: spy.store })
      yield* plain.write({ n: "not a number", at: "yesterday" }, { key: "bad" })
      const error = expectFailure(yield* Effect.exit(fresh.read("bad")))
      assert.instanceOf(error, RunError.SerializationError)
      assert.include(error.message, "Stored value does not match the schema")
    }))

  it.effect("store.read(key, { schema }) decodes from the cache and from storage alike, typed", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const store = yield* ResultStore.make({ store: spy.store })
      yield* store.write({ n: "7", at: "2023-11-14T22:13:20Z" }, { key: "e" })
      const cached = yield* store.read("e", { schema: Event })
      const n: number = cached.result.n
      assert.strictEqual(n, 7)
      assert.strictEqual(cached.result.at.epochMilliseconds, at.epochMilliseconds)
      const fresh = yield* ResultStore.make({ store: spy.store, cache: false })
      const cold = yield* fresh.read("e", { schema: Event })
      assert.strictEqual(cold.result.n, 7)
      assert.strictEqual(cold.result.at.epochMilliseconds, at.epochMilliseconds)
      // Without a schema the stored form is read.
      assert.deepStrictEqual((yield* fresh.read("e")).result, { n: "7", at: "2023-11-14T22:13:20Z" })
    }))
})

describe("ResultStore: error messages are capped", () => {
  it.effect("a 1e6-element field gives a short message", () =>
    Effect.gen(function*() {
      const spy = makeSpyStore()
      const big = Array.from({ length: 1_000_000 }, (_, i) => i)
      const text = JSON.stringify({ metadata: { storage_key: big }, result: "1" })
      const store = yield* ResultStore.make({ store: spy.store })
      const error = expectFailure(yield* Effect.exit(ResultRecord.deserialize(encoder.encode(text))))
      assert.instanceOf(error, RunError.SerializationError)
      assert.include(error.message, "storage_key: expected a string or null, got [0, 1, 2")
      assert.isBelow(error.message.length, 1000)
      const backupError = expectFailure(
        yield* Effect.exit(ResultRecord.deserialize(encoder.encode(text), Serializer.schema(Schema.String)))
      )
      assert.isBelow(backupError.message.length, 2000)
      const typed = yield* ResultStore.make({
        store: spy.store,
        serializer: Serializer.schema(Schema.Array(Schema.String))
      })
      const encodeError = expectFailure(yield* Effect.exit(typed.write(big, { key: "k" })))
      assert.isBelow(encodeError.message.length, 5000)
      const keyError = expectFailure(yield* Effect.exit(store.read("x".repeat(1_000_000))))
      assert.isBelow(keyError.message.length, 1000)
    }))
})
