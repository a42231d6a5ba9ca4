/**
 * `serializer.compressed`: serialize then deserialize a small dict (about 90
 * bytes of JSON) 5,000 times with `Serializer.compressedJson()` (zlib) under
 * `NodeCompression.layer`, against `node:zlib`'s `deflateSync` / `inflateSync`
 * plus base64 of the same JSON text, done directly. Goal: ratio ≤ 1.5.
 *
 * Also printed: `floorRatio`, the least Prefect's exact format costs against
 * the same baseline — Python's `json.dumps` text (the serializer's fast path),
 * deflate, base64 with a newline every 76 characters, and the reverse with
 * Python's JSON reader — before any Effect or service code runs; and
 * `webRatio`, the same subject on the core's default (web `CompressionStream`).
 */
import { Effect } from "effect"
import { deflateSync, inflateSync } from "node:zlib"
import { Compression, Serializer } from "@runstate/core"
import { NodeCompression } from "@runstate/node"
import { type Benchmark, compare, round } from "../../../scripts/benchmark.ts"
import * as FastJson from "../../core/src/internal/fastJson.ts"

const N = 5_000
const WEB_N = 1_000
const value = { flow: "etl", rows: 1042, ok: true, tags: ["daily", "eu-west"], score: 0.97, note: "all done" }
const serializer = Serializer.compressedJson()
const node = NodeCompression.make()

const loop = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) {
      const bytes = yield* serializer.dumps(value)
      const back = (yield* serializer.loads(bytes)) as typeof value
      if (back.rows !== 1042) return yield* Effect.die("unreachable: wrong value")
    }
  })

const subject = (): void => Effect.runSync(Effect.provideService(loop(N), Compression.Compression, node))

const baselineN = (n: number) => (): void => {
  for (let i = 0; i < n; i++) {
    const text = JSON.stringify(value)
    const b64 = deflateSync(text).toString("base64")
    const back = JSON.parse(inflateSync(Buffer.from(b64, "base64")).toString("utf8")) as typeof value
    if (back.rows !== 1042) throw new Error("unreachable: wrong value")
  }
}
const baseline = baselineN(N)

const utf8 = new TextEncoder()
const floor = (): void => {
  for (let i = 0; i < N; i++) {
    const b64 = deflateSync(utf8.encode(FastJson.dumpsPython(value)!)).toString("base64")
    let lines = ""
    for (let j = 0; j < b64.length; j += 76) lines += b64.slice(j, j + 76) + "\n"
    const back = FastJson.parse(inflateSync(Buffer.from(lines, "base64")).toString("utf8"), true) as typeof value
    if (back.rows !== 1042) throw new Error("unreachable: wrong value")
  }
}

const benchmarks: ReadonlyArray<Benchmark> = [{
  name: "serializer.compressed",
  goal:
    "ratio ≤ 1.5 (compressedJson zlib dumps+loads of a small dict under NodeCompression.layer vs node:zlib deflateSync/inflateSync + base64 of the same JSON)",
  run: async () => {
    const timing = await compare({ subject, baseline, rounds: 7, warmup: 2 })
    const floorTiming = await compare({ subject: floor, baseline, rounds: 5, warmup: 1 })
    const web = await compare({
      subject: () => Effect.runPromise(loop(WEB_N)),
      baseline: baselineN(WEB_N),
      rounds: 3,
      warmup: 1
    })
    return {
      ratio: timing.ratio,
      pass: timing.ratio <= 1.5,
      iterations: N,
      subjectMs: timing.subjectMs,
      baselineMs: timing.baselineMs,
      perRoundTripUs: round((timing.subjectMs * 1000) / N),
      baselinePerRoundTripUs: round((timing.baselineMs * 1000) / N),
      floorRatio: round(floorTiming.ratio),
      webRatio: round(web.ratio)
    }
  }
}]

export default benchmarks
