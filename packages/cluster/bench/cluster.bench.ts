/**
 * `cluster.throughput`: trivial task runs per second through a durable flow
 * (200 tasks, 4 at a time) on a two-runner cluster (PostgreSQL on loopback)
 * against the same flow on the in-process engine, and against
 * `Effect.forEach` of `Task.run` with no engine; the overhead per task of each
 * layer (the workflow engine, PostgreSQL for results, for the history, and the
 * cluster's message storage and runner hops) is printed beside it. Goal: two
 * runners reach ≥ 1.5× the throughput of one on a workload whose tasks each
 * sleep 50 ms (16 flows × 10 tasks, 4 task slots per runner): the work is
 * spread, not serialized. The floor any cluster pays is printed too: one
 * PostgreSQL round trip per task (`SELECT 1`).
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { KeyValueStore } from "effect/persistence"
import { SqlClient } from "effect/sql"
import { Flow, ResultStore, RunLog, State, Task } from "@runstate/core"
import { ClusterLayer } from "@runstate/cluster"
import { Ingest } from "../../examples/src/cluster/flows.ts"
import { startPostgres } from "../../node/test/servers.ts"
import { startRunner } from "../test/cluster.ts"
import { type Benchmark, round } from "../../../scripts/benchmark.ts"

const N = 200
const trivial = { n: N, slowEvery: 1e9, failEvery: 1e9, millis: 0 }
const sleepy = { n: 10, slowEvery: 1e9, failEvery: 1e9, millis: 50 }
/** The same spread with tasks that sleep long enough for the cluster's per-task cost to be small beside them. */
const sleepier = { ...sleepy, millis: 400 }
const FLOWS = 16

const seconds = async (f: () => Promise<unknown>): Promise<number> => {
  const start = performance.now()
  await f()
  return (performance.now() - start) / 1000
}

/** The same program as the `ingest` flow without any engine: `Effect.forEach` of `Task.run`. */
const plainTasks = Effect.gen(function*() {
  const ingest = yield* Task.make(
    { name: "ingest", retries: 2, retryDelaySeconds: 0.05 },
    (i: number) => Effect.succeed({ item: i, square: i * i })
  )
  return yield* Effect.forEach(Array.from({ length: N }, (_, i) => i), (i) => Task.run(ingest, i), { concurrency: 4 })
})

const check = (state: State.State<unknown>) => {
  if (!State.isCompleted(state)) throw new Error(`flow ended ${State.format(state)}`)
}

