/**
 * The cluster under failure, on this machine: PostgreSQL and two runner
 * processes on loopback ports. A flow of 50 tasks (some slow, some failing
 * once and retried) is started; the runner executing it is SIGKILLed
 * mid-flow. The flow must complete on the survivor, with no completed task
 * run again, every task's history a sequence Prefect's task policy accepts
 * with exactly one final state, and the same final state and results as an
 * undisturbed run.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, type Layer, ManagedRuntime } from "effect"
import { Orchestration, RunLog, State, StateResult } from "@runstate/core"
import { ClusterLayer } from "@runstate/cluster"
import { Ingest } from "../../examples/src/cluster/flows.ts"
import { type PostgresServer, startPostgres } from "../../node/test/servers.ts"
import { type Runner, startRunner, until, withRunnerTails } from "./cluster.ts"

const parameters = { n: 50, slowEvery: 5, failEvery: 7, millis: 40 }

/** Checks one task run's history against Prefect's task policy; returns its final states. */
const checkHistory = (history: ReadonlyArray<RunLog.Transition>, flowRunId: string): Array<State.State<unknown>> => {
  let run = Orchestration.makeTaskRun({
    id: history[0]!.runId,
    flowRunId,
    retries: 2,
    retryDelay: 0.05
  })
  let current: State.State<unknown> | undefined
  for (const { to } of history) {
    const outcome = Orchestration.taskPolicy(current, to, {
      now: to.timestamp,
      run,
      flowRun: { id: flowRunId, state: State.Running(), runCount: 1 }
    })
    expect(outcome.status, `${current?.name} → ${to.name} (${"reason" in outcome ? outcome.reason : ""})`).toBe(
      "ACCEPT"
    )
    run = (outcome as Orchestration.Accept<Orchestration.TaskRun>).run
    current = to
  }
  return history.map((t) => t.to).filter(State.isFinal)
}

