import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { State } from "@runstate/core"
import { parseArgs, renderReport, runDemo } from "../src/demo.ts"
import { parseStore } from "../src/stores.ts"
import * as Cli from "@runstate/node/Cli"

const taskStates = (report: Effect.Success<ReturnType<typeof runDemo>>, task: string) =>
  report.run.timeline.filter((e) => e.task === task).map((e) => `${e.state.name}:${e.state.type}`)

describe("demo pipeline", () => {
  it.live("runs the flow on the file-system store and reads the results back from their metadata", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "runstate-demo-"))
      const report = yield* runDemo({ _tag: "FileSystem", directory: dir })

      // The flow state: Prefect's aggregate rule (any CANCELLED wins).
      assert.strictEqual(report.run.flow.type, "CANCELLED")
      assert.strictEqual(State.format(report.run.flow), "Cancelled('1/8 states cancelled.')")
      assert.strictEqual(report.run.tasks.length, 8)

      // Each task run's history, from the RunLog.
      assert.deepStrictEqual(taskStates(report, "fetch-prices"), [
        "Pending:PENDING",
        "Running:RUNNING",
        "AwaitingRetry:SCHEDULED",
        "Retrying:RUNNING",
        "AwaitingRetry:SCHEDULED",
        "Retrying:RUNNING",
        "Completed:COMPLETED"
      ])
      const retry = report.run.timeline.find((e) => e.task === "fetch-prices" && e.state.name === "AwaitingRetry")!
      assert.strictEqual(
        retry.state.stateDetails.scheduledTime!.epochMilliseconds - retry.state.timestamp.epochMilliseconds,
        20
      )
      assert.include(
        report.logs,
        "INFO  Task run failed with exception: UpstreamUnavailable('price service answered 503 (call 1)') - Retry 1/3 will start 0.02 second(s) from now"
      )
      assert.deepStrictEqual(taskStates(report, "enrich-customers"), [
        "Pending:PENDING",
        "Running:RUNNING",
        "TimedOut:FAILED"
      ])
      assert.deepStrictEqual(taskStates(report, "legacy-export"), [
        "Pending:PENDING",
        "Running:RUNNING",
        "Cancelled:CANCELLED"
      ])
      for (const task of ["extract-orders", "validate-orders", "compute-totals", "write-report", "notify"]) {
        assert.deepStrictEqual(
          taskStates(report, task),
          ["Pending:PENDING", "Running:RUNNING", "Completed:COMPLETED"],
          task
        )
      }
      const finals = report.run.timeline.filter((e) => e.duration !== undefined)
      assert.strictEqual(finals.length, 8)
      for (const { state } of report.run.tasks) {
        assert.strictEqual(state.stateDetails.flowRunId, report.run.flow.stateDetails.flowRunId)
      }

      // Results went to files in Prefect's layout, keyed demo/<task>.
      const totals = report.documents.find((d) => d.name === "compute-totals")!
      assert.strictEqual(totals.storageKey, join(dir, "demo", "compute-totals"))
      assert.isTrue(existsSync(join(dir, "demo", "compute-totals")))
      const envelope = JSON.parse(readFileSync(join(dir, "demo", "compute-totals"), "utf8"))
      assert.strictEqual(envelope.metadata.serializer.type, "json")
      assert.strictEqual(JSON.parse(envelope.result), 23.25)

      // The history went to the store's directory too: `runstate inspect DIR --runs` lists the runs.
      const history = yield* Cli.runs(dir)
      assert.strictEqual(history.runs.length, 9)
      assert.strictEqual(history.runs[0]!.runId, report.run.flow.stateDetails.flowRunId)
      assert.match(history.runs[0]!.name, /^daily-orders-[0-9a-f]{8}$/)
      assert.strictEqual(State.format(history.runs[0]!.state), "Cancelled('1/8 states cancelled.')")
      assert.deepStrictEqual(
        history.runs.slice(1).map((r) => [r.kind, r.name, State.format(r.state)]),
        report.run.tasks.map((t) => ["task", `${t.name}-0`, State.format(t.state)])
      )
      const fetchRun = history.runs.find((r) => r.name === "fetch-prices-0")!
      assert.deepStrictEqual(
        (yield* Cli.runHistory(dir, fetchRun.runId)).transitions.map((t) => `${t.to.name}:${t.to.type}`),
        taskStates(report, "fetch-prices")
      )

      // Read back with a fresh store, from the metadata alone.
      const value = (r: typeof report, name: string) => {
        const entry = r.readBack.find((r) => r.name === name)!
        assert.strictEqual(entry.outcome._tag, "Value", name)
        return entry.outcome._tag === "Value" ? entry.outcome.value : undefined
      }
      assert.strictEqual(value(report, "compute-totals"), 23.25)
      assert.deepStrictEqual(value(report, "fetch-prices"), { tea: 4.5, coffee: 3.25 })
      assert.strictEqual(value(report, "notify"), "sent to #orders")
      assert.strictEqual(report.readBack.find((r) => r.name === "flow")!.state.type, "CANCELLED")

      // The printed report, plain.
      const plain = renderReport(report, { color: false }).join("\n")
      assert.notInclude(plain, "\u001b[")
      assert.include(plain, "flow state: Cancelled('1/8 states cancelled.')")
      assert.match(plain, /enrich-customers\s+Pending\s+PENDING/)
      assert.match(plain, /TimedOut\s+FAILED\s+\d+ms\s+Task run exceeded timeout of 0\.06 second\(s\)/)
      assert.include(plain, "INFO  Finished in state Completed()")
      assert.include(plain, join(dir, "demo", "flow"))
      // ... and coloured.
      assert.include(renderReport(report, { color: true }).join("\n"), "\u001b[32m")

      // A second run on the same store (another process would see the same files): the cached tasks end Cached.
      const second = yield* runDemo({ _tag: "FileSystem", directory: dir })
      for (const task of ["extract-orders", "validate-orders", "fetch-prices", "compute-totals"]) {
        assert.deepStrictEqual(
          taskStates(second, task),
          ["Pending:PENDING", "Running:RUNNING", "Cached:COMPLETED"],
          task
        )
      }
      assert.deepStrictEqual(taskStates(second, "notify"), [
        "Pending:PENDING",
        "Running:RUNNING",
        "Completed:COMPLETED"
      ])
      assert.strictEqual(State.format(second.run.flow), "Cancelled('1/8 states cancelled.')")
      assert.notInclude(second.logs.join("\n"), "Retry 1/3", "the cached task did not run")
      assert.strictEqual(value(second, "compute-totals"), 23.25)
      assert.deepStrictEqual(value(second, "fetch-prices"), { tea: 4.5, coffee: 3.25 })
      assert.match(renderReport(second, { color: false }).join("\n"), /Cached\s+COMPLETED/)
    }))

  it.live("runs unchanged on the memory store", () =>
    Effect.gen(function*() {
      const report = yield* runDemo({ _tag: "Memory" })
      assert.strictEqual(State.format(report.run.flow), "Cancelled('1/8 states cancelled.')")
      const totals = report.readBack.find((r) => r.name === "compute-totals")!
      assert.deepStrictEqual(totals.outcome, { _tag: "Value", value: 23.25 })
    }))

  it("parses --store values", () => {
    assert.deepStrictEqual(parseStore(undefined, "/srv/app"), { _tag: "FileSystem", directory: "/srv/app/.runstate" })
    assert.deepStrictEqual(parseStore("redis://127.0.0.1:6379"), { _tag: "Redis", url: "redis://127.0.0.1:6379" })
    assert.deepStrictEqual(parseStore("postgres://u@h:5432/db"), { _tag: "Postgres", url: "postgres://u@h:5432/db" })
    assert.deepStrictEqual(parseStore("memory"), { _tag: "Memory" })
    assert.deepStrictEqual(parseArgs(["--", "--store", "memory"]), { _tag: "Run", store: "memory" })
    assert.deepStrictEqual(parseArgs(["--store=x"]), { _tag: "Run", store: "x" })
    assert.strictEqual(parseArgs(["--bogus"])._tag, "Error")
  })
})
