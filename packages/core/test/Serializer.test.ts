import { assert, describe, expect, it } from "@effect/vitest"
import { Data, DateTime, Effect, Equal, Exit, Hash, Schema } from "effect"
import * as fc from "fast-check"
import { RunError, Serializer } from "@runstate/core"
import * as FastJson from "../src/internal/fastJson.ts"
import * as PyJson from "../src/internal/pythonJson.ts"
import * as Oracles from "./oracles.ts"

const seed = process.env.FC_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FC_SEED)
console.log(`Serializer.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)
const params = { seed, numRuns: 200 }

const enc = new TextEncoder()
const dec = new TextDecoder()
const bytes = (s: string) => enc.encode(s)

const dumpsText = (serializer: Serializer.Serializer, value: unknown) =>
  Effect.map(serializer.dumps(value), (b) => dec.decode(b))

const failure = <A>(effect: Effect.Effect<A, RunError.SerializationError>) =>
  Effect.map(Effect.flip(effect), (error) => {
    assert.instanceOf(error, RunError.SerializationError)
    return error
  })

const defaultJsonFields = {
  type: "json",
  jsonlib: "json",
  object_encoder: "prefect.serializers.prefect_json_object_encoder",
  object_decoder: "prefect.serializers.prefect_json_object_decoder",
  dumps_kwargs: {},
  loads_kwargs: {}
}

// Pairs (IEEE-754 bits, Python's json.dumps of that float) generated with CPython.
const pythonFloats: ReadonlyArray<readonly [string, string]> = [
  ["f7faa729ce6c09f0", "-8.800390282239823e+269"],
  ["bc29ee7e54624d46", "-7.028778366925377e-19"],
  ["82f6d861dc48d02d", "-2.235630549966493e-294"],
  ["7e8d2132a9d06891", "3.9015877633107235e+301"],
  ["ee5218f295ce7cdd", "-2.6167017375505366e+223"],
  ["03ae916d5b170905", "6.126356851569949e-291"],
  ["0e14d39aa1d96d55", "7.808388261650895e-241"],
  ["2c5bbdf108069594", "5.1951549574033006e-95"],
  ["9660060aff0200ae", "-6.541737890626034e-201"],
  ["9433905fecfe83de", "-2.324555400882938e-211"],
  ["963892a766465d28", "-1.2540034766888965e-201"],
  ["e07adcefe2be0290", "-5.76279069752888e+156"],
  ["cc68e52dd6a3a644", "-1.2501591660864105e+60"],
  ["5b9b307df89a35da", "1.929914543147071e+133"],
  ["8a07152ab6f8cb56", "-2.3457409374387277e-260"],
  ["355c4df74c74afd2", "1.1820533595613167e-51"],
  ["5d22c7da8bcdd893", "4.4730038359198064e+140"],
  ["44d83500eba0f6ae", "4.5725815739351584e+23"],
  ["c5fccd131ddeafb7", "-1.4261600550373854e+29"],
  ["bcb482a4ecaf05ea", "-2.8463799440843705e-16"],
  ["d9ccfcf865a1d684", "-3.832559930897205e+124"],
  ["14f01c03163e4f4b", "7.840124543062405e-208"],
  ["7c1ead1eec9d1b03", "7.473742982945917e+289"],
  ["783b0553e9eb5a6d", "1.4274947033255145e+271"],
  ["3a53ce9a36f23c10", "1e-27"],
  ["3ac7361cb863de63", "1.5000000000000001e-25"],
  ["3b5dd99aed222a8c", "9.87654321e-23"],
  ["3bac558e0f15e8f6", "2.9999999999999995e-21"],
  ["3c32725dd1d243ac", "1e-18"],
  ["3ca59e05f1e2674d", "1.5e-16"],
  ["3d3bcccca63715e3", "9.876543209999999e-14"],
  ["3d8a636641c4df1a", "3e-12"],
  ["3e112e0be826d695", "1e-09"],
  ["3e8421f5f40d8376", "1.5e-07"],
  ["3f19e4093410a959", "9.876543210000001e-05"],
  ["3f689374bc6a7efa", "0.003"],
  ["3ff0000000000000", "1.0"],
  ["4062c00000000000", "150.0"],
  ["40f81cd6e9e1b089", "98765.43209999999"],
  ["4146e36000000000", "3000000.0"],
  ["41cdcd6500000000", "1000000000.0"],
  ["424176592e000000", "150000000000.0"],
  ["42d674e79fc52800", "98765432100000.0"],
  ["432550f7dca70000", "3000000000000000.0"],
  ["43abc16d674ec800", "1e+18"],
  ["442043561a882930", "1.5e+20"],
  ["44b4ea15b59d438e", "9.876543209999999e+22"],
  ["4503da329b633647", "3e+24"],
  ["4589d971e4fe8402", "1e+27"],
  ["45fe4ad1785a42b2", "1.5e+29"]
]

const floatOf = (hex: string): number => {
  const view = new DataView(new ArrayBuffer(8))
  view.setBigUint64(0, BigInt("0x" + hex))
  return view.getFloat64(0)
}

class MyError extends Data.TaggedError("MyError")<{ readonly message: string }> {}

describe("Serializer.json dumps: the bytes of Python's json.dumps", () => {
  it("has Prefect's fields, in Prefect's order", () => {
    expect(Serializer.json.type).toBe("json")
    expect(Object.keys(Serializer.json.fields)).toEqual(Object.keys(defaultJsonFields))
    expect(Serializer.json.fields).toEqual(defaultJsonFields)
    expect(Serializer.isSerializer(Serializer.json)).toBe(true)
    expect(Serializer.isSerializer({ ...defaultJsonFields })).toBe(false)
  })

  it.effect("writes the inner result texts of Prefect's storage layout", () =>
    Effect.gen(function*() {
      expect(yield* dumpsText(Serializer.json, "The results are in...")).toBe("\"The results are in...\"")
      expect(yield* dumpsText(Serializer.json, { a: [1, 2, 3], b: null })).toBe("{\"a\": [1, 2, 3], \"b\": null}")
    }))

  it.effect("matches CPython byte for byte on strings, numbers and nesting", () =>
    Effect.gen(function*() {
      const value = {
        text: "café 😀 \u0000\u001f\u007f\b\f\n\r\t\"\\/",
        nums: [0, -1, 1.5, 1e16, 1.5e-5, -0, NaN, Infinity, -Infinity, 12345678901234567890n, 2 ** 60],
        nested: { a: [[], {}], b: null, c: true }
      }
      // python3 -c 'import json; print(json.dumps(value))' for the same value
      const python = String
        .raw`{"text": "caf\u00e9 \ud83d\ude00 \u0000\u001f\u007f\b\f\n\r\t\"\\/", "nums": [0, -1, 1.5, 1e+16, 1.5e-05, -0.0, NaN, Infinity, -Infinity, 12345678901234567890, 1.152921504606847e+18], "nested": {"a": [[], {}], "b": null, "c": true}}`
      expect(yield* dumpsText(Serializer.json, value)).toBe(python)
    }))

  it.effect("writes floats as Python's repr (exponent form outside [1e-4, 1e16), .0 on integral floats)", () =>
    Effect.gen(function*() {
      const table: ReadonlyArray<readonly [number, string]> = [
        [1e16, "1e+16"],
        [1.5e-5, "1.5e-05"],
        [1e-7, "1e-07"],
        [0.0001, "0.0001"],
        [0.1, "0.1"],
        [-0, "-0.0"],
        [2 ** 53, "9007199254740992.0"],
        [2 ** 60, "1.152921504606847e+18"],
        [1e21, "1e+21"],
        [5e-324, "5e-324"],
        [1.7976931348623157e308, "1.7976931348623157e+308"],
        [0.30000000000000004, "0.30000000000000004"],
        [1e15, "1000000000000000"], // a safe integer: Python int
        [2 ** 53 - 1, "9007199254740991"],
        [-42, "-42"]
      ]
      for (const [n, text] of table) expect(yield* dumpsText(Serializer.json, n), String(n)).toBe(text)
      for (const [hex, text] of pythonFloats) {
        const n = floatOf(hex)
        if (Number.isSafeInteger(n)) continue
        expect(yield* dumpsText(Serializer.json, n), hex).toBe(text)
      }
    }))

  it.effect("applies Prefect's object encoder to values JSON cannot hold", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [
          DateTime.makeUnsafe("2024-01-01T00:00:00Z"),
          "{\"__class__\": \"datetime.datetime\", \"data\": \"2024-01-01T00:00:00Z\"}"
        ],
        [
          new Date("2024-01-02T03:04:05.678Z"),
          "{\"__class__\": \"datetime.datetime\", \"data\": \"2024-01-02T03:04:05.678000Z\"}"
        ],
        [new Set([1, 2]), "{\"__class__\": \"builtins.set\", \"data\": [1, 2]}"],
        [new Uint8Array([97, 98, 99]), "{\"__class__\": \"builtins.bytes\", \"data\": \"abc\"}"],
        [new Error("test error"), "{\"__exc_type__\": \"builtins.Exception\", \"message\": \"test error\"}"],
        [new TypeError("bad"), "{\"__exc_type__\": \"builtins.TypeError\", \"message\": \"bad\"}"],
        [
          Object.assign(new Error("v"), { name: "ValueError" }),
          "{\"__exc_type__\": \"builtins.ValueError\", \"message\": \"v\"}"
        ],
        [
          new RangeError("r"),
          "{\"__exc_type__\": \"builtins.Exception\", \"message\": \"r\", \"name\": \"RangeError\"}"
        ],
        [
          new MyError({ message: "m" }),
          "{\"__exc_type__\": \"builtins.Exception\", \"message\": \"m\", \"name\": \"MyError\"}"
        ],
        [
          new Map<unknown, unknown>([["a", 1], [2, "b"], [1.5, null], [true, []]]),
          "{\"a\": 1, \"2\": \"b\", \"1.5\": null, \"true\": []}"
        ],
        [[1, undefined, 2], "[1, null, 2]"],
        [{ a: undefined, b: 1 }, "{\"b\": 1}"],
        [undefined, "null"],
        [{ toJSON: () => ({ x: 1 }) }, "{\"x\": 1}"]
      ]
      for (const [value, text] of cases) expect(yield* dumpsText(Serializer.json, value)).toBe(text)
    }))

  it.effect("fails with a typed error on functions, symbols, bad keys, non-UTF-8 bytes, cycles", () =>
    Effect.gen(function*() {
      expect((yield* failure(Serializer.json.dumps(() => 1))).message).toBe(
        "Object of type function is not JSON serializable"
      )
      expect((yield* failure(Serializer.json.dumps([Symbol("s")]))).message).toBe(
        "Object of type symbol is not JSON serializable"
      )
      expect((yield* failure(Serializer.json.dumps(new Map([[{}, 1]])))).message).toBe(
        "keys must be str, int, float, bool or None, not object"
      )
      expect((yield* failure(Serializer.json.dumps(new Uint8Array([0xff])))).message).toBe(
        "Error serializing to JSON: bytes are not valid UTF-8"
      )
      expect((yield* failure(Serializer.json.dumps(new Int32Array(2)))).message).toBe(
        "Object of type Int32Array is not JSON serializable"
      )
      const cyclic: Record<string, unknown> = { a: 1 }
      cyclic["self"] = [cyclic]
      expect((yield* failure(Serializer.json.dumps(cyclic))).message).toBe("Circular reference detected")
      const set = new Set<unknown>()
      set.add([set])
      expect((yield* failure(Serializer.json.dumps(set))).message).toBe("Circular reference detected")
      const shared = { x: 1 }
      expect(yield* dumpsText(Serializer.json, [shared, shared])).toBe("[{\"x\": 1}, {\"x\": 1}]")
    }))

  it.effect("writes and reads 100,000 levels of nesting without overflowing the stack", () =>
    Effect.gen(function*() {
      let deep: unknown = []
      for (let i = 0; i < 100_000; i++) deep = [deep]
      const out = yield* Serializer.json.dumps(deep)
      expect(out.length).toBe(200_002)
      let back = yield* Serializer.json.loads(out)
      let depth = 0
      while (Array.isArray(back) && back.length === 1) {
        back = back[0]
        depth++
      }
      expect(depth).toBe(100_000)
    }))
})

describe("Serializer.json loads: Python's json.loads with Prefect's object decoder", () => {
  it.effect("reads NaN, Infinity, -Infinity, big integers and -0 as Python does", () =>
    Effect.gen(function*() {
      const value = yield* Serializer.json.loads(
        bytes("[NaN, Infinity, -Infinity, 1e400, -0, -0.0, 12345678901234567890, 1.0]")
      )
      expect(value).toEqual([NaN, Infinity, -Infinity, Infinity, 0, -0, 12345678901234567890n, 1])
      expect(Object.is((value as Array<number>)[4], 0)).toBe(true)
      expect(Object.is((value as Array<number>)[5], -0)).toBe(true)
    }))

  it.effect("decodes Prefect's __class__ and __exc_type__ objects, leaving unknown classes alone", () =>
    Effect.gen(function*() {
      const value = (yield* Serializer.json.loads(bytes(String.raw`{
        "dt": {"__class__": "datetime.datetime", "data": "2024-01-02T03:04:05.678901+01:00"},
        "id": {"__class__": "uuid.UUID", "data": "12345678123456781234567812345678"},
        "set": {"__class__": "builtins.set", "data": [1, 2]},
        "bytes": {"__class__": "builtins.bytes", "data": "abc"},
        "date": {"__class__": "datetime.date", "data": "2024-01-02"},
        "custom": {"__class__": "my_module.Model", "data": {"x": 1}},
        "exc": {"__exc_type__": "builtins.ValueError", "message": "test error"},
        "named": {"__exc_type__": "builtins.Exception", "message": "r", "name": "RangeError"},
        "plain": {"a": {"b": 1}}
      }`))) as Record<string, unknown>
      assert.isTrue(DateTime.isDateTime(value["dt"]))
      expect(DateTime.formatIso(value["dt"] as DateTime.Utc)).toBe("2024-01-02T02:04:05.678Z")
      expect(value["id"]).toBe("12345678-1234-5678-1234-567812345678")
      expect(value["set"]).toEqual(new Set([1, 2]))
      expect(value["bytes"]).toEqual(new Uint8Array([97, 98, 99]))
      expect(value["date"]).toBe("2024-01-02")
      expect(value["custom"]).toEqual({ __class__: "my_module.Model", data: { x: 1 } })
      const exc = value["exc"] as Error
      assert.instanceOf(exc, Error)
      expect(exc.name).toBe("ValueError")
      expect(exc.message).toBe("test error")
      expect((value["named"] as Error).name).toBe("RangeError")
      expect(value["plain"]).toEqual({ a: { b: 1 } })
    }))

  it.effect("round-trips Prefect's encodings back to JS values", () =>
    Effect.gen(function*() {
      const value = {
        at: DateTime.makeUnsafe("2024-01-02T03:04:05.678Z"),
        tags: new Set(["a", "b"]),
        raw: new Uint8Array([104, 105]),
        list: [1, "two", null]
      }
      const back = yield* Serializer.json.loads(yield* Serializer.json.dumps(value))
      assert.isTrue(Equal.equals(back, value))
      const error =
        (yield* Serializer.json.loads(yield* Serializer.json.dumps(new MyError({ message: "boom" })))) as Error
      expect([error.name, error.message]).toEqual(["MyError", "boom"])
    }))

  it.effect("fails on invalid exception types as Prefect does", () =>
    Effect.gen(function*() {
      expect(
        (yield* failure(Serializer.json.loads(bytes("{\"__exc_type__\": \"NotDotted\", \"message\": \"x\"}")))).message
      )
        .toBe("Invalid exception type: 'NotDotted'")
      expect((yield* failure(Serializer.json.loads(bytes("{\"__exc_type__\": 5, \"message\": \"x\"}")))).message)
        .toBe("Invalid exception type: 5")
      expect(
        (yield* failure(Serializer.json.loads(bytes("{\"__class__\": \"datetime.datetime\", \"data\": \"nope\"}"))))
          .message
      )
        .toBe("Invalid data for class 'datetime.datetime': \"nope\"")
    }))

  it.effect("never pollutes prototypes: __proto__ and constructor keys are own data", () =>
    Effect.gen(function*() {
      const value = (yield* Serializer.json.loads(
        bytes("{\"__proto__\": {\"polluted\": true}, \"constructor\": {\"prototype\": {\"polluted\": true}}, \"a\": 1}")
      )) as Record<string, unknown>
      expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined()
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
      expect(Object.keys(value)).toEqual(["__proto__", "constructor", "a"])
      expect(Object.getOwnPropertyDescriptor(value, "__proto__")?.value).toEqual({ polluted: true })
      expect((value as { polluted?: unknown }).polluted).toBeUndefined()
      const expected: Record<string, unknown> = { constructor: { prototype: { polluted: true } }, a: 1 }
      Object.defineProperty(expected, "__proto__", {
        value: { polluted: true },
        enumerable: true,
        writable: true,
        configurable: true
      })
      expect(value).toEqual(expected)
      assert.isTrue(Equal.equals(value, expected))
    }))

  it.effect("reports malformed text with Python's messages, never throwing", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["{\"a\": }", "Expecting value: line 1 column 7 (char 6)"],
        ["[1, 2] x", "Extra data: line 1 column 8 (char 7)"],
        ["", "Expecting value: line 1 column 1 (char 0)"],
        ["\"a\u0001\"", "Invalid control character at: line 1 column 3 (char 2)"],
        ["{\"a\" 1}", "Expecting ':' delimiter: line 1 column 6 (char 5)"],
        ["\"abc", "Unterminated string starting at: line 1 column 1 (char 0)"],
        ["\"\\x\"", "Invalid \\escape: line 1 column 2 (char 1)"],
        ["\"\\u12\"", "Invalid \\uXXXX escape: line 1 column 3 (char 2)"],
        ["[1,\n 2\n x]", "Expecting ',' delimiter: line 3 column 2 (char 8)"],
        ["{1: 2}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"]
      ]
      for (const [text, message] of cases) {
        expect((yield* failure(Serializer.json.loads(bytes(text)))).message, text).toBe(message)
      }
      expect((yield* failure(Serializer.json.loads(new Uint8Array([0x22, 0xff, 0x22])))).message).toBe(
        "JSON text is not valid UTF-8"
      )
    }))
})

describe("Serializer.compressedJson", () => {
  it("records Prefect's compressed/json fields", () => {
    expect(Serializer.compressedJson().type).toBe("compressed/json")
    expect(Serializer.compressedJson().fields).toEqual({
      type: "compressed/json",
      serializer: defaultJsonFields,
      compressionlib: "zlib"
    })
    expect(Serializer.compressedJson({ compressionlib: "gzip" }).fields["compressionlib"]).toBe("gzip")
    assert.isTrue(Equal.equals(Serializer.compressedJson(), Serializer.compressedJson({ compressionlib: "zlib" })))
    assert.isFalse(Equal.equals(Serializer.compressedJson(), Serializer.compressedJson({ compressionlib: "gzip" })))
  })

  it.effect("reads CPython's base64.encodebytes(zlib.compress(...)) output, with or without newlines", () =>
    Effect.gen(function*() {
      const python = "eJyrVkpUslKINtRRMNJRMI7VUVBKAvLzSnNyagFXmgbl\n"
      const expected = { a: [1, 2, 3], b: null }
      expect(yield* Serializer.compressedJson().loads(bytes(python))).toEqual(expected)
      expect(yield* Serializer.compressedJson().loads(bytes(python.trim()))).toEqual(expected)
      const long = "eJztzMtxXDEMAMFcFMED+AGViy7SkszAVQ7ftR2BA9Ac5tgff3/7777+PM9r+ad/+4+/fPvx+/5+\n" +
        "PDy9effh08v5m7/5m7/5m7/5m3/4h3/4h3/4h3/4h3/4h3/4h3/4h3/4h3/5l3/5l3/5l3/5l3/5\n" +
        "l3/5l3/5l3/59+3H83h4evPuw6eXL//0b//xl28/zg9+8IMf/OAHP/jBD37wgx/84Ac/+MFPfvKT\n" +
        "n/zkJz/5yU9+8pOf/OQnP/nJb/zGb/zGb/zGb/zGb/zGb/zGb/zGb/zG7/zO7/zO7/zO7/zO7/zO\n" +
        "7/zO7/zO7/zOH/zBH/zBH/zBH/zBH/zBH/zBH/zBH/zBn/zJn/zJn/zJn/zJn/zJn/zJn/zJn/zJ\n" +
        "L37xi1/84he/+MUvfvGLX/ziF7/4xV/8xV/8xV/8xV/8xV/8xV/8xV/8xV/8dT/+AXsL5nI=\n"
      const text = "x".repeat(300) + Array.from({ length: 200 }, (_, i) => String.fromCharCode(200 + i)).join("")
      expect(yield* Serializer.compressedJson().loads(bytes(long))).toBe(text)
      expect(yield* Serializer.compressedJson().loads(bytes(long.replace(/\n/g, "")))).toBe(text)
    }))

  it.effect("writes base64 in 76-character lines with a final newline, and reads it back (zlib and gzip)", () =>
    Effect.gen(function*() {
      const value = { text: "ünïcødé ".repeat(200), n: [1, 2.5, null] }
      for (const serializer of [Serializer.compressedJson(), Serializer.compressedJson({ compressionlib: "gzip" })]) {
        const out = dec.decode(yield* serializer.dumps(value))
        expect(out.endsWith("\n")).toBe(true)
        const lines = out.slice(0, -1).split("\n")
        expect(lines.slice(0, -1).every((line) => line.length === 76)).toBe(true)
        expect(lines.at(-1)!.length).toBeLessThanOrEqual(76)
        expect(yield* serializer.loads(bytes(out))).toEqual(value)
      }
    }))

  it.effect("fails with typed errors on bad base64, corrupted and truncated data", () =>
    Effect.gen(function*() {
      const serializer = Serializer.compressedJson()
      expect((yield* failure(serializer.loads(bytes("not base64!")))).message).toBe("Invalid base64 data")
      const corrupted = yield* failure(serializer.loads(bytes("AAAAAAAA\n")))
      expect(corrupted.message.startsWith("Failed to decompress with 'zlib': ")).toBe(true)
      const good = dec.decode(yield* serializer.dumps("x".repeat(500)))
      const truncated = yield* failure(serializer.loads(bytes(good.slice(0, 12))))
      expect(truncated.message.startsWith("Failed to decompress with 'zlib': ")).toBe(true)
      expect((yield* failure(serializer.loads(new Uint8Array([0xff])))).message).toBe("Base64 text is not valid UTF-8")
    }))

  it.effect("loads metadata naming lzma or bz2, but cannot run them", () =>
    Effect.gen(function*() {
      const lzma = yield* Serializer.fromJson({ type: "compressed/json" })
      expect(lzma.fields).toEqual({ type: "compressed/json", serializer: defaultJsonFields, compressionlib: "lzma" })
      expect((yield* failure(lzma.dumps(1))).message).toBe(
        "Compression library 'lzma' is not available in this environment, so serialization cannot be performed."
      )
      const bz2 = yield* Serializer.fromJson({ type: "compressed", serializer: "json", compressionlib: "bz2" })
      expect((yield* failure(bz2.loads(bytes("QlpoOQ==\n")))).message).toBe(
        "Compression library 'bz2' is not available in this environment, so deserialization cannot be performed."
      )
    }))
})

describe("Serializer.schema", () => {
  const Point = Schema.Struct({ x: Schema.Number, label: Schema.String })

  it("is recorded as Prefect's json", () => {
    const serializer = Serializer.schema(Point)
    expect(serializer.type).toBe("json")
    expect(serializer.fields).toEqual(defaultJsonFields)
    assert.isTrue(Equal.equals(serializer, Serializer.json))
    expect(Hash.hash(serializer)).toBe(Hash.hash(Serializer.json))
  })

  it.effect("writes json bytes and reads them back typed", () =>
    Effect.gen(function*() {
      const serializer = Serializer.schema(Point)
      const out = yield* serializer.dumps({ x: 1.5, label: "é" })
      expect(dec.decode(out)).toBe("{\"x\": 1.5, \"label\": \"\\u00e9\"}")
      expect(yield* serializer.loads(out)).toEqual({ x: 1.5, label: "é" })
    }))

  it.effect("fails with a SerializationError naming the path", () =>
    Effect.gen(function*() {
      const serializer = Serializer.schema(Point)
      const read = yield* failure(serializer.loads(bytes("{\"x\": \"one\", \"label\": \"a\"}")))
      expect(read.message).toContain("Stored value does not match the schema")
      expect(read.message).toContain("[\"x\"]")
      const write = yield* failure(serializer.dumps({ x: 1 }))
      expect(write.message).toContain("Value does not match the schema")
      expect(write.message).toContain("[\"label\"]")
    }))
})

describe("Serializer.unknown", () => {
  it.effect("keeps its fields and fails with Prefect's texts", () =>
    Effect.gen(function*() {
      const pickle = Serializer.unknown({ type: "pickle", picklelib: "cloudpickle", picklelib_version: null })
      expect(pickle.type).toBe("pickle")
      expect(pickle.fields).toEqual({ type: "pickle", picklelib: "cloudpickle", picklelib_version: null })
      expect((yield* failure(pickle.dumps("hello"))).message).toBe(
        "Serializer 'pickle' is not available in this environment, so serialization cannot be performed."
      )
      expect((yield* failure(pickle.loads(bytes("gAWVCQAAAAAAAACMBWhlbGxvlC4=\n")))).message).toBe(
        "Serializer 'pickle' is not available in this environment, so deserialization cannot be performed."
      )
    }))
})

describe("Serializer.fromJson", () => {
  it.effect("validates json, filling Prefect's defaults", () =>
    Effect.gen(function*() {
      const s = yield* Serializer.fromJson({ type: "json" })
      expect(s.fields).toEqual(defaultJsonFields)
      assert.isTrue(Equal.equals(s, Serializer.json))
      const full = yield* Serializer.fromJson(defaultJsonFields)
      assert.isTrue(Equal.equals(full, Serializer.json))
      expect(yield* Serializer.fromJson(Serializer.json)).toBe(Serializer.json)
    }))

  it.effect("rejects unknown keys and bad values for known types", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ type: "json", extra: 1 }, "Invalid serializer: unknown field 'extra' for serializer type 'json'"],
        [{ type: "json", jsonlib: 5 }, "Invalid serializer: jsonlib: expected a string, got 5"],
        [{ type: "json", dumps_kwargs: [] }, "Invalid serializer: dumps_kwargs: expected an object, got []"],
        [
          { type: "json", dumps_kwargs: { default: "x" } },
          "Invalid serializer: `default` cannot be provided. Use `object_encoder` instead."
        ],
        [
          { type: "json", loads_kwargs: { object_hook: "x" } },
          "Invalid serializer: `object_hook` cannot be provided. Use `object_decoder` instead."
        ],
        [{ type: "pickle", extra: 1 }, "Invalid serializer: unknown field 'extra' for serializer type 'pickle'"],
        [{ type: "compressed" }, "Invalid serializer: serializer: field required"],
        [
          { type: "compressed/json", serializer: { type: "json", bad: 1 } },
          "Invalid serializer: serializer: unknown field 'bad' for serializer type 'json'"
        ],
        [
          { type: "compressed/json", compressionlib: null },
          "Invalid serializer: compressionlib: expected a string, got null"
        ],
        ["json", "Invalid serializer: expected an object with a 'type' key, got 'json'"],
        [null, "Invalid serializer: expected an object with a 'type' key, got null"],
        [{ jsonlib: "json" }, "Invalid serializer: type: field required"],
        [{ type: 1 }, "Invalid serializer: type: expected a string, got 1"]
      ]
      for (const [input, message] of cases) {
        expect((yield* failure(Serializer.fromJson(input))).message).toBe(message)
      }
    }))

  it.effect("reads compressed serializers with inner type strings or objects", () =>
    Effect.gen(function*() {
      const a = yield* Serializer.fromJson({ type: "compressed", serializer: "json", compressionlib: "zlib" })
      expect(a.fields).toEqual({ type: "compressed", serializer: defaultJsonFields, compressionlib: "zlib" })
      const b = yield* Serializer.fromJson({
        type: "compressed/json",
        serializer: defaultJsonFields,
        compressionlib: "gzip"
      })
      assert.isTrue(Equal.equals(b, Serializer.compressedJson({ compressionlib: "gzip" })))
      expect(yield* b.loads(yield* b.dumps([1, "x"]))).toEqual([1, "x"])
      const c = yield* Serializer.fromJson({ type: "compressed/pickle" })
      expect(c.fields).toEqual({
        type: "compressed/pickle",
        serializer: { type: "pickle", picklelib: "cloudpickle", picklelib_version: null },
        compressionlib: "lzma"
      })
    }))

  it.effect("turns pickle and unregistered types into placeholders keeping every key", () =>
    Effect.gen(function*() {
      const pickle = yield* Serializer.fromJson({ type: "pickle" })
      expect(pickle.fields).toEqual({ type: "pickle", picklelib: "cloudpickle", picklelib_version: null })
      const custom = yield* Serializer.fromJson({ type: "custom", foo: "bar", n: [1] })
      expect(custom.type).toBe("custom")
      expect(custom.fields).toEqual({ type: "custom", foo: "bar", n: [1] })
      expect((yield* failure(custom.loads(bytes("x")))).message).toBe(
        "Serializer 'custom' is not available in this environment, so deserialization cannot be performed."
      )
    }))

  it.effect("honours object_encoder / object_decoder null and refuses encoders it cannot run", () =>
    Effect.gen(function*() {
      const raw = yield* Serializer.fromJson({ type: "json", object_encoder: null, object_decoder: null })
      expect((yield* failure(raw.dumps(new Set([1])))).message).toBe("Object of type Set is not JSON serializable")
      expect(yield* raw.loads(bytes("{\"__class__\": \"builtins.set\", \"data\": [1]}"))).toEqual({
        __class__: "builtins.set",
        data: [1]
      })
      const custom = yield* Serializer.fromJson({ type: "json", object_encoder: "my.encoder", dumps_kwargs: {} })
      expect((yield* failure(custom.dumps(1))).message).toBe(
        "Object encoder 'my.encoder' is not available in this environment, so serialization cannot be performed."
      )
      const kwargs = yield* Serializer.fromJson({ type: "json", dumps_kwargs: { indent: 2 } })
      expect(Exit.isFailure(yield* Effect.exit(kwargs.dumps(1)))).toBe(true)
      expect(yield* kwargs.loads(bytes("[1]"))).toEqual([1])
    }))
})

// JSON values without the two keys Prefect's decoder reinterprets.
const jsonValue: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 4 }).filter((v) =>
  !JSON.stringify(v).includes("\"__class__\"") && !JSON.stringify(v).includes("\"__exc_type__\"")
)

describe("Serializer.json laws (fast-check)", () => {
  it("law: loads(dumps(x)) equals x for JSON values", async () => {
    await fc.assert(
      fc.asyncProperty(jsonValue, async (value) => {
        const back = await Effect.runPromise(Effect.flatMap(Serializer.json.dumps(value), Serializer.json.loads))
        return Equal.equals(back, value) && JSON.stringify(back) === JSON.stringify(value)
      }),
      params
    )
  })

  it("law: loads(dumps(x)) is x for every double, including NaN, ±Infinity and -0", () => {
    fc.assert(
      fc.property(
        fc.double(),
        (n) => Object.is(Effect.runSync(Effect.flatMap(Serializer.json.dumps(n), Serializer.json.loads)), n)
      ),
      { ...params, numRuns: 2000 }
    )
  })

  it("law: dumps output is ASCII", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: "binary" }), fc.jsonValue({ maxDepth: 3, depthSize: "small" })),
        (value) => Effect.runSync(Serializer.json.dumps(value)).every((b) => b < 0x80)
      ),
      params
    )
  })

  it("law: JSON.parse(dumps(x)) deep-equals x for finite JSON values", () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        expect(JSON.parse(dec.decode(Effect.runSync(Serializer.json.dumps(value))))).toStrictEqual(value)
      }),
      params
    )
  })
})

describe("Serializer.json fast paths agree with the exact implementations (fast-check)", () => {
  const exact = (v: unknown, prefect: boolean): string | undefined => {
    try {
      return PyJson.dumps(v, { python: true, prefect })
    } catch {
      return undefined
    }
  }
  const exactParse = (text: string, hooked: boolean): { readonly value: unknown } | undefined => {
    try {
      return { value: PyJson.parse(text, hooked ? PyJson.prefectObjectHook : undefined) }
    } catch {
      return undefined
    }
  }
  // Every code unit, including lone surrogates, and numbers at the edges of Python's float repr.
  const anyString = fc.string({ unit: "binary" })
  const number = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.constantFrom(
      -0,
      0,
      1e-4,
      9.999999999999999e-5,
      1e16,
      2 ** 53,
      2 ** 53 - 1,
      -(2 ** 53),
      1e21,
      0.1,
      NaN,
      -Infinity
    ),
    fc.double({ min: 1e-5, max: 1e-3 }),
    fc.double({ min: 1e15, max: 1e17 })
  )
  const leaf = fc.oneof(anyString, number, fc.boolean(), fc.constant(null), fc.constant(undefined), fc.bigInt())
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object"), tie("special")),
    array: fc.array(tie("node"), { maxLength: 5 }),
    object: fc.dictionary(
      fc.oneof(anyString, fc.constantFrom("__class__", "__exc_type__", "data", "__proto__")),
      tie("node"),
      {
        maxKeys: 5
      }
    ),
    special: fc.oneof(
      fc.constant(new Set([1])),
      fc.constant(new Date(0)),
      fc.constant(new Error("e")),
      fc.constant({ toJSON: () => "x" }),
      fc.constant(new Map([["a", 1]])),
      fc.constant(Object.create(null) as unknown),
      fc.constant(() => 1)
    )
  })).node

  it("dumps: the fast path writes the exact encoder's text byte for byte, or defers to it", () => {
    fc.assert(
      fc.property(value, (v) => {
        const fast = FastJson.dumpsPython(v)
        if (fast === undefined) return true
        return fast === exact(v, true) && fast === exact(v, false)
      }),
      { ...params, numRuns: 2000 }
    )
  })

  it("dumps: plain JSON values always take the fast path", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => FastJson.dumpsPython(v) === exact(v, true)),
      { ...params, numRuns: 1000 }
    )
  })

  it("dumps: a cycle or deep nesting defers to the exact encoder", () => {
    const cyclic: Record<string, unknown> = {}
    cyclic["self"] = cyclic
    expect(FastJson.dumpsPython(cyclic)).toBeUndefined()
    let deep: unknown = 1
    for (let i = 0; i < 1000; i++) deep = [deep]
    expect(FastJson.dumpsPython(deep)).toBeUndefined()
  })

  it("string escaping: asciiString and unicodeString match their per-code-unit references on every code unit", () => {
    for (let c = 0; c < 0x10000; c++) {
      const s = String.fromCharCode(c)
      for (const t of [s, `a${s}"`, s + s]) {
        if (PyJson.asciiString(t) !== Oracles.asciiStringSlow(t)) expect.fail(`asciiString ${c.toString(16)}`)
        if (PyJson.unicodeString(t) !== Oracles.unicodeStringSlow(t)) expect.fail(`unicodeString ${c.toString(16)}`)
      }
    }
    fc.assert(
      fc.property(
        anyString,
        (s) =>
          PyJson.asciiString(s) === Oracles.asciiStringSlow(s) &&
          PyJson.unicodeString(s) === Oracles.unicodeStringSlow(s)
      ),
      { ...params, numRuns: 2000 }
    )
  })

  // Texts the exact encoder writes (NaN, big integers, -0.0, __class__ objects, ...), and arbitrary texts.
  const text = fc.oneof(
    value.map((v) => exact(v, true) ?? "null"),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.constantFrom(
      "-0",
      "-0.0",
      "[-0]",
      "9007199254740993",
      "1e400",
      "{\"__proto__\": 1}",
      " \t\n1 ",
      "[1,]",
      "\"\\ud800\""
    ),
    fc.string()
  )

  it("parse: the fast path builds the exact parser's value (hooked or not), or defers to it", () => {
    fc.assert(
      fc.property(text, fc.boolean(), (t, hooked) => {
        const fast = FastJson.parse(t, hooked)
        if (fast === FastJson.NotFast) return true
        const reference = exactParse(t, hooked)
        expect(reference).toBeDefined()
        expect(fast).toStrictEqual(reference!.value)
        return true
      }),
      { ...params, numRuns: 3000 }
    )
  })

  it("parse: defers on -0, big integers, NaN / Infinity and Prefect's class objects", () => {
    for (const t of ["-0", "[9007199254740993]", "NaN", "[1e400]", "{\"__class__\": \"builtins.set\", \"data\": []}"]) {
      expect(FastJson.parse(t, true)).toBe(FastJson.NotFast)
    }
    expect(FastJson.parse("{\"__class__\": 1}", false)).toStrictEqual({ __class__: 1 })
    expect(Object.hasOwn(FastJson.parse("{\"__proto__\": 1}", false) as object, "__proto__")).toBe(true)
  })

  it.effect("loads: the text form reads what the byte form reads, BOM included", () =>
    Effect.gen(function*() {
      const codec = Serializer.json.text!
      for (const t of ["\ufeff[1, 2]", "{\"a\": NaN}", "{\"__class__\": \"builtins.set\", \"data\": [1]}", "[1"]) {
        const viaBytes = yield* Effect.exit(Serializer.json.loads(bytes(t)))
        let viaText: Exit.Exit<unknown, string>
        try {
          viaText = Exit.succeed(codec.loads!(t))
        } catch (e) {
          viaText = Exit.fail((e as Error).message)
        }
        if (Exit.isSuccess(viaBytes)) expect(viaText).toStrictEqual(Exit.succeed(viaBytes.value))
        else expect(Exit.isFailure(viaText)).toBe(true)
      }
    }))
})

