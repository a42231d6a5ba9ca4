import { assert, describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Equal, Hash, Option } from "effect"
import * as fc from "fast-check"
import { ResultRecord, RunError, Serializer } from "@runstate/core"
import * as PyJson from "../src/internal/pythonJson.ts"
import * as RecordText from "../src/internal/recordText.ts"

const seed = process.env.FC_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FC_SEED)
console.log(`ResultRecord.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)
const params = { seed, numRuns: 200 }

const enc = new TextEncoder()
const dec = new TextDecoder()
const bytes = (s: string) => enc.encode(s)

const failure = <A>(effect: Effect.Effect<A, RunError.SerializationError>) =>
  Effect.map(Effect.flip(effect), (error) => {
    assert.instanceOf(error, RunError.SerializationError)
    return error
  })

const jsonSerializerText =
  `{"type":"json","jsonlib":"json","object_encoder":"prefect.serializers.prefect_json_object_encoder","object_decoder":"prefect.serializers.prefect_json_object_decoder","dumps_kwargs":{},"loads_kwargs":{}}`

// Prefect's local storage layout, exact file bytes.
const goldenString =
  `{"metadata":{"storage_key":"/root/.prefect/storage/the-key","expiration":null,"serializer":${jsonSerializerText},"prefect_version":"3.8.4","storage_block_id":null},"result":"\\"The results are in...\\""}`
const goldenDict =
  `{"metadata":{"storage_key":"/root/.prefect/storage/the-key","expiration":"2024-01-02T03:04:05.678901Z","serializer":${jsonSerializerText},"prefect_version":"3.8.4","storage_block_id":null},"result":"{\\"a\\": [1, 2, 3], \\"b\\": null}"}`
const goldenPickle =
  `{"metadata":{"storage_key":"/root/.prefect/storage/6a1c0b7e5d2f4e8c9b1a3d5f7e9c2b4a","expiration":null,"serializer":{"type":"pickle","picklelib":"cloudpickle","picklelib_version":null},"prefect_version":"3.8.4","storage_block_id":null},"result":"gAWVCQAAAAAAAACMBWhlbGxvlC4=\\n"}`
const goldenSplitMetadata =
  `{"storage_key":"/tmp/x/results/test","expiration":null,"serializer":${jsonSerializerText},"prefect_version":"3.8.4","storage_block_id":null}`

const pickleFields = { type: "pickle", picklelib: "cloudpickle", picklelib_version: null }

const theKey = "/root/.prefect/storage/the-key"

describe("ResultRecord: golden bytes of Prefect's storage layout", () => {
  it.effect("serializes the string record to the exact file bytes and reads it back", () =>
    Effect.gen(function*() {
      const record = ResultRecord.make({
        metadata: ResultRecord.makeMetadata({ storageKey: theKey, serializer: Serializer.json }),
        result: "The results are in..."
      })
      const out = yield* ResultRecord.serialize(record)
      expect(dec.decode(out)).toBe(goldenString)
      const back = yield* ResultRecord.deserialize(bytes(goldenString))
      assert.isTrue(Equal.equals(back, record))
      expect(back.result).toBe("The results are in...")
      expect(back.persisted).toBe(false)
      expect(back.metadata.storageKey).toBe(theKey)
      expect(back.metadata.expiration).toBeNull()
      expect(back.metadata.prefectVersion).toBe("3.8.4")
      expect(back.metadata.storageBlockId).toBeNull()
    }))

  it.effect("serializes the dict record with an expiration (microseconds truncated to milliseconds)", () =>
    Effect.gen(function*() {
      const expiration = DateTime.makeUnsafe("2024-01-02T03:04:05.678Z")
      const record = ResultRecord.make({
        metadata: ResultRecord.makeMetadata({ storageKey: theKey, serializer: Serializer.json, expiration }),
        result: { a: [1, 2, 3], b: null }
      })
      // DateTime.Utc holds milliseconds: Prefect's .678901 reads as .678 and is written .678000.
      expect(dec.decode(yield* ResultRecord.serialize(record))).toBe(goldenDict.replace(".678901Z", ".678000Z"))
      const back = yield* ResultRecord.deserialize(bytes(goldenDict))
      expect(back.result).toEqual({ a: [1, 2, 3], b: null })
      expect(back.metadata.expiration?.epochMilliseconds).toBe(expiration.epochMilliseconds)
      assert.isTrue(Equal.equals(back, record))
    }))

  it.effect("loads the pickle record's metadata; its result cannot be read here", () =>
    Effect.gen(function*() {
      const envelope = JSON.parse(goldenPickle) as { metadata: unknown }
      const metadata = yield* ResultRecord.metadataFromJson(envelope.metadata)
      expect(metadata.serializer.type).toBe("pickle")
      expect(metadata.serializer.fields).toEqual(pickleFields)
      expect(metadata.storageKey).toBe("/root/.prefect/storage/6a1c0b7e5d2f4e8c9b1a3d5f7e9c2b4a")
      const error = yield* failure(ResultRecord.deserialize(bytes(goldenPickle)))
      expect(error.message).toBe(
        "Serializer 'pickle' is not available in this environment, so deserialization cannot be performed."
      )
      // Not a validation error: the backup serializer is not tried (as in Prefect).
      const withBackup = yield* failure(ResultRecord.deserialize(bytes(goldenPickle), Serializer.json))
      expect(withBackup.message).toBe(error.message)
    }))

  it.effect("writes and reads split metadata (Prefect's dump_bytes example)", () =>
    Effect.gen(function*() {
      const metadata = ResultRecord.makeMetadata({ storageKey: "/tmp/x/results/test", serializer: Serializer.json })
      expect(dec.decode(yield* ResultRecord.serializeMetadata(metadata))).toBe(goldenSplitMetadata)
      const back = yield* ResultRecord.deserializeMetadata(bytes(goldenSplitMetadata))
      assert.isTrue(Equal.equals(back, metadata))
      const record = yield* ResultRecord.deserializeFromResultAndMetadata(bytes("[1, 2]"), bytes(goldenSplitMetadata))
      expect(record.result).toEqual([1, 2])
      assert.isTrue(Equal.equals(record.metadata, metadata))
      const bad = yield* failure(
        ResultRecord.deserializeFromResultAndMetadata(bytes("[1,"), bytes(goldenSplitMetadata))
      )
      expect(bad.message).toBe("Expecting value: line 1 column 4 (char 3)")
    }))
})

describe("ResultRecord.deserialize: Prefect's reading rules", () => {
  it.effect("reads a raw result through the backup serializer", () =>
    Effect.gen(function*() {
      const record = yield* ResultRecord.deserialize(bytes("\"The results are in...\""), Serializer.json)
      expect(record.result).toBe("The results are in...")
      expect(record.metadata.storageKey).toBeNull()
      expect(record.metadata.expiration).toBeNull()
      expect(record.metadata.storageBlockId).toBeNull()
      expect(record.metadata.prefectVersion).toBe(ResultRecord.defaultPrefectVersion)
      expect(record.metadata.serializer).toBe(Serializer.json)
      const raw = yield* ResultRecord.deserialize(bytes("[1, {\"x\": NaN}]"), Serializer.json)
      expect(raw.result).toEqual([1, { x: NaN }])
      const compressed = Serializer.compressedJson()
      const fromCompressed = yield* ResultRecord.deserialize(yield* compressed.dumps({ ok: true }), compressed)
      expect(fromCompressed.result).toEqual({ ok: true })
    }))

  it.effect("without a backup serializer, a raw result is not a record", () =>
    Effect.gen(function*() {
      const error = yield* failure(ResultRecord.deserialize(bytes("\"The results are in...\"")))
      expect(error.message).toBe("Not a result record: expected a JSON object, got 'The results are in...'")
    }))

  it.effect("reads Prefect 3.0's old result blob layout", () =>
    Effect.gen(function*() {
      const old =
        `{"serializer": ${jsonSerializerText}, "data": "{\\"x\\": 1}", "prefect_version": "3.0.0", "expiration": "2024-05-06T07:08:09Z"}`
      const record = yield* ResultRecord.deserialize(bytes(old))
      expect(record.result).toEqual({ x: 1 })
      expect(record.metadata.prefectVersion).toBe("3.0.0")
      expect(record.metadata.storageKey).toBeNull()
      expect(ResultRecord.formatDateTime(record.metadata.expiration!)).toBe("2024-05-06T07:08:09Z")
      assert.isTrue(Equal.equals(record.metadata.serializer, Serializer.json))
      // Top-level keys are moved into an existing metadata object, overriding it.
      const mixed =
        `{"metadata": {"storage_key": "k", "prefect_version": "3.1.0"}, "prefect_version": "3.0.5", "serializer": {"type": "json"}, "result": "2"}`
      const moved = yield* ResultRecord.deserialize(bytes(mixed))
      expect([moved.metadata.storageKey, moved.metadata.prefectVersion, moved.result]).toEqual(["k", "3.0.5", 2])
    }))

  it.effect("ambiguity of Prefect's record formats: a raw {\"data\": 5} reads as an old-format pickle record, value 5", () =>
    Effect.gen(function*() {
      const five = yield* ResultRecord.deserialize(bytes("{\"data\": 5}"), Serializer.json)
      expect(five.result).toBe(5)
      expect(five.metadata.serializer.fields).toEqual(pickleFields)
      const x = yield* failure(ResultRecord.deserialize(bytes("{\"data\": \"x\"}"), Serializer.json))
      expect(x.message).toBe(
        "Serializer 'pickle' is not available in this environment, so deserialization cannot be performed."
      )
    }))

  it.effect("keeps non-string results as they are", () =>
    Effect.gen(function*() {
      const record = yield* ResultRecord.deserialize(
        bytes(`{"metadata":{"serializer":{"type":"json"}},"result":{"__class__":"builtins.set","data":[1]}}`)
      )
      expect(record.result).toEqual({ __class__: "builtins.set", data: [1] })
      const nothing = yield* ResultRecord.deserialize(bytes(`{"metadata":{},"result":null}`))
      expect(nothing.result).toBeNull()
    }))

  it.effect("reports corrupted, truncated, non-record and non-UTF-8 bytes as typed errors", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Uint8Array, string]> = [
        [
          bytes(goldenString.slice(0, 100)),
          "Result record is not valid JSON: Unterminated string starting at: line 1 column 100 (char 99)"
        ],
        [bytes(""), "Result record is not valid JSON: Expecting value: line 1 column 1 (char 0)"],
        [new Uint8Array([0x7b, 0xff, 0x7d]), "Result record is not valid UTF-8"],
        [bytes("[1, 2]"), "Not a result record: expected a JSON object, got [1, 2]"],
        [bytes("{\"metadata\": {}}"), "Not a result record: field 'result' is required"],
        [
          bytes("{\"metadata\": null, \"result\": \"1\"}"),
          "Invalid result record metadata: expected an object, got null"
        ],
        [
          bytes("{\"metadata\": {\"serializer\": {\"type\": \"json\", \"x\": 1}}, \"result\": \"1\"}"),
          "Invalid result record metadata: Invalid serializer: unknown field 'x' for serializer type 'json'"
        ],
        [
          bytes("{\"metadata\": {\"expiration\": \"tomorrow\"}, \"result\": 1}"),
          "Invalid result record metadata: expiration: expected a datetime, got 'tomorrow'"
        ]
      ]
      for (const [input, message] of cases) {
        expect((yield* failure(ResultRecord.deserialize(input))).message).toBe(message)
      }
      const both = yield* failure(ResultRecord.deserialize(bytes(goldenString.slice(0, 100)), Serializer.json))
      expect(both.message).toBe(
        "Result record is not valid JSON: Unterminated string starting at: line 1 column 100 (char 99); nor a raw result for serializer 'json': Unterminated string starting at: line 1 column 100 (char 99)"
      )
      // A record whose metadata is invalid is retried as a raw result, as Prefect does.
      const invalidMeta = "{\"metadata\": {\"storage_key\": 5}, \"result\": \"1\"}"
      const raw = yield* ResultRecord.deserialize(bytes(invalidMeta), Serializer.json)
      expect(raw.result).toEqual({ metadata: { storage_key: 5 }, result: "1" })
    }))

  it.effect("an unknown serializer loads as metadata and fails on reading its result", () =>
    Effect.gen(function*() {
      const text = `{"metadata":{"storage_key":"k","serializer":{"type":"custom","foo":"bar"}},"result":"abc"}`
      const error = yield* failure(ResultRecord.deserialize(bytes(text)))
      expect(error.message).toBe(
        "Serializer 'custom' is not available in this environment, so deserialization cannot be performed."
      )
      const metadata = yield* ResultRecord.deserializeMetadata(
        bytes(`{"storage_key":"k","serializer":{"type":"custom","foo":"bar"}}`)
      )
      expect(metadata.serializer.fields).toEqual({ type: "custom", foo: "bar" })
      expect(dec.decode(yield* ResultRecord.serializeMetadata(metadata))).toBe(
        `{"storage_key":"k","expiration":null,"serializer":{"type":"custom","foo":"bar"},"prefect_version":"3.8.4","storage_block_id":null}`
      )
    }))
})

describe("ResultRecord metadata JSON", () => {
  it.effect("metadataFromJson is tolerant as Prefect is", () =>
    Effect.gen(function*() {
      const m = yield* ResultRecord.metadataFromJson({ unknown_key: 1 })
      expect(m.storageKey).toBeNull()
      expect(m.expiration).toBeNull()
      expect(m.serializer.fields).toEqual(pickleFields)
      expect(m.prefectVersion).toBe("3.8.4")
      expect(m.storageBlockId).toBeNull()
      const block = yield* ResultRecord.metadataFromJson({
        storage_key: "the-key",
        storage_block_id: "12345678-1234-5678-1234-56781234ABCD"
      })
      expect(block.storageBlockId).toBe("12345678-1234-5678-1234-56781234abcd")
      expect((yield* failure(ResultRecord.metadataFromJson({ storage_block_id: "nope" }))).message).toBe(
        "Invalid result record metadata: storage_block_id: expected a UUID or null, got 'nope'"
      )
      expect((yield* failure(ResultRecord.metadataFromJson({ storage_key: 1 }))).message).toBe(
        "Invalid result record metadata: storage_key: expected a string or null, got 1"
      )
      expect((yield* failure(ResultRecord.metadataFromJson({ prefect_version: null }))).message).toBe(
        "Invalid result record metadata: prefect_version: expected a string, got null"
      )
      expect((yield* failure(ResultRecord.metadataFromJson([]))).message).toBe(
        "Invalid result record metadata: expected an object, got []"
      )
    }))

  it.effect("reads datetimes with 0–6 fraction digits and Z or ±HH:MM offsets, in UTC", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000Z"],
        ["2024-01-02T03:04:05.5Z", "2024-01-02T03:04:05.500Z"],
        ["2024-01-02T03:04:05.678901Z", "2024-01-02T03:04:05.678Z"],
        ["2024-01-02T03:04:05.123456+02:00", "2024-01-02T01:04:05.123Z"],
        ["2024-01-02T03:04:05-05:30", "2024-01-02T08:34:05.000Z"],
        ["2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05.000Z"]
      ]
      for (const [input, iso] of cases) {
        const m = yield* ResultRecord.metadataFromJson({ expiration: input })
        expect(DateTime.formatIso(m.expiration!), input).toBe(iso)
      }
    }))

  it("metadataToJson keeps Prefect's key order", () => {
    const m = ResultRecord.makeMetadata({
      storageKey: "k",
      serializer: Serializer.json,
      expiration: DateTime.makeUnsafe(0),
      storageBlockId: "12345678-1234-5678-1234-567812345678",
      prefectVersion: "3.0.0"
    })
    const json = ResultRecord.metadataToJson(m)
    expect(Object.keys(json)).toEqual([
      "storage_key",
      "expiration",
      "serializer",
      "prefect_version",
      "storage_block_id"
    ])
    expect(json).toEqual({
      storage_key: "k",
      expiration: "1970-01-01T00:00:00Z",
      serializer: Serializer.json.fields,
      prefect_version: "3.0.0",
      storage_block_id: "12345678-1234-5678-1234-567812345678"
    })
  })

  it("formatDateTime / parseDateTime follow Python's isoformat", () => {
    expect(ResultRecord.formatDateTime(DateTime.makeUnsafe("2024-01-02T03:04:05Z"))).toBe("2024-01-02T03:04:05Z")
    expect(ResultRecord.formatDateTime(DateTime.makeUnsafe("2024-01-02T03:04:05.678Z"))).toBe(
      "2024-01-02T03:04:05.678000Z"
    )
    expect(ResultRecord.formatDateTime(DateTime.makeUnsafe("0033-01-02T03:04:05.001Z"))).toBe(
      "0033-01-02T03:04:05.001000Z"
    )
    const parsed = ResultRecord.parseDateTime("2024-02-29T23:59:59.999999+00:00")
    assert.isTrue(Option.isSome(parsed))
    expect(DateTime.formatIso(Option.getOrThrow(parsed))).toBe("2024-02-29T23:59:59.999Z")
    for (const bad of ["2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z", "yesterday", ""]) {
      assert.isTrue(Option.isNone(ResultRecord.parseDateTime(bad)), bad)
    }
  })

  it.effect("serialize writes non-ASCII metadata as UTF-8 and escapes only what pydantic escapes", () =>
    Effect.gen(function*() {
      const record = ResultRecord.make({
        metadata: ResultRecord.makeMetadata({ storageKey: "clé/\"q\"\n\u0001", serializer: Serializer.json }),
        result: "é"
      })
      const text = dec.decode(yield* ResultRecord.serialize(record))
      expect(text.startsWith(`{"metadata":{"storage_key":"clé/\\"q\\"\\n\\u0001","expiration":null,`)).toBe(true)
      expect(text.endsWith(`"result":"\\"\\\\u00e9\\""}`)).toBe(true)
      const back = yield* ResultRecord.deserialize(bytes(text))
      assert.isTrue(Equal.equals(back, record))
    }))
})

describe("ResultRecord values", () => {
  it("are structurally equal and hashed; persisted does not count", () => {
    const meta = () =>
      ResultRecord.makeMetadata({
        storageKey: "k",
        serializer: Serializer.compressedJson(),
        expiration: DateTime.makeUnsafe(1000)
      })
    const a = ResultRecord.make({ metadata: meta(), result: { x: [1, 2] } })
    const b = ResultRecord.make({ metadata: meta(), result: { x: [1, 2] }, persisted: true })
    assert.isTrue(Equal.equals(a.metadata, b.metadata))
    expect(Hash.hash(a.metadata)).toBe(Hash.hash(b.metadata))
    assert.isTrue(Equal.equals(a, b))
    expect(Hash.hash(a)).toBe(Hash.hash(b))
    assert.isFalse(Equal.equals(a, ResultRecord.make({ metadata: meta(), result: { x: [1, 3] } })))
    const other = ResultRecord.makeMetadata({
      storageKey: "k",
      serializer: Serializer.json,
      expiration: DateTime.makeUnsafe(1000)
    })
    assert.isFalse(Equal.equals(a.metadata, other))
    assert.isFalse(
      Equal.equals(a.metadata, ResultRecord.makeMetadata({ storageKey: "k", serializer: Serializer.compressedJson() }))
    )
    assert.isTrue(ResultRecord.isResultRecord(a))
    assert.isTrue(ResultRecord.isResultRecordMetadata(a.metadata))
    assert.isFalse(ResultRecord.isResultRecord(a.metadata))
    assert.isFalse(ResultRecord.isResultRecordMetadata({ _tag: "ResultRecordMetadata" }))
    expect(a._tag).toBe("ResultRecord")
    expect(a.metadata._tag).toBe("ResultRecordMetadata")
  })

  it("markPersisted returns a new record and leaves the original alone", () => {
    const record = ResultRecord.make({
      metadata: ResultRecord.makeMetadata({ storageKey: "k", serializer: Serializer.json }),
      result: 1
    })
    const persisted = ResultRecord.markPersisted(record)
    expect(record.persisted).toBe(false)
    expect(persisted.persisted).toBe(true)
    assert.notStrictEqual(persisted, record)
    assert.isTrue(Equal.equals(persisted, record))
    expect(ResultRecord.markPersisted(persisted)).toBe(persisted)
  })

  it("renders with toJSON", () => {
    const record = ResultRecord.make({
      metadata: ResultRecord.makeMetadata({ storageKey: "k", serializer: Serializer.json }),
      result: [1]
    })
    expect(record.toJSON()).toEqual({
      _id: "ResultRecord",
      metadata: {
        _id: "ResultRecordMetadata",
        storageKey: "k",
        expiration: null,
        serializer: Serializer.json.fields,
        prefectVersion: "3.8.4",
        storageBlockId: null
      },
      result: [1],
      persisted: false
    })
  })
})

describe("ResultRecord.serializeResult", () => {
  const extra =
    "You can try a different serializer (e.g. result_serializer=\"json\") or disabling persistence (persist_result=False) for this flow or task."
  const recordOf = (result: unknown, serializer: Serializer.Serializer = Serializer.json) =>
    ResultRecord.make({ metadata: ResultRecord.makeMetadata({ storageKey: "k", serializer }), result })

  it.effect("wraps serializer failures in Prefect's text, with the serializer's error as cause", () =>
    Effect.gen(function*() {
      const fn = yield* failure(ResultRecord.serializeResult(recordOf(() => 1)))
      expect(fn.message).toBe(`Failed to serialize object of type 'function' with serializer 'json'. ${extra}`)
      assert.instanceOf(fn.cause, RunError.SerializationError)
      expect((fn.cause as RunError.SerializationError).message).toBe("Object of type function is not JSON serializable")
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [Symbol("s"), "symbol"],
        [{ f: () => 1 }, "object"],
        [new Map([[{}, 1]]), "Map"],
        [[() => 1], "Array"]
      ]
      for (const [value, name] of cases) {
        expect((yield* failure(ResultRecord.serializeResult(recordOf(value)))).message).toBe(
          `Failed to serialize object of type '${name}' with serializer 'json'. ${extra}`
        )
      }
      const pickle = yield* failure(ResultRecord.serialize(recordOf("hello", Serializer.unknown(pickleFields))))
      expect(pickle.message).toBe(`Failed to serialize object of type 'string' with serializer 'pickle'. ${extra}`)
      expect((pickle.cause as RunError.SerializationError).message).toBe(
        "Serializer 'pickle' is not available in this environment, so serialization cannot be performed."
      )
    }))

  it.effect("serializeResult is the serializer's bytes", () =>
    Effect.gen(function*() {
      expect(dec.decode(yield* ResultRecord.serializeResult(recordOf({ a: 1 })))).toBe("{\"a\": 1}")
    }))
})

describe("ResultRecord laws (fast-check)", () => {
  const jsonValue: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 }).filter((v) =>
    !JSON.stringify(v).includes("\"__class__\"") && !JSON.stringify(v).includes("\"__exc_type__\"")
  )
  const metadata = fc.record({
    storageKey: fc.option(fc.string({ unit: "grapheme" }), { nil: null }),
    expiration: fc.option(fc.integer({ min: -62135596800000, max: 253402300799999 }), { nil: null }),
    prefectVersion: fc.constantFrom("3.8.4", "3.0.0"),
    storageBlockId: fc.option(fc.uuid(), { nil: null })
  })

  it("law: deserialize(serialize(r)) equals r for JSON results", () => {
    fc.assert(
      fc.property(metadata, jsonValue, (m, result) => {
        const record = ResultRecord.make({
          metadata: ResultRecord.makeMetadata({
            storageKey: m.storageKey,
            serializer: Serializer.json,
            expiration: m.expiration === null ? null : DateTime.makeUnsafe(m.expiration),
            prefectVersion: m.prefectVersion,
            storageBlockId: m.storageBlockId
          }),
          result
        })
        const back = Effect.runSync(Effect.flatMap(ResultRecord.serialize(record), (b) => ResultRecord.deserialize(b)))
        return Equal.equals(back, record)
      }),
      params
    )
  })

  it("law: deserializeMetadata(serializeMetadata(m)) equals m", () => {
    fc.assert(
      fc.property(metadata, (m) => {
        const meta = ResultRecord.makeMetadata({
          storageKey: m.storageKey,
          serializer: Serializer.compressedJson({ compressionlib: "gzip" }),
          expiration: m.expiration === null ? null : DateTime.makeUnsafe(m.expiration),
          prefectVersion: m.prefectVersion,
          storageBlockId: m.storageBlockId
        })
        const back = Effect.runSync(
          Effect.flatMap(ResultRecord.serializeMetadata(meta), ResultRecord.deserializeMetadata)
        )
        return Equal.equals(back, meta) && Hash.hash(back) === Hash.hash(meta)
      }),
      params
    )
  })
})

describe("ResultRecord.serialize fast path (fast-check)", () => {
  // The envelope as the exact compact encoder writes it from `metadataToJson` and the result's bytes.
  const reference = (record: ResultRecord.ResultRecord<unknown>) =>
    Effect.map(
      ResultRecord.serializeResult(record),
      (resultBytes) =>
        PyJson.dumps(
          { metadata: ResultRecord.metadataToJson(record.metadata), result: dec.decode(resultBytes) },
          { python: false, prefect: false }
        )
    )
  const anyString = fc.string({ unit: "binary" })
  const metadata = fc.record({
    storageKey: fc.oneof(fc.constant(null), anyString),
    serializer: fc.constantFrom(
      Serializer.json,
      Serializer.compressedJson(),
      Serializer.unknown({ type: "custom", "é": ["\ud800", 1.5, null] })
    ),
    expiration: fc.oneof(
      fc.constant(null),
      fc.integer({ min: 0, max: 4102444800000 }).map((ms) => DateTime.makeUnsafe(ms))
    ),
    prefectVersion: fc.oneof(fc.constant("3.8.4"), anyString),
    storageBlockId: fc.oneof(fc.constant(null), fc.uuid())
  }).map((m) => ResultRecord.makeMetadata(m))
  const result = fc.oneof(fc.jsonValue(), anyString, fc.constant(new Set([1, "a"])), fc.double())

  it.effect("writes the exact encoder's envelope byte for byte, whatever the metadata sequence", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(metadata, result), { minLength: 1, maxLength: 4 }), async (pairs) => {
          // One codec for the whole sequence: its writer remembers the last metadata text written.
          const codec = ResultRecord.makeCodec()
          for (const [m, r] of pairs) {
            const record = ResultRecord.make({ metadata: m, result: r })
            const expected = await Effect.runPromise(Effect.exit(reference(record)))
            const actual = await Effect.runPromise(Effect.exit(ResultRecord.serialize(record)))
            const viaCodec = await Effect.runPromise(Effect.exit(codec.serialize(record)))
            if (expected._tag === "Success") {
              expect(actual._tag).toBe("Success")
              if (actual._tag === "Success") expect(dec.decode(actual.value)).toBe(expected.value)
              expect(viaCodec._tag).toBe("Success")
              if (viaCodec._tag === "Success") {
                const v = viaCodec.value
                expect(typeof v === "string" ? v : dec.decode(v)).toBe(expected.value)
              }
            } else {
              expect(actual._tag).toBe("Failure")
              expect(viaCodec._tag).toBe("Failure")
            }
          }
        }),
        { ...params, numRuns: 300 }
      )
    ))

  it.effect("reads back what it writes (deserialize fast path)", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.jsonValue(), anyString, async (r, key) => {
          const record = ResultRecord.make({
            metadata: ResultRecord.makeMetadata({ storageKey: key, serializer: Serializer.json }),
            result: r
          })
          const written = await Effect.runPromise(ResultRecord.serialize(record))
          const read = await Effect.runPromise(ResultRecord.deserialize(written, Serializer.json))
          const exact = PyJson.parse(
            (PyJson.parse(dec.decode(written)) as { readonly result: string }).result,
            PyJson.prefectObjectHook
          )
          expect(read.result).toStrictEqual(exact)
          expect(read.metadata.storageKey).toBe(ResultRecord.metadataToJson(record.metadata)["storage_key"])
          expect(Equal.equals(read.metadata.serializer, Serializer.json)).toBe(true)
        }),
        { ...params, numRuns: 300 }
      )
    ))
})

describe("metadataFromJson: datetimes out of range", () => {
  it.effect("a numeric expiration beyond JS's date range is a typed SerializationError, not a throw", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        ResultRecord.metadataFromJson({ storage_key: "k", expiration: -8640000000000001, serializer: { type: "json" } })
      )
      assert.strictEqual(error._tag, "SerializationError")
      assert.include(error.message, "expiration")
    }))
})

describe("ResultRecord.makeCodec — envelopes whose metadata text the codec has read", () => {
  // Once a codec read an envelope with the envelope layout in full, the next ones whose metadata text (but for
  // storage key and expiration) is the same are read without parsing it again. That must give exactly what a full
  // read gives. Each codec has its own memo: a fresh codec always reads in full.
  const fullRead = (text: string) => Effect.runSync(Effect.exit(ResultRecord.deserialize(bytes(text))))
  const knownRead = (primer: string, text: string) => {
    const codec = ResultRecord.makeCodec()
    return Effect.runSync(Effect.exit(Effect.flatMap(
      Effect.exit(codec.deserialize(bytes(primer))),
      () => codec.deserialize(bytes(text))
    )))
  }
  const primerFor = (metadata: ResultRecord.ResultRecordMetadata) =>
    Effect.runSync(Effect.map(
      ResultRecord.serialize(
        ResultRecord.make({ metadata: ResultRecord.makeMetadata({ ...metadata, storageKey: "primer" }), result: 1 })
      ),
      (b) => dec.decode(b)
    ))

  it("law: a known envelope reads as a full read does (same metadata text, any key, any expiration, any JSON value)", () => {
    const expiration = fc.option(fc.integer({ min: 0, max: 4e12 }).map((ms) => DateTime.makeUnsafe(ms)), { nil: null })
    fc.assert(
      fc.property(
        fc.string({ unit: "binary" }),
        fc.jsonValue(),
        expiration,
        expiration,
        (key, value, exp, primerExp) => {
          const metadata = ResultRecord.makeMetadata({ storageKey: key, serializer: Serializer.json, expiration: exp })
          const text = Effect.runSync(
            Effect.map(ResultRecord.serialize(ResultRecord.make({ metadata, result: value })), (b) => dec.decode(b))
          )
          const full = fullRead(text)
          const primer = primerFor(
            ResultRecord.makeMetadata({ storageKey: "p", serializer: Serializer.json, expiration: primerExp })
          )
          const known = knownRead(primer, text)
          expect(known._tag).toBe(full._tag)
          if (full._tag === "Success" && known._tag === "Success") {
            expect(known.value.result).toStrictEqual(full.value.result)
            expect(ResultRecord.metadataToJson(known.value.metadata)).toStrictEqual(
              ResultRecord.metadataToJson(full.value.metadata)
            )
            expect(known.value.metadata.serializer).toBe(full.value.metadata.serializer)
          }
        }
      ),
      params
    )
  })

  it("law: any text after a known metadata part reads as a full read does (valid or not)", () => {
    const metadata = ResultRecord.makeMetadata({ storageKey: "k", serializer: Serializer.json })
    const primer = primerFor(metadata)
    const head = primer.slice(0, primer.indexOf("\"result\":") + "\"result\":".length).replace("\"primer\"", "\"k\"")
    const tails = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v) + "}"),
      fc.string().map((s) => JSON.stringify(s) + "}"),
      fc.tuple(fc.string(), fc.string()).map(([a, b]) => `${JSON.stringify(a)},"result":${JSON.stringify(b)}}`),
      fc.tuple(fc.string(), fc.constantFrom(" ", "}", "\n", "x", "]")).map(([s, t]) => JSON.stringify(s) + "}" + t)
    )
    fc.assert(
      fc.property(tails, (tail) => {
        const text = head + tail
        const full = fullRead(text)
        const known = knownRead(primer, text)
        expect(known._tag).toBe(full._tag)
        if (full._tag === "Success" && known._tag === "Success") {
          expect(known.value.result).toStrictEqual(full.value.result)
          expect(known.value.metadata.storageKey).toBe(full.value.metadata.storageKey)
        } else if (full._tag === "Failure" && known._tag === "Failure") {
          expect(String(known.cause)).toBe(String(full.cause))
        }
      }),
      params
    )
  })

  it("law: exists' metadata read agrees with a full read's metadata, known or not", () => {
    const metadata = ResultRecord.makeMetadata({ storageKey: "k", serializer: Serializer.json })
    const primer = primerFor(metadata)
    const head = primer.slice(0, primer.indexOf("\"result\":") + "\"result\":".length).replace("\"primer\"", "\"k\"")
    const results = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.constantFrom("NaN", "[NaN, 1.5]", "-Infinity", "\"NaN\"", "9007199254740993", "-0", "x", "\"a\"}")
    )
    fc.assert(
      fc.property(results, (result) => {
        const text = head + result + "}"
        const codec = ResultRecord.makeCodec()
        Effect.runSync(Effect.exit(codec.deserializeMetadata(primer)))
        const known = Effect.runSync(Effect.exit(codec.deserializeMetadata(text)))
        const full = Effect.runSync(Effect.exit(ResultRecord.deserializeEnvelope(text)))
        expect(known._tag).toBe(full._tag)
        if (full._tag === "Success" && known._tag === "Success") {
          expect(ResultRecord.metadataToJson(known.value)).toStrictEqual(
            ResultRecord.metadataToJson(full.value.metadata)
          )
        }
      }),
      params
    )
  })

  it("the memo is keyed by the metadata text without storage key and expiration, bounded, per codec", () => {
    const metadataAt = (key: string, ms: number | null, version?: string) =>
      ResultRecord.makeMetadata({
        storageKey: key,
        serializer: Serializer.json,
        expiration: ms === null ? null : DateTime.makeUnsafe(ms),
        prefectVersion: version
      })
    const textOf = (metadata: ResultRecord.ResultRecordMetadata) =>
      Effect.runSync(
        Effect.map(ResultRecord.serialize(ResultRecord.make({ metadata, result: "v" })), (b) => dec.decode(b))
      )
    const memo = RecordText.makeReadMemo(2)
    const first = metadataAt("a", 1_000)
    memo.learn(textOf(first), first)
    // Another key and another expiration: the same memo entry.
    const split = memo.split(textOf(metadataAt("b", 2_000_000)))
    expect(split?.storageKey).toBe("b")
    expect(split?.expiration).toBe(2_000_000)
    expect(memo.split(textOf(metadataAt("c", null)))?.expiration).toBe(null)
    // Another Prefect version is another metadata text.
    expect(memo.split(textOf(metadataAt("d", null, "2.20.0")))).toBeUndefined()
    // Bounded: two more texts evict the least recently used one.
    memo.learn(textOf(metadataAt("e", null, "2.20.0")), metadataAt("e", null, "2.20.0"))
    memo.learn(textOf(metadataAt("f", null, "2.19.0")), metadataAt("f", null, "2.19.0"))
    expect(memo.split(textOf(metadataAt("g", null)))).toBeUndefined()
    expect(memo.split(textOf(metadataAt("h", null, "2.19.0")))).toBeDefined()
    // A fresh memo knows nothing.
    expect(RecordText.makeReadMemo(2).split(textOf(first))).toBeUndefined()
  })

  it.effect("a key that needs escapes, or other metadata, is read in full", () =>
    Effect.gen(function*() {
      const serializer = Serializer.json
      const codec = ResultRecord.makeCodec()
      const primer = primerFor(ResultRecord.makeMetadata({ storageKey: "p", serializer }))
      yield* codec.deserialize(bytes(primer))
      for (
        const metadata of [
          ResultRecord.makeMetadata({ storageKey: "a\"b\\c\n", serializer }),
          ResultRecord.makeMetadata({ storageKey: "k", serializer, prefectVersion: "2.20.0" }),
          ResultRecord.makeMetadata({ storageKey: "k", serializer, expiration: DateTime.makeUnsafe(0) })
        ]
      ) {
        const record = yield* codec.deserialize(
          yield* ResultRecord.serialize(ResultRecord.make({ metadata, result: [1, "two"] }))
        )
        expect(record.result).toStrictEqual([1, "two"])
        expect(ResultRecord.metadataToJson(record.metadata)).toStrictEqual(ResultRecord.metadataToJson(metadata))
      }
    }))
})
