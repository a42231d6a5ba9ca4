/**
 * `result.store.memory`: write then read 100,000 records through
 * `ResultStore.layerMemory` against its floor: a loop that builds each
 * record's exact text (Prefect's envelope, Python's `json.dumps` text of the
 * value) by the store's own fastest path and does the same set+get on
 * `KeyValueStore.layerMemory` — the work any store writing Prefect's exact
 * records must do. Goal: time ratio ≤ 1.3. Also printed: `rawRatio`, the store
 * against set+get of the finished strings (no record work at all), and
 * `floorRatio`, the floor against that.
 *
 * `result.storage-key`: drawing 100,000 storage keys (`randomStorageKey`,
 * cryptographically secure) against `crypto.randomUUID()` in the same Effect
 * loop; goal: ratio ≤ 1.
 *
 * `result.retry-latency`: a record becomes readable `d` ms after
 * `getStateResult` starts (real clock), d ∈ {0, 20, 100, 400}; the latency of
 * the default retry schedule must stay within `d + max(10 ms, 25% of d)` for
 * every d (`ratio` = the worst latency / allowance, pass if ≤ 1). Prefect's
 * schedule (250 ms fixed) is printed alongside for comparison.
 *
 * `result.store.memory` also prints `floorRatio`: the same baseline against a
 * loop that only builds each record's exact text and stores it — what the
 * record format alone costs, before any store code runs.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import type * as Schedule from "effect/Schedule"
import * as RecordText from "../src/internal/recordText.ts"
import * as ResultRecord from "../src/ResultRecord.ts"
import * as ResultStore from "../src/ResultStore.ts"
import * as Serializer from "../src/Serializer.ts"
import * as State from "../src/State.ts"
import * as StateResult from "../src/StateResult.ts"
import { type Benchmark, compare, median, round } from "../../../scripts/benchmark.ts"

const N = 100_000

const keys = Array.from({ length: N }, (_, i) => `result-${i}`)
const values = Array.from({ length: N }, (_, i) => ({ index: i, name: `record ${i}`, ok: i % 2 === 0 }))

/** The exact strings the store writes, so the baseline stores the same bytes. */
const serialized: ReadonlyArray<string> = Effect.runSync(
  Effect.forEach(keys, (key, i) =>
    Effect.map(
      ResultRecord.serialize(
        ResultRecord.make({
          metadata: ResultRecord.makeMetadata({ storageKey: key, serializer: Serializer.json }),
          result: values[i]
        })
      ),
      (bytes) => new TextDecoder().decode(bytes)
    ))
)

const subject = (): void => {
  const program = Effect.gen(function*() {
    const store = yield* ResultStore.ResultStore
    for (let i = 0; i < N; i++) {
      yield* store.write(values[i], { key: keys[i] })
      const record = yield* store.read(keys[i]!)
      if (record.result !== values[i]) return yield* Effect.die("unreachable: wrong record")
    }
  })
  Effect.runSync(Effect.provide(program, ResultStore.layerMemory))
}

const baseline = (): void => {
  const program = Effect.gen(function*() {
    const kv = yield* KeyValueStore.KeyValueStore
    for (let i = 0; i < N; i++) {
      yield* kv.set(keys[i]!, serialized[i]!)
      const text = yield* kv.get(keys[i]!)
      if (text === undefined) return yield* Effect.die("unreachable: missing")
    }
  })
  Effect.runSync(Effect.provide(program, KeyValueStore.layerMemory))
}

/**
 * The least any store writing Prefect's exact records must do: the
 * baseline's set+get, storing each record's exact text built in the loop
 * (`ResultRecord` envelope, Python's `json.dumps` text of the value) by the
 * store's own fastest path, and nothing else (no store, no cache). Printed as
 * `floorRatio`: what the record format alone costs against the baseline.
 */
const floor = (): void => {
  const program = Effect.gen(function*() {
    const kv = yield* KeyValueStore.KeyValueStore
    const write = RecordText.makeWriter()
    for (let i = 0; i < N; i++) {
      const record = ResultRecord.make({
        metadata: ResultRecord.makeMetadata({ storageKey: keys[i]!, serializer: Serializer.json }),
        result: values[i]
      })
      yield* kv.set(keys[i]!, write(record) as string)
      const read = yield* kv.get(keys[i]!)
      if (read === undefined) return yield* Effect.die("unreachable: missing")
    }
  })
  Effect.runSync(Effect.provide(program, KeyValueStore.layerMemory))
}

