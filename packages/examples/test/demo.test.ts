import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { State } from "@runstate/core"
import { parseArgs, renderReport, runDemo } from "../src/demo.ts"
import { parseStore } from "../src/stores.ts"

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

      // The timeline.
      assert.deepStrictEqual(taskStates(report, "fetch-prices"), [
        "Running:RUNNING",
        "AwaitingRetry:SCHEDULED",
        "Retrying:RUNNING",
        "AwaitingRetry:SCHEDULED",
        "Retrying:RUNNING",
        "Completed:COMPLETED"
      ])
      const retry = report.run.timeline.find((e) => e.task === "fetch-prices" && e.state.name === "AwaitingRetry")!
      assert.strictEqual(retry.state.message, "UpstreamUnavailable: price service answered 503 (call 1)")
      assert.isNotNull(retry.state.stateDetails.scheduledTime)
      assert.deepStrictEqual(taskStates(report, "enrich-customers"), ["Running:RUNNING", "TimedOut:FAILED"])
      assert.deepStrictEqual(taskStates(report, "legacy-export"), ["Running:RUNNING", "Cancelled:CANCELLED"])
      for (const task of ["extract-orders", "validate-orders", "compute-totals", "write-report", "notify"]) {
        assert.deepStrictEqual(taskStates(report, task), ["Running:RUNNING", "Completed:COMPLETED"], task)
      }
      const finals = report.run.timeline.filter((e) => e.duration !== undefined)
      assert.strictEqual(finals.length, 8)

      // Results went to files in Prefect's layout, keyed demo/<task>.
      const totals = report.documents.find((d) => d.name === "compute-totals")!
      assert.strictEqual(totals.storageKey, join(dir, "demo", "compute-totals"))
      assert.isTrue(existsSync(join(dir, "demo", "compute-totals")))
      const envelope = JSON.parse(readFileSync(join(dir, "demo", "compute-totals"), "utf8"))
      assert.strictEqual(envelope.metadata.serializer.type, "json")
      assert.strictEqual(JSON.parse(envelope.result), 23.25)

      // Read back with a fresh store, from the metadata alone.
      const value = (name: string) => {
        const entry = report.readBack.find((r) => r.name === name)!
        assert.strictEqual(entry.outcome._tag, "Value", name)
        return entry.outcome._tag === "Value" ? entry.outcome.value : undefined
      }
      assert.strictEqual(value("compute-totals"), 23.25)
      assert.deepStrictEqual(value("fetch-prices"), { tea: 4.5, coffee: 3.25 })
      assert.strictEqual(value("notify"), "sent to #orders")
      assert.strictEqual(report.readBack.find((r) => r.name === "flow")!.state.type, "CANCELLED")

      // The printed report, plain.
      const plain = renderReport(report, { color: false }).join("\n")
      assert.notInclude(plain, "\u001b[")
      assert.include(plain, "flow state: Cancelled('1/8 states cancelled.')")
      assert.match(plain, /enrich-customers\s+Running\s+RUNNING/)
      assert.match(plain, /TimedOut\s+FAILED\s+\d+ms\s+TimeoutError: /)
      assert.include(plain, join(dir, "demo", "flow"))
      // ... and coloured.
      assert.include(renderReport(report, { color: true }).join("\n"), "\u001b[32m")
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