const benchmarks: ReadonlyArray<Benchmark> = [
  {
    name: "cluster.throughput",
    goal: "two runners ≥ 1.5× the throughput of one (16 flows of 50 ms tasks, 4 slots each); overheads printed",
    run: async () => {
      const pg = await startPostgres()
      const runners: Array<Awaited<ReturnType<typeof startRunner>>> = []
      try {
        const url = pg.url
        const sql = PgClient.layer({ url: Redacted.make(url) })
        const pgResults = ResultStore.layer().pipe(Layer.provide(KeyValueStore.layerSql({ table: "bench_results" })))
        const pgHistory = RunLog.layerKeyValueStore().pipe(
          Layer.provide(KeyValueStore.layerSql({ table: "bench_history" }))
        )
        const inProcess = (storage: Layer.Layer<ResultStore.ResultStore | RunLog.RunLog, unknown>) =>
          ManagedRuntime.make(
            Ingest.layer.pipe(
              Layer.provideMerge(Layer.mergeAll(ClusterLayer.layerInProcess, storage)),
              Layer.provideMerge(sql)
            )
          )
        const timeFlow = async (rt: ManagedRuntime.ManagedRuntime<any, any>, key: string) =>
          seconds(async () =>
            check(await rt.runPromise(Ingest.run(trivial, { key }) as Effect.Effect<State.State<unknown>>))
          )

        // No engine.
        const plain = ManagedRuntime.make(Layer.mergeAll(ResultStore.layerMemory, RunLog.layerMemory))
        await plain.runPromise(plainTasks)
        const forEachS = await seconds(() => plain.runPromise(plainTasks))
        const flowS = await seconds(() =>
          plain.runPromise(Flow.run(plainTasks, { name: "ingest" }) as Effect.Effect<unknown, unknown>)
        )
        await plain.dispose()

        const memory = inProcess(Layer.mergeAll(ResultStore.layerMemory, RunLog.layerMemory))
        await timeFlow(memory, "warm")
        const memoryS = await timeFlow(memory, "memory")
        await memory.dispose()
        const results = inProcess(Layer.mergeAll(pgResults, RunLog.layerMemory).pipe(Layer.provide(sql)))
        const resultsS = await timeFlow(results, "pg-results")
        await results.dispose()
        const history = inProcess(Layer.mergeAll(ResultStore.layerMemory, pgHistory).pipe(Layer.provide(sql)))
        const historyS = await timeFlow(history, "pg-history")
        await history.dispose()
        const both = inProcess(Layer.mergeAll(pgResults, pgHistory).pipe(Layer.provide(sql)))
        const bothS = await timeFlow(both, "pg-both")
        await both.dispose()

        // The floor: one PostgreSQL round trip per task.
        const floorRt = ManagedRuntime.make(sql)
        await floorRt.runPromise(Effect.flatMap(SqlClient.SqlClient, (c) => c`SELECT 1`))
        const floorS = await seconds(() =>
          floorRt.runPromise(
            Effect.flatMap(SqlClient.SqlClient, (c) =>
              Effect.forEach(Array.from({ length: N }), () => c`SELECT 1`, { concurrency: 4 }))
          )
        )
        await floorRt.dispose()

        // The cluster: one runner first, then two.
        runners.push(await startRunner(url, { taskSlots: 4 }))
        const client = ManagedRuntime.make(ClusterLayer.layerClient({ url }))
        const spread = async (round: string, parameters: typeof sleepy = sleepy) =>
          seconds(async () => {
            const states = await client.runPromise(
              Effect.forEach(
                Array.from({ length: FLOWS }, (_, i) => i),
                (i) => Ingest.run(parameters, { key: `${round}-${i}` }),
                { concurrency: "unbounded" }
              )
            )
            states.forEach(check)
          })
        await client.runPromise(Ingest.run(trivial, { key: "cluster-warm" }))
        const oneRunnerS = await spread("one")
        const oneRunnerLongS = await spread("one-long", sleepier)
        runners.push(await startRunner(url, { taskSlots: 4 }))
        // Let the shards rebalance onto the new runner.
        await new Promise((r) => setTimeout(r, 8_000))
        await client.runPromise(Ingest.run(trivial, { key: "cluster-warm-2" }))
        const clusterS = await seconds(async () =>
          check(await client.runPromise(Ingest.run(trivial, { key: "cluster" })))
        )
        const mark = runners.map((r) => r.events.length)
        const twoRunnersS = await spread("two")
        const tasksPerRunner = runners.map((r, i) => r.events.slice(mark[i]).filter((e) => e.event === "done").length)
        const twoRunnersLongS = await spread("two-long", sleepier)
        await client.dispose()

        const perTask = (s: number) => (s * 1e6) / N
        const speedup = oneRunnerS / twoRunnersS
        return {
          ratio: speedup,
          pass: speedup >= 1.5,
          tasksPerSecond: {
            forEach: round(N / forEachS),
            inProcessEngine: round(N / memoryS),
            twoRunnerCluster: round(N / clusterS)
          },
          clusterVsInProcess: round(clusterS / memoryS),
          inProcessVsForEach: round(memoryS / forEachS),
          overheadMicrosPerTask: {
            engine: round(perTask(memoryS - flowS)),
            resultsOnPostgres: round(perTask(resultsS - memoryS)),
            historyOnPostgres: round(perTask(historyS - memoryS)),
            messageStorageAndRunners: round(perTask(clusterS - bothS))
          },
          floorMicrosPerTask: round(perTask(floorS)),
          spreadSeconds: { oneRunner: round(oneRunnerS), twoRunners: round(twoRunnersS) },
          spreadSpeedupWith400msTasks: round(oneRunnerLongS / twoRunnersLongS),
          spreadSecondsWith400msTasks: { oneRunner: round(oneRunnerLongS), twoRunners: round(twoRunnersLongS) },
          spreadTasksPerRunner: tasksPerRunner
        }
      } finally {
        for (const r of runners) r.kill("SIGKILL")
        await pg.dispose()
      }
    }
  }
]

export default benchmarks
