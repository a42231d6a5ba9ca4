import { assert, describe, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { postgresServer, redisServer } from "../../node/test/servers.ts"

/**
 * The docs cannot rot: every ```ts block of a docs page (and of the root
 * README.md) is preceded by `<!-- example: src/docs/NAME.ts -->` and equals
 * that file of packages/examples (which `pnpm check` type-checks), and every
 * example file is used by a page and exports `program`, an Effect that this
 * test runs and that must succeed with the value `expected` below records.
 * An example that needs a server (listed in `servers`) exports `run(url)`
 * instead: the test starts a real server and runs `run` with its URL.
 */
const root = resolve(import.meta.dirname, "../../..")
const examples = resolve(import.meta.dirname, "..")
const docsDir = join(root, "docs")

/** Examples that run against a real server: the server this test starts for them, as its URL. */
const servers: Record<string, Effect.Effect<string, never, Scope.Scope>> = {
  "src/docs/storage-3.ts": Effect.map(redisServer, (server) => server.url),
  "src/docs/storage-4.ts": Effect.map(postgresServer, (server) => server.url),
  "src/docs/cluster-2.ts": Effect.map(postgresServer, (server) => server.url)
}

/** What each example's program must produce (compared as JSON: what the comments in the examples promise). */
const expected: Record<string, unknown> = {
  "src/docs/aggregation-1.ts": ["FAILED 2/3 states failed.", "CANCELLED 1/2 states cancelled."],
  "src/docs/aggregation-laws-1.ts": {
    aggregate: { type: "CANCELLED", message: "1/4 states cancelled." },
    counts: "total=4, not_final=1, 'COMPLETED'=1, 'FAILED'=1, 'RUNNING'=1, 'CANCELLED'=1",
    final: { type: "CANCELLED", message: "1/4 states cancelled.", data: true }
  },
  "src/docs/aggregation-laws-2.ts": { failed: false, runs: 200 },
  "src/docs/aggregation-2.ts": {
    "counts": "total=4, not_final=2, 'FAILED'=1, 'RUNNING'=2, 'CRASHED'=1",
    "plain": "COMPLETED",
    "nested": "FAILED"
  },
  "src/docs/cluster-1.ts": "Completed('All states completed.')",
  "src/docs/cluster-2.ts": {
    final: "Completed('All states completed.')",
    tasks: ["fetch-day-0: Completed", "fetch-day-1: Completed", "fetch-day-2: Completed"]
  },
  "src/docs/getting-started-1.ts": "Cancelled('1/4 states cancelled.')",
  "src/docs/getting-started-2.ts": "Cancelled('1/4 states cancelled.')",
  "src/docs/getting-started-3.ts": { "rows": 42 },
  "src/docs/module-Aggregate.ts": ["Completed()", "Cancelled('skipped')"],
  "src/docs/module-Cli.ts": "AwaitingRetry(type=SCHEDULED)",
  "src/docs/module-Compression.ts": {
    back: { rows: 42 },
    lzma: "Compression library 'lzma' is not available in this environment, so serialization cannot be performed.",
    bounded: "Decompressed data ('zlib') exceeds the limit of 4 bytes (maxDecompressedBytes)"
  },
  "src/docs/module-NodeCompression.ts": {
    text:
      "/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQA4eyJhIjogWzEsIDIsIDNdLCAiYiI6IG51bGwsICJz\nIjogIlRoZSByZXN1bHRzIGFyZSBpbi4uLiJ9AAAAAIHK9y6kbl/TAAFROTZRI9wftvN9AQAAAAAE\nWVo=\n",
    result: { rows: 42 }
  },
  "src/docs/module-Flow.ts": "Completed('All states completed.')",
  "src/docs/module-Failure.ts": ["While fetching: Upstream: 503", "Execution was aborted by an interrupt signal."],
  "src/docs/module-NodeResultStore.ts": true,
  "src/docs/module-NodeSignals.ts": ["COMPLETED", 143],
  "src/docs/module-Orchestration.ts": {
    failed: ["REJECT", "Retrying", "AwaitingRetry"],
    final: "ACCEPT",
    crashed: ["ABORT", "Run is already COMPLETED."]
  },
  "src/docs/module-RunLog.ts": {
    history: ["- → Pending", "Pending → Running", "Running → Completed"],
    last: { rows: 42 },
    transitions: 3
  },
  "src/docs/module-RunLog-events.ts": {
    event: "prefect.task-run.Failed",
    resource: "prefect.task-run.0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70",
    intended: { from: "RUNNING", to: "FAILED" },
    related: [{ "prefect.resource.id": "prefect.tag.etl", "prefect.resource.role": "tag" }]
  },
  "src/docs/module-ResultRecord.ts": {
    starts: "{\"metadata\":{\"storage_key\":\"/root/.prefect/storage/the-key\",",
    result: "The results are in...",
    raw: { rows: 42 }
  },
  "src/docs/module-ResultStore.ts": { "result": { "rows": 42 }, "key": "daily-report", "serializer": "json" },
  "src/docs/module-Run.ts": { rows: 42, failed: "Upstream: 503", failedUnderKey: false },
  "src/docs/module-RunError.ts": "Run is paused, its result is not available.",
  "src/docs/module-Serializer.ts": {
    "recordedAs": "json",
    "invalid": "SerializationError",
    "pickle": "Serializer 'pickle' is not available in this environment, so deserialization cannot be performed."
  },
  "src/docs/module-State.ts": {
    "format": "Completed('ok')",
    "inspect": "Completed(message=None, type=COMPLETED, result=None)",
    "generic": "Exploded(type=FAILED)",
    "before": null,
    "after": "ok"
  },
  "src/docs/module-StateDetails.ts": { "flowRunId": "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70", "taskRunId": null },
  "src/docs/module-StateGroup.ts": {
    "failCount": 1,
    "allFinal": false,
    "aggregate": { "type": "PAUSED", "message": "1/3 states paused." }
  },
  "src/docs/module-StateResult.ts": ["bad input", "UnfinishedRun"],
  "src/docs/module-Task.ts": ["Completed", 42, "InvalidTaskOptions"],
  "src/docs/module-StateType.ts": {
    "all": ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED", "CANCELLING"],
    "terminal": ["COMPLETED", "FAILED", "CANCELLED", "CRASHED"]
  },
  "src/docs/module-Wire.ts": {
    "format": "WaitingForApproval(type=SCHEDULED)",
    "keys": ["id", "type", "name", "timestamp", "message", "data", "state_details"]
  },
  "src/docs/prefect-interop-1.ts": {
    "state": "Completed()",
    "flowRunId": "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70",
    "proposal": "RUNNING"
  },
  "src/docs/prefect-interop-2.ts": "The results are in...",
  "src/docs/readme-1.ts": "Failed('1/3 states failed.')",
  "src/docs/results-1.ts": 42,
  "src/docs/results-2.ts": { "error": "Error: disk full", "same": true },
  "src/docs/results-3.ts": { "a": true, "b": false, "c": false },
  "src/docs/timeline-1.ts": { rows: 1, segments: 6 },
  "src/docs/results-4.ts": { "rows": 42, "at": "2026-01-02T03:04:05.000Z" },
  "src/docs/results-5.ts": { "distinct": true, "repeatable": true },
  "src/docs/states-1.ts": ["Completed()", "AwaitingRetry(type=SCHEDULED)", "Late('behind', type=SCHEDULED)"],
  "src/docs/states-2.ts": ["FAILED", "FAILED", "CRASHED"],
  "src/docs/states-3.ts": { "scheduled": true, "final": false, "crashedIsFinal": true, "pausedIsFinal": false },
  "src/docs/states-4.ts": "CRASHED: Execution was cancelled by the runtime environment.",
  "src/docs/storage-1.ts": { rows: 42 },
  "src/docs/storage-2.ts": { result: { rows: 42 }, file: true },
  "src/docs/storage-3.ts": { rows: 42 },
  "src/docs/storage-4.ts": { rows: 42 },
  "src/docs/storage-5.ts": { errors: ["StorageError", "StorageError", "StorageError"], result: { rows: 42 } },
  "src/docs/tasks-and-flows-1.ts": {
    final: "Completed()",
    price: 4.5,
    history: ["Pending", "Running", "Retrying", "Retrying", "Completed"]
  },
  "src/docs/tasks-and-flows-2.ts": { names: ["Completed", "Cached", "Completed"], runs: 2 },
  "src/docs/tasks-and-flows-3.ts": "Failed('1/3 states failed.')",
  "src/docs/tasks-and-flows-4.ts": {
    isUpstream: true,
    status: 503,
    message: "Task run encountered an exception Upstream: try later"
  }
}

const pages = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === "api" ? [] : pages(join(dir, e.name))
      : e.name.endsWith(".md")
      ? [join(dir, e.name)]
      : []
  )