describe("a flow on a two-runner cluster", () => {
  let pg: PostgresServer
  const runners: Array<Runner> = []
  let client: ManagedRuntime.ManagedRuntime<Layer.Success<ReturnType<typeof ClusterLayer.layerClient>>, unknown>

  beforeAll(async () => {
    pg = await startPostgres()
    runners.push(await startRunner(pg.url), await startRunner(pg.url))
    client = ManagedRuntime.make(ClusterLayer.layerClient({ url: pg.url }))
  }, 90_000)

  afterAll(async () => {
    await client?.dispose()
    for (const r of runners) r.kill("SIGKILL")
    await pg?.dispose()
  }, 60_000)

  it(
    "survives a SIGKILLed runner: completes on the other, runs no completed task again, same states and results",
    () =>
      withRunnerTails(runners, async () => {
        const flowRunId = await client.runPromise(Ingest.start(parameters, { key: "disturbed" }))
        // Kill the runner executing the flow once 14 task bodies are done: a
        // body prints "done" before its run records COMPLETED, and up to 4 run
        // at once, so at least 10 task runs have then reached their final state.
        await until(
          () =>
            new Set(runners.flatMap((r) => r.events.filter((e) => e.event === "done").map((e) => e.key))).size >= 14,
          60_000,
          "14 tasks"
        )
        // The runner executing the flow now: the one with the latest task event
        // (a runner joining moves shards, so the flow may have started on the other).
        const lastAt = (r: Runner) => r.events.at(-1)?.at ?? -1
        const victim = runners.reduce((a, b) => (lastAt(b) > lastAt(a) ? b : a))
        const survivor = runners.find((r) => r !== victim)!
        const killedAt = Date.now()
        victim.kill("SIGKILL")
        await victim.exited

        const final = await client.runPromise(
          Ingest.await(flowRunId, { timeout: "120 seconds", interval: "100 millis" })
        )
        expect(State.format(final)).toBe("Completed('All states completed.')")
        expect(survivor.events.some((e) => e.event === "done")).toBe(true)

        const { histories, results } = await client.runPromise(Effect.gen(function*() {
          const log = yield* RunLog.RunLog
          const tasks = yield* log.runs({ kind: "task", flowRunId })
          const histories = yield* Effect.forEach(tasks, (t) => log.history(t.runId))
          const results = yield* Effect.forEach(tasks, (t) => StateResult.getStateResult(t.state))
          return { histories, results: tasks.map((t, i) => [t.name, results[i]] as const) }
        }))
        expect(histories).toHaveLength(50)
        // Every history: accepted by Prefect's task policy, exactly one final state.
        for (const history of histories) {
          const finals = checkHistory(history, flowRunId)
          expect(finals.map((s) => s.type)).toEqual(["COMPLETED"])
        }
        // No task that had completed when the runner died ran again.
        const finishedBeforeKill = new Set(
          histories
            .filter((h) => h.at(-1)!.to.timestamp.epochMilliseconds < killedAt - 50)
            .map((h) => h[0]!.name)
        )
        expect(finishedBeforeKill.size).toBeGreaterThanOrEqual(10)
        const rerun = survivor.events.filter((e) =>
          e.event === "start" && e.at >= killedAt && finishedBeforeKill.has(`ingest-${e.key}`)
        )
        expect(rerun).toEqual([])

        // An undisturbed run of the same flow gives the same final state and results.
        const undisturbed = await client.runPromise(Ingest.run(parameters, { key: "undisturbed" }))
        expect(State.format(undisturbed)).toBe(State.format(final))
        const expected = await client.runPromise(Effect.gen(function*() {
          const log = yield* RunLog.RunLog
          const tasks = yield* log.runs({ kind: "task", flowRunId: undisturbed.stateDetails.flowRunId! })
          const values = yield* Effect.forEach(tasks, (t) => StateResult.getStateResult(t.state))
          return tasks.map((t, i) => [t.name, values[i]] as const)
        }))
        const byName = (rows: ReadonlyArray<readonly [string, unknown]>) =>
          [...rows].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
        expect(byName(results)).toEqual(byName(expected))
      }),
    240_000
  )

  it(
    "survives a PostgreSQL restart mid-flow: completes with every history valid and the same results",
    () =>
      withRunnerTails(runners, async () => {
        // A second runner again, in place of the one the previous test killed.
        runners.push(await startRunner(pg.url))
        const live = runners.filter((r) => !r.hasExited())
        const before = live.map((r) => r.events.length)
        const flowRunId = await client.runPromise(Ingest.start(parameters, { key: "postgres-restart" }))
        await until(
          () =>
            live.reduce((n, r, i) => n + r.events.slice(before[i]).filter((e) => e.event === "done").length, 0) >= 10,
          60_000,
          "10 tasks"
        )
        await pg.stop()
        await new Promise((r) => setTimeout(r, 3_000))
        await pg.start()

        const final = await client.runPromise(
          Ingest.await(flowRunId, { timeout: "150 seconds", interval: "200 millis" })
        )
        expect(State.format(final)).toBe("Completed('All states completed.')")
        const results = await client.runPromise(Effect.gen(function*() {
          const log = yield* RunLog.RunLog
          const tasks = yield* log.runs({ kind: "task", flowRunId })
          for (const t of tasks) {
            const finals = checkHistory(yield* log.history(t.runId), flowRunId)
            expect(finals.map((s) => s.type), t.name).toEqual(["COMPLETED"])
          }
          const values = yield* Effect.forEach(tasks, (t) => StateResult.getStateResult(t.state))
          return tasks.map((t, i) => [t.name, values[i]] as const)
        }))
        expect(results).toHaveLength(50)
        for (const [name, value] of results) {
          const i = Number(name.slice("ingest-".length))
          expect(value).toEqual({ item: i, square: i * i })
        }
      }),
    240_000
  )
})
