/**
 * Storage layers against the plain client doing the same I/O, same process run:
 *
 * - `store.file`: write then read 10,000 records through
 *   `NodeResultStore.layerFileSystem` (serialize, atomic temp file + fsync +
 *   rename, read, deserialize; concurrency 16) vs plain `node:fs` doing the
 *   same syscalls on the same bytes (temp file, write, fsync, rename; then
 *   `readFile`), same concurrency. Goal: ratio ≤ 1.4.
 * - `store.redis`: the same through `NodeRedisResultStore.layerRedis` vs the
 *   `redis` client's `SET`/`GET` of the same bytes, same concurrency, against
 *   a `redis-server` this benchmark starts. Goal: ratio ≤ 1.25.
 *
 * The subject reads through a store with the cache off, so every read goes to
 * storage. The baseline's bytes are the ones the subject wrote.
 *
 * `store.redis` also prints `floorRatio`: the baseline's client calls plus
 * each record's exact text per write and reading it back per read (the
 * store's own fastest paths) and nothing else, against the same baseline —
 * what Prefect's exact record format costs before any store code runs.
 */
import { Effect, Layer, ManagedRuntime } from "effect"
import { createClient } from "redis"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { ResultRecord, type ResultStore, Serializer } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"
import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
import { type Benchmark, compare, round } from "../../../scripts/benchmark.ts"
import * as RecordText from "../../core/src/internal/recordText.ts"
import { startRedis } from "../test/servers.ts"

const utf8 = new TextEncoder()
const N = 10_000
const CONCURRENCY = 16

const valueAt = (i: number) => ({ i, name: `record ${i}`, tags: ["a", "b", "c"], score: i / 7 })
const keyAt = (i: number) => `bench-${i}`

/** Runs `f` over 0..n-1 with `concurrency` workers. */
const pool = async (n: number, concurrency: number, f: (i: number) => Promise<unknown>): Promise<void> => {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await f(next++)
  }))
}

/** Write all, then read all (checked), through a store and its uncached twin. */
const roundTrip = (store: ResultStore.ResultStoreShape, cold: ResultStore.ResultStoreShape) =>
  Effect.gen(function*() {
    const ids = Array.from({ length: N }, (_, i) => i)
    yield* Effect.forEach(ids, (i) => store.write(valueAt(i), { key: keyAt(i) }), {
      concurrency: CONCURRENCY,
      discard: true
    })
    yield* Effect.forEach(ids, (i) =>
      Effect.flatMap(cold.read(keyAt(i)), (record) =>
        (record.result as { i: number }).i === i ? Effect.void : Effect.die(new Error(`wrong record at ${i}`))), {
      concurrency: CONCURRENCY,
      discard: true
    })
  })

const fileBench: Benchmark = {
  name: "store.file",
  goal: "ratio ≤ 1.4 (layerFileSystem write+read of 10,000 records vs plain fs temp file + fsync + rename, readFile)",
  run: async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "runstate-bench-file-"))
    try {
      const subjectDir = path.join(root, "subject")
      const baselineDir = path.join(root, "baseline")
      await fs.mkdir(baselineDir, { recursive: true })
      const runtime = ManagedRuntime.make(Layer.empty)
      const [store, cold] = await runtime.runPromise(
        Effect.all([
          NodeResultStore.makeFileSystem(subjectDir),
          NodeResultStore.makeFileSystem(subjectDir, { cache: false })
        ])
      )
      // The bytes the subject writes, for the baseline.
      await runtime.runPromise(roundTrip(store, cold))
      const bytes = await Promise.all(
        Array.from({ length: N }, (_, i) => fs.readFile(path.join(subjectDir, keyAt(i))))
      )
      let counter = 0
      const baseline = async () => {
        await pool(N, CONCURRENCY, async (i) => {
          const file = path.join(baselineDir, keyAt(i))
          const temporary = path.join(baselineDir, `.${counter++}.tmp`)
          const handle = await fs.open(temporary, "wx")
          try {
            await handle.writeFile(bytes[i]!)
            await handle.sync()
          } finally {
            await handle.close()
          }
          await fs.rename(temporary, file)
        })
        await pool(N, CONCURRENCY, async (i) => {
          const read = await fs.readFile(path.join(baselineDir, keyAt(i)))
          if (read.length !== bytes[i]!.length) throw new Error("wrong bytes")
        })
      }
      const timing = await compare({
        subject: () => runtime.runPromise(roundTrip(store, cold)),
        baseline,
        rounds: 5,
        warmup: 1
      })
      await runtime.dispose()
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= 1.4,
        records: N,
        concurrency: CONCURRENCY,
        subjectMs: timing.subjectMs,
        baselineMs: timing.baselineMs
      }
    } finally {
      await fs.rm(root, { recursive: true, force: true })
    }
  }
}