describe("Serializer.json: dict key order (a documented limit)", () => {
  const text = (u: unknown) => new TextDecoder().decode(Effect.runSync(Serializer.json.dumps(u)))

  it("a read-then-write round trip puts integer-like keys first; a Map keeps Python's order", () => {
    const read = Effect.runSync(Serializer.json.loads(new TextEncoder().encode("{\"b\": 1, \"a\": 2, \"10\": 3}")))
    expect(text(read)).toBe("{\"10\": 3, \"b\": 1, \"a\": 2}")
    // The way around it: a Map (or pairs) written in the order wanted.
    expect(text(new Map<string, number>([["b", 1], ["a", 2], ["10", 3]]))).toBe("{\"b\": 1, \"a\": 2, \"10\": 3}")
  })
})

describe("Serializer.make and error texts", () => {
  it.effect("a user serializer keeps its fields, text form and equality by fields", () =>
    Effect.gen(function*() {
      const make = () =>
        Serializer.make({
          fields: { type: "text/plain", encoding: "utf-8" },
          dumps: (value) => Effect.succeed(new TextEncoder().encode(String(value))),
          loads: (bytes) => Effect.succeed(new TextDecoder().decode(bytes)),
          text: { dumps: String, loads: (t) => t }
        })
      const a = make()
      expect(a.type).toBe("text/plain")
      expect(a.fields).toStrictEqual({ type: "text/plain", encoding: "utf-8" })
      expect(a.text?.dumps?.(5)).toBe("5")
      expect(Equal.equals(a, make())).toBe(true)
      expect(Serializer.json.text?.dumps).toBeTypeOf("function")
      expect(Serializer.unknown({ type: "pickle" }).text).toBeUndefined()
      expect(yield* Effect.flatMap(a.dumps("hi"), a.loads)).toBe("hi")
    }))

  it.effect("schema errors and invalid data are described in at most a few hundred characters", () =>
    Effect.gen(function*() {
      const big = Array.from({ length: 1_000_000 }, (_, i) => i)
      const typed = Serializer.schema(Schema.Array(Schema.String))
      const error = yield* Effect.flip(typed.dumps(big))
      expect(error.message.length).toBeLessThan(5000)
      expect(error.message).toContain("Value does not match the schema")
      const invalid = yield* Effect.flip(
        Serializer.json.loads(
          new TextEncoder().encode(JSON.stringify({ __class__: "datetime.datetime", data: big }))
        )
      )
      expect(invalid.message.length).toBeLessThan(500)
      expect(invalid.message).toContain("Invalid data for class 'datetime.datetime': [0, 1, 2")
      const fields = yield* Effect.flip(Serializer.fromJson({ type: "json", jsonlib: big }))
      expect(fields.message.length).toBeLessThan(500)
    }))
})