/** Milliseconds until `getStateResult` returns a record that lands `d` ms after it starts. */
const latency = async (d: number, schedule: Schedule.Schedule<unknown, StateResult.ReadError>): Promise<number> => {
  const map = new Map<string, Uint8Array>()
  const kv = KeyValueStore.make({
    get: (key) => Effect.sync(() => (map.has(key) ? new TextDecoder().decode(map.get(key)) : undefined)),
    getUint8Array: (key) => Effect.sync(() => map.get(key)),
    set: (key, value) =>
      Effect.sync(() => void map.set(key, typeof value === "string" ? new TextEncoder().encode(value) : value)),
    remove: (key) => Effect.sync(() => void map.delete(key)),
    clear: Effect.sync(() => map.clear()),
    size: Effect.sync(() => map.size),
    keys: Effect.sync(() => Array.from(map.keys()))
  })
  const layer = ResultStore.layer({ cache: false }).pipe(Layer.provide(Layer.succeed(KeyValueStore.KeyValueStore, kv)))
  const metadata = ResultRecord.makeMetadata({ storageKey: "late", serializer: Serializer.json })
  const bytes = Effect.runSync(ResultRecord.serialize(ResultRecord.make({ metadata, result: "landed" })))
  const state = State.Completed({ data: metadata })
  const start = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  if (d === 0) map.set("late", bytes)
  else timer = setTimeout(() => map.set("late", bytes), d)
  const result = await Effect.runPromise(
    Effect.provide(StateResult.getStateResult(state, { retrySchedule: schedule }), layer)
  )
  const elapsed = performance.now() - start
  if (timer !== undefined) clearTimeout(timer)
  if (result !== "landed") throw new Error("unreachable: wrong result")
  return elapsed
}

const benchmarks: ReadonlyArray<Benchmark> = [
  {
    name: "result.store.memory",
    goal: "write+read of 100,000 records through layerMemory ≤ 1.3× the floor (exact record text + the same set+get)",
    run: async () => {
      const timing = await compare({ subject, baseline: floor, rounds: 5, warmup: 1 })
      const raw = await compare({ subject, baseline, rounds: 5, warmup: 1 })
      const floorTiming = await compare({ subject: floor, baseline, rounds: 5, warmup: 1 })
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= 1.3,
        records: N,
        storeMs: timing.subjectMs,
        floorMs: timing.baselineMs,
        perRecordUs: round((timing.subjectMs * 1000) / N),
        rawRatio: round(raw.ratio),
        floorRatio: round(floorTiming.ratio)
      }
    }
  },
  {
    name: "result.storage-key",
    goal: "drawing 100,000 storage keys (secure) ≤ 1× crypto.randomUUID() in the same Effect loop",
    run: async () => {
      const draw = (key: Effect.Effect<string>) => () => {
        const program = Effect.gen(function*() {
          let length = 0
          for (let i = 0; i < N; i++) length += (yield* key).length
          return length
        })
        if (Effect.runSync(program) === 0) throw new Error("unreachable: no keys")
      }
      const timing = await compare({
        subject: draw(ResultStore.randomStorageKey),
        baseline: draw(Effect.sync(() => crypto.randomUUID())),
        rounds: 7,
        warmup: 2
      })
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= 1,
        keys: N,
        storageKeyMs: timing.subjectMs,
        randomUUIDMs: timing.baselineMs
      }
    }
  },
  {
    name: "result.retry-latency",
    goal: "default schedule latency ≤ d + max(10 ms, 25% of d) for d ∈ {0, 20, 100, 400}",
    run: async () => {
      const rounds = 5
      // warm up the code paths once
      await latency(0, StateResult.defaultRetrySchedule)
      await latency(10, StateResult.defaultRetrySchedule)
      const perDelay: Record<string, unknown> = {}
      let worst = 0
      for (const d of [0, 20, 100, 400]) {
        const fast: Array<number> = []
        const prefect: Array<number> = []
        for (let i = 0; i < rounds; i++) {
          fast.push(await latency(d, StateResult.defaultRetrySchedule))
          prefect.push(await latency(d, StateResult.prefectRetrySchedule))
        }
        const allowance = d + Math.max(10, 0.25 * d)
        const defaultMs = median(fast)
        worst = Math.max(worst, defaultMs / allowance)
        perDelay[`d${d}`] = {
          defaultMs: round(defaultMs),
          prefectMs: round(median(prefect)),
          allowanceMs: allowance
        }
      }
      return { ratio: round(worst), pass: worst <= 1, ...perDelay }
    }
  }
]

export default benchmarks