const redisBench: Benchmark = {
  name: "store.redis",
  goal: "ratio ≤ 1.25 (layerRedis write+read of 10,000 records vs redis client SET/GET of the same bytes)",
  run: async () => {
    const server = await startRedis()
    try {
      const runtime = ManagedRuntime.make(NodeRedisResultStore.layerRedisClient({ url: server.url }))
      const [store, cold] = await runtime.runPromise(
        Effect.all([
          NodeRedisResultStore.makeRedis({ prefix: "bench:", locks: false }),
          NodeRedisResultStore.makeRedis({ prefix: "bench:", locks: false, cache: false })
        ])
      )
      await runtime.runPromise(roundTrip(store, cold))
      // The client settings `layerRedisClient` gives the subject, so both sides pay the same per command
      // (node-redis 6 arms a 5 s command timeout — an `AbortSignal.timeout` — by default anyway).
      const client = createClient({
        url: server.url,
        disableOfflineQueue: true,
        commandOptions: { timeout: 5_000 },
        socket: { connectTimeout: 5_000 }
      })
      await client.connect()
      const bytes = await Promise.all(Array.from({ length: N }, (_, i) => client.get(`bench:${keyAt(i)}`)))
      const baseline = async () => {
        await pool(N, CONCURRENCY, (i) => client.set(`base:${keyAt(i)}`, bytes[i]!))
        await pool(N, CONCURRENCY, async (i) => {
          const read = await client.get(`base:${keyAt(i)}`)
          if (read?.length !== bytes[i]!.length) throw new Error("wrong bytes")
        })
      }
      // The least any store writing Prefect's exact records must add: the baseline plus the record's
      // text per write and reading it back per read, by the fastest exact paths the store itself uses
      // (text, no UTF-8 round trip; metadata text seen before not parsed again), nothing else.
      const floor = async () => {
        const write = RecordText.makeWriter()
        const memo = RecordText.makeReadMemo(64)
        await pool(N, CONCURRENCY, (i) => {
          const record = ResultRecord.make({
            metadata: ResultRecord.makeMetadata({ storageKey: keyAt(i), serializer: Serializer.json }),
            result: valueAt(i)
          })
          return client.set(`floor:${keyAt(i)}`, write(record) as string)
        })
        await pool(N, CONCURRENCY, async (i) => {
          const text = (await client.get(`floor:${keyAt(i)}`))!
          const split = memo.split(text)
          let value: unknown
          if (split !== undefined) {
            value = Serializer.json.text!.loads!(JSON.parse(text.slice(split.resultStart, -1)) as string)
          } else {
            const record = Effect.runSync(ResultRecord.deserialize(utf8.encode(text)))
            memo.learn(text, record.metadata)
            value = record.result
          }
          if ((value as { i: number }).i !== i) throw new Error("wrong record")
        })
      }
      const timing = await compare({
        subject: () => runtime.runPromise(roundTrip(store, cold)),
        baseline,
        rounds: 7,
        warmup: 2
      })
      const floorTiming = await compare({ subject: floor, baseline, rounds: 7, warmup: 2 })
      await client.close()
      await runtime.dispose()
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= 1.25,
        records: N,
        concurrency: CONCURRENCY,
        subjectMs: timing.subjectMs,
        baselineMs: timing.baselineMs,
        floorRatio: round(floorTiming.ratio)
      }
    } finally {
      await server.dispose()
    }
  }
}

const benchmarks: ReadonlyArray<Benchmark> = [fileBench, redisBench]

export default benchmarks