interface Block {
  readonly page: string
  readonly line: number
  readonly example: string | undefined
  readonly code: string
}

const blocks = (page: string): Array<Block> => {
  const lines = readFileSync(page, "utf8").split("\n")
  const found: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue
    let j = i - 1
    while (j >= 0 && lines[j]!.trim() === "") j--
    const marker = /^<!-- example: (\S+) -->$/.exec(lines[j]?.trim() ?? "")
    let end = i + 1
    while (end < lines.length && lines[end] !== "```") end++
    found.push({
      page: relative(root, page),
      line: i + 1,
      example: marker?.[1],
      code: lines.slice(i + 1, end).join("\n")
    })
    i = end
  }
  return found
}

const checked = [...pages(docsDir), join(root, "README.md")].flatMap(blocks)
const exampleFiles = readdirSync(join(examples, "src", "docs")).filter((f) => f.endsWith(".ts")).map((f) =>
  `src/docs/${f}`
)

describe("docs", () => {
  it("has pages with code blocks", () => {
    assert.isAbove(checked.length, 20)
  })

  it("every ts block names its example file and equals it", () => {
    const problems: Array<string> = []
    for (const block of checked) {
      if (block.example === undefined) {
        problems.push(`${block.page}:${block.line}: no <!-- example: … --> marker`)
        continue
      }
      let source: string
      try {
        source = readFileSync(join(examples, block.example), "utf8")
      } catch {
        problems.push(`${block.page}:${block.line}: ${block.example} does not exist`)
        continue
      }
      if (source.trimEnd() !== block.code.trimEnd()) {
        problems.push(`${block.page}:${block.line}: differs from ${block.example} (run: node scripts/docs.ts --sync)`)
      }
    }
    assert.deepStrictEqual(problems, [])
  })

  it("every example file is shown in the docs", () => {
    const used = new Set(checked.map((b) => b.example))
    assert.deepStrictEqual(exampleFiles.filter((f) => !used.has(f) && !f.endsWith("/program.ts")), [])
  })

  for (const file of exampleFiles) {
    it.live(`${file} runs`, () =>
      Effect.gen(function*() {
        const module = yield* Effect.promise(() => import(pathToFileURL(join(examples, file)).href))
        if (file.endsWith("/program.ts") && !("program" in module)) return
        let program: unknown = module.program
        const server = servers[file]
        if (server !== undefined) {
          assert.isFunction(module.run, `${file} exports no run(url)`)
          program = module.run(yield* server)
        }
        assert.isTrue(Effect.isEffect(program), `${file} exports no program`)
        const result = yield* Effect.timeout(program as Effect.Effect<unknown, unknown>, "10 seconds")
        assert.isTrue(file in expected, `${file}: add its expected result to docs.test.ts`)
        assert.deepStrictEqual(JSON.parse(JSON.stringify(result)), expected[file])
      }).pipe(Effect.scoped))
  }
})
