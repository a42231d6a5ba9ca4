import { assert, describe, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { KeyValueStore } from "effect/persistence"
import { IdGenerator, ResultStore, State } from "@runstate/core"

const uuid4Hex = /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/
const uuid7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const KeyValueStoreTag = KeyValueStore.KeyValueStore

const draw = Effect.gen(function*() {
  const keys = [yield* ResultStore.randomStorageKey, yield* ResultStore.randomStorageKey]
  const store = yield* ResultStore.make({ store: yield* Effect.service(KeyValueStoreTag) })
  const record = yield* store.createResultRecord(1)
  // A state's id is drawn when first read: here, inside the fiber. Its first 48 bits are the state's timestamp
  // (wall clock); the rest is drawn from the generator.
  const stateId = State.Completed().id
  return { keys, recordKey: record.metadata.storageKey, stateId, stateIdRandom: stateId.slice(14) }
})

describe("IdGenerator", () => {
  it.effect("the default is secure: well-formed, distinct keys, independent of Effect's Random seed", () =>
    Effect.gen(function*() {
      const a = yield* draw.pipe(Random.withSeed("s"))
      const b = yield* draw.pipe(Random.withSeed("s"))
      for (const key of [...a.keys, a.recordKey!]) assert.match(key, uuid4Hex)
      assert.match(a.stateId, uuid7)
      assert.notStrictEqual(a.keys[0], b.keys[0])
      assert.notStrictEqual(a.stateIdRandom, b.stateIdRandom)
    }).pipe(Effect.provide(KeyValueStore.layerMemory)))

  it.effect("withSeed makes storage keys and state ids deterministic", () =>
    Effect.gen(function*() {
      const a = yield* draw.pipe(IdGenerator.withSeed("test"))
      const b = yield* draw.pipe(IdGenerator.withSeed("test"))
      const c = yield* draw.pipe(IdGenerator.withSeed("other"))
      assert.deepStrictEqual([a.keys, a.recordKey, a.stateIdRandom], [b.keys, b.recordKey, b.stateIdRandom])
      assert.notStrictEqual(a.keys[0], c.keys[0])
      for (const key of a.keys) assert.match(key, uuid4Hex)
      assert.match(a.stateId, uuid7)
    }).pipe(Effect.provide(KeyValueStore.layerMemory)))

  it.effect("a provided generator is used by the store and by state ids", () =>
    Effect.gen(function*() {
      let n = 0
      const counting: IdGenerator.IdGeneratorShape = {
        storageKey: () => `key${n++}`,
        stateId: (ms) => `00000000-0000-7000-8000-${String(ms).padStart(12, "0")}`
      }
      const result = yield* draw.pipe(Effect.provideService(IdGenerator.IdGenerator, counting))
      // key0 and key1 are drawn first; the store's own id takes key2; its record's key is key3.
      assert.deepStrictEqual(result.keys, ["key0", "key1"])
      assert.strictEqual(result.recordKey, "key3")
      assert.match(result.stateId, /^00000000-0000-7000-8000-\d+$/)
    }).pipe(Effect.provide(KeyValueStore.layerMemory)))
})
