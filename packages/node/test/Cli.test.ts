import { assert, describe, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { DateTime, Effect, Exit, Layer, Logger, Sink, Stdio, Stream } from "effect"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as PgClient from "@effect/sql-pg/PgClient"
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Flow, ResultStore, RunLog, Serializer, Task } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"
import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
import * as Cli from "@runstate/node/Cli"
import { displayWidth } from "../src/internal/cliText.ts"
import { postgresServer, redisServer } from "./servers.ts"

// Hand-written files in Prefect's local storage layout.
const jsonSerializer =
  `{"type":"json","jsonlib":"json","object_encoder":"prefect.serializers.prefect_json_object_encoder","object_decoder":"prefect.serializers.prefect_json_object_decoder","dumps_kwargs":{},"loads_kwargs":{}}`
const envelope = (key: string, expiration: string | null, result: string) =>
  `{"metadata":{"storage_key":"/root/.prefect/storage/${key}","expiration":${
    expiration === null ? "null" : `"${expiration}"`
  },"serializer":${jsonSerializer},"prefect_version":"3.8.4","storage_block_id":null},"result":${
    JSON.stringify(result)
  }}`

const fixtures: Record<string, string> = {
  "the-key": envelope("the-key", null, `"The results are in..."`),
  "dict-key": envelope("dict-key", "2024-01-02T03:04:05.678901Z", `{"a": [1, 2, 3], "b": null}`),
  "future-key": envelope("future-key", "2999-01-01T00:00:00Z", `[1, 2, 3]`),
  "6a1c0b7e5d2f4e8c9b1a3d5f7e9c2b4a":
    `{"metadata":{"storage_key":"/root/.prefect/storage/6a1c0b7e5d2f4e8c9b1a3d5f7e9c2b4a","expiration":null,"serializer":{"type":"pickle","picklelib":"cloudpickle","picklelib_version":null},"prefect_version":"3.8.4","storage_block_id":null},"result":"gAWVCQAAAAAAAACMBWhlbGxvlC4=\\n"}`,
  "flow-result": `"The results are in..."`,
  "old-format":
    `{"serializer":${jsonSerializer},"data":"\\"caf\\\\u00e9\\"","prefect_version":"3.0.0","expiration":null}`,
  "nested/corrupt": `{"metadata":{"storage_key":"/x","serializer":{"type":"json"`,
  "empty": ""
}

const makeStorage = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "runstate-cli-"))
  for (const [name, content] of Object.entries(fixtures)) {
    mkdirSync(join(dir, name, ".."), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
  // A temp file of an interrupted atomic write: skipped.
  writeFileSync(join(dir, ".runstate-tmp.abc.runstate-tmp"), "partial")
  return dir
}

/** Runs the CLI in-process with captured stdout/stderr. */
const runCli = (args: ReadonlyArray<string>, options?: { readonly stdin?: string }) =>
  Effect.gen(function*() {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    const collect = (into: Array<string>) => () =>
      Sink.forEach((chunk: string | Uint8Array) =>
        Effect.sync(() => {
          into.push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk))
        })
      )
    const stdio = Stdio.layerTest({
      stdout: collect(stdout),
      stderr: collect(stderr),
      stdin: Stream.make(new TextEncoder().encode(options?.stdin ?? ""))
    })
    const exit = yield* Effect.exit(Cli.run(args).pipe(Effect.provide(stdio), Effect.provide(NodeServices.layer)))
    return { exit, stdout: stdout.join(""), stderr: stderr.join("") }
  })

const stateDocument = {
  id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e8f",
  created: "2024-01-01T12:00:03.517204Z",
  updated: "2024-01-01T12:00:03.517204Z",
  type: "SCHEDULED",
  name: "AwaitingRetry",
  timestamp: "2024-01-01T12:00:03.517204Z",
  message: "Retry 1/3",
  state_details: {
    flow_run_id: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70",
    scheduled_time: "2024-01-01T12:00:13Z",
    retriable: null
  },
  data: {
    storage_key: "/root/.prefect/storage/the-key",
    expiration: null,
    serializer: { type: "json" },
    prefect_version: "3.8.4",
    storage_block_id: null
  }
}

describe("Cli inspect", () => {
  it.live("lists every record with key, serializer, expiration and value (text)", () =>
    Effect.gen(function*() {
      const dir = makeStorage()
      const { exit, stderr, stdout } = yield* runCli(["inspect", dir])
      assert.strictEqual(exit._tag, "Success", stderr)
      const lines = stdout.trimEnd().split("\n")
      assert.match(lines[0]!, /: 8 files — 5 records, 1 raw result, 2 unreadable \(1 expired\), 1 temp file skipped$/)
      const line = (key: string) => lines.find((l) => l.startsWith(`${key} `)) ?? ""
      assert.match(line("the-key"), /record\s+json\s+never\s+"The results are in\.\.\."$/)
      assert.match(line("dict-key"), /2024-01-02T03:04:05\.678901Z \(expired\)\s+\{"a":\[1,2,3\],"b":null\}$/)
      assert.match(line("future-key"), /2999-01-01T00:00:00Z\s+\[1,2,3\]$/)
      assert.notInclude(line("future-key"), "expired")
      assert.match(line("6a1c0b7e5d2f4e8c9b1a3d5f7e9c2b4a"), /pickle\s+never\s+pickle: not readable outside Python$/)
      assert.match(line("flow-result"), /raw\s+json\s+"The results are in\.\.\."$/)
      assert.match(line("old-format"), /record 3\.0\s+json\s+never\s+"café"$/)
      assert.match(line("nested/corrupt"), /unreadable\s+error: not a result record: not JSON/)
      assert.match(line("empty"), /unreadable\s+error: empty file$/)
      assert.notInclude(stdout, "runstate-tmp")
      assert.strictEqual(stderr, "")
    }))

  it.live("--json gives every entry with its decoded value", () =>
    Effect.gen(function*() {
      const dir = makeStorage()
      const { exit, stdout } = yield* runCli(["inspect", dir, "--json"])
      assert.strictEqual(exit._tag, "Success")
      const report = JSON.parse(stdout)
      assert.strictEqual(report.total, 8)
      assert.strictEqual(report.skipped, 1)
      assert.deepStrictEqual(report.counts, { record: 4, "record-3.0": 1, metadata: 0, raw: 1, unreadable: 2 })
      assert.strictEqual(report.expired, 1)
      const entry = (file: string) => report.entries.find((e: { file: string }) => e.file === file)
      assert.deepStrictEqual(entry("dict-key").value, { a: [1, 2, 3], b: null })
      assert.strictEqual(entry("dict-key").expired, true)
      assert.strictEqual(entry("dict-key").storageKey, "/root/.prefect/storage/dict-key")
      assert.strictEqual(entry("the-key").value, "The results are in...")
      assert.strictEqual(entry("the-key").prefectVersion, "3.8.4")
      assert.strictEqual(entry("6a1c0b7e5d2f4e8c9b1a3d5f7e9c2b4a").decoded, false)
      assert.strictEqual(entry("6a1c0b7e5d2f4e8c9b1a3d5f7e9c2b4a").note, Cli.pickleNote)
      assert.strictEqual(entry("flow-result").kind, "raw")
      assert.strictEqual(entry("nested/corrupt").kind, "unreadable")
      assert.isString(entry("nested/corrupt").error)
    }))

  it.effect("reads split metadata together with its result file", () =>
    Effect.gen(function*() {
      const root = mkdtempSync(join(tmpdir(), "runstate-cli-split-"))
      mkdirSync(join(root, "results"))
      mkdirSync(join(root, "metadata"))
      writeFileSync(join(root, "results", "test"), `{"rows": 42}`)
      writeFileSync(
        join(root, "metadata", "test"),
        `{"storage_key":"${
          join(root, "results", "test")
        }","expiration":null,"serializer":${jsonSerializer},"prefect_version":"3.8.4","storage_block_id":null}`
      )
      // The whole storage: the result lies inside it and is read.
      const whole = yield* runCli(["inspect", root, "--json"])
      assert.strictEqual(whole.exit._tag, "Success")
      const entry = JSON.parse(whole.stdout).entries.find((e: { file: string }) => e.file === "metadata/test")
      assert.strictEqual(entry.kind, "metadata")
      assert.strictEqual(entry.serializer, "json")
      assert.deepStrictEqual(entry.value, { rows: 42 })
      // Only the metadata directory: the result lies outside it, so it is read only when opted in.
      const only = yield* runCli(["inspect", join(root, "metadata"), "--json"])
      const [refused] = JSON.parse(only.stdout).entries
      assert.strictEqual(refused.decoded, false)
      assert.include(refused.note, "outside the inspected directory (--allow-outside reads it)")
      const opted = yield* runCli(["inspect", join(root, "metadata"), "--json", "--allow-outside"])
      assert.deepStrictEqual(JSON.parse(opted.stdout).entries[0].value, { rows: 42 })
    }))

  it.effect("shows progress on stderr past 1000 files, off a terminal", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "runstate-cli-many-"))
      for (let i = 0; i < 1001; i++) writeFileSync(join(dir, `r${i}`), envelope(`r${i}`, null, String(i)))
      const { exit, stderr, stdout } = yield* runCli(["inspect", dir])
      assert.strictEqual(exit._tag, "Success")
      assert.strictEqual(stderr, "inspecting 1000/1001 files\ninspecting 1001/1001 files\n")
      assert.match(stdout, /: 1001 files — 1001 records\n/)
    }))

  it.effect("a small directory shows no progress off a terminal", () =>
    Effect.gen(function*() {
      const { stderr } = yield* runCli(["inspect", makeStorage()])
      assert.strictEqual(stderr, "")
    }))

  it.effect("a missing path is a user error, not a crash", () =>
    Effect.gen(function*() {
      const { exit } = yield* runCli(["inspect", join(tmpdir(), "runstate-does-not-exist-4242")])
      assert.strictEqual(exit._tag, "Failure")
      if (exit._tag === "Failure") assert.include(String(exit.cause), "cannot read")
    }))
})

describe("Cli state", () => {
  it.effect("decodes a client-shape state document and prints State.format with details", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "runstate-cli-state-"))
      const file = join(dir, "state.json")
      writeFileSync(file, JSON.stringify(stateDocument))
      const { exit, stderr, stdout } = yield* runCli(["state", file])
      assert.strictEqual(exit._tag, "Success", stderr)
      const lines = stdout.trimEnd().split("\n")
      assert.strictEqual(lines[0], "AwaitingRetry('Retry 1/3', type=SCHEDULED)")
      assert.include(stdout, "  type       SCHEDULED\n")
      assert.include(stdout, "  id         0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e8f\n")
      assert.include(stdout, "  timestamp  2024-01-01T12:00:03.517Z\n")
      assert.include(stdout, "storage key /root/.prefect/storage/the-key, serializer json")
      assert.match(stdout, /flow_run_id\s+0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70/)
      assert.match(stdout, /scheduled_time\s+2024-01-01T12:00:13/)
      assert.notInclude(stdout, "task_run_id")
    }))

  it.effect("--json gives format, inspect and the server shape; a set_state answer is unwrapped", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "runstate-cli-state-"))
      const file = join(dir, "answer.json")
      const { created: _c, updated: _u, ...server } = stateDocument
      writeFileSync(file, JSON.stringify({ status: "ACCEPT", details: { type: "accept_details" }, state: server }))
      const { exit, stdout } = yield* runCli(["state", file, "--json"])
      assert.strictEqual(exit._tag, "Success")
      const json = JSON.parse(stdout)
      assert.strictEqual(json.format, "AwaitingRetry('Retry 1/3', type=SCHEDULED)")
      assert.match(json.inspect, /^AwaitingRetry\(message='Retry 1\/3', type=SCHEDULED, result=/)
      assert.strictEqual(json.state.type, "SCHEDULED")
      assert.strictEqual(json.state.id, stateDocument.id)
      assert.strictEqual(json.state.data.storage_key, "/root/.prefect/storage/the-key")
    }))

  it.effect("reads a document from stdin with -", () =>
    Effect.gen(function*() {
      const { exit, stdout } = yield* runCli(["state", "-"], {
        stdin: `{"type": "COMPLETED", "message": "All states completed."}`
      })
      assert.strictEqual(exit._tag, "Success")
      assert.strictEqual(stdout.split("\n")[0], "Completed('All states completed.')")
    }))

  it.effect("a document that is not a state is a user error naming the file", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "runstate-cli-state-"))
      const file = join(dir, "bad.json")
      writeFileSync(file, `{"type": "DONE"}`)
      const { exit } = yield* runCli(["state", file])
      assert.strictEqual(exit._tag, "Failure")
      if (exit._tag === "Failure") assert.include(String(exit.cause), "bad.json: not a Prefect state")
    }))
})

/** Raw results (Prefect's flow-result layout) holding every value kind Python's JSON serializer writes. */
const valueKinds: Record<string, string> = {
  error: envelope("error", null, `{"__exc_type__": "builtins.ValueError", "message": "persisted error"}`),
  set: envelope("set", null, `{"__class__": "builtins.set", "data": [1, 2]}`),
  frozenset: envelope("frozenset", null, `{"__class__": "builtins.frozenset", "data": [3]}`),
  "empty-set": envelope("empty-set", null, `{"__class__": "builtins.set", "data": []}`),
  bytes: envelope("bytes", null, `{"__class__": "builtins.bytes", "data": "hello"}`),
  floats: `[NaN, Infinity, -Infinity, -0.0, 1.5]`,
  big: `12345678901234567890`,
  "dict-big": `{"a": 12345678901234567890, "b": [1]}`,
  "tag-like": `{"$set": 1}`,
  nested: envelope(
    "nested",
    null,
    `[{"__exc_type__": "builtins.KeyError", "message": "k"}, {"__class__": "builtins.bytes", "data": "x'y"}]`
  )
}

const makeDir = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), "runstate-cli-kinds-"))
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
  return dir
}

describe("Cli inspect: every value kind", () => {
  it.effect("text shows each kind faithfully", () =>
    Effect.gen(function*() {
      const { exit, stdout } = yield* runCli(["inspect", makeDir(valueKinds)])
      assert.strictEqual(exit._tag, "Success")
      const value = (key: string) => {
        const line = stdout.split("\n").find((l) => l.startsWith(`${key} `)) ?? ""
        return line.replace(/^\S+\s+(raw|record)\s+json\s+(never\s+)?/, "")
      }
      assert.strictEqual(value("error"), "ValueError: persisted error")
      assert.strictEqual(value("set"), "{1, 2}")
      assert.strictEqual(value("frozenset"), "{3}")
      assert.strictEqual(value("empty-set"), "set()")
      assert.strictEqual(value("bytes"), "b'hello'")
      assert.strictEqual(value("floats"), "[NaN,Infinity,-Infinity,-0.0,1.5]")
      assert.strictEqual(value("big"), "12345678901234567890")
      assert.strictEqual(value("dict-big"), `{"a":12345678901234567890,"b":[1]}`)
      assert.strictEqual(value("nested"), `[KeyError("k"),b'x\\'y']`)
    }))

  it.effect("--json is lossless and never loses the report to one value", () =>
    Effect.gen(function*() {
      const { exit, stdout } = yield* runCli(["inspect", makeDir(valueKinds), "--json"])
      assert.strictEqual(exit._tag, "Success")
      const report = JSON.parse(stdout)
      assert.strictEqual(report.total, Object.keys(valueKinds).length)
      const value = (file: string) => report.entries.find((e: { file: string }) => e.file === file).value
      assert.deepStrictEqual(value("error"), { $error: { type: "ValueError", message: "persisted error" } })
      assert.deepStrictEqual(value("set"), { $set: [1, 2] })
      assert.deepStrictEqual(value("bytes"), { $bytes: Buffer.from("hello").toString("base64") })
      assert.deepStrictEqual(value("floats"), [
        { $float: "NaN" },
        { $float: "Infinity" },
        { $float: "-Infinity" },
        { $float: "-0.0" },
        1.5
      ])
      assert.deepStrictEqual(value("big"), { $int: "12345678901234567890" })
      assert.deepStrictEqual(value("dict-big"), { a: { $int: "12345678901234567890" }, b: [1] })
      assert.deepStrictEqual(value("tag-like"), { $object: { $set: 1 } })
    }))

  it("Cli.formatValue cuts at display columns without splitting surrogate pairs", () => {
    const text = Cli.formatValue("😀".repeat(40), 21)
    assert.notInclude(text, "\ufffd")
    assert.isFalse(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text))
    assert.isTrue(text.endsWith("…"))
    assert.isAtMost(displayWidth(text), 21)
    // Wide characters count two columns.
    assert.strictEqual(displayWidth(Cli.formatValue("結果".repeat(30), 20)), 20)
    assert.strictEqual(Cli.formatValue("結果".repeat(30), 20), `"${"結果".repeat(4)}結…`)
  })
})

describe("Cli inspect: layout", () => {
  it.effect("long keys and wide characters keep the columns aligned", () =>
    Effect.gen(function*() {
      const long = "k".repeat(70)
      const dir = makeDir({ [long]: `1`, "結果": `2`, short: `3` })
      const { stdout } = yield* runCli(["inspect", dir])
      const lines = stdout.trimEnd().split("\n").slice(1)
      const kindColumn = (line: string) => displayWidth(line.slice(0, line.search(/ (KIND|raw)/) + 1))
      const columns = lines.map(kindColumn)
      assert.strictEqual(new Set(columns).size, 1, stdout)
      assert.isTrue(lines.some((l) => l.startsWith("…" + "k".repeat(47) + " ")), stdout)
    }))

  it("--version prints the package's version", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8"))
    const bin = join(import.meta.dirname, "..", "src", "bin.ts")
    const out = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" })
    assert.strictEqual(out.stdout.trim(), `runstate v${pkg.version}`)
  })
})

describe("Cli inspect: stores by URL", () => {
  it.live("redis:// lists the records of a Redis store through the library's layers", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      const store = NodeRedisResultStore.layerRedis({ prefix: "cli:" }).pipe(
        Layer.provide(NodeRedisResultStore.layerRedisClient({ url: server.url }))
      )
      yield* Effect.gen(function*() {
        const rs = yield* ResultStore.ResultStore
        yield* rs.write({ answer: 42 }, { key: "alpha" })
        yield* rs.write(12345678901234567890n, { key: "beta" })
      }).pipe(Effect.provide(store))
      const { exit, stdout } = yield* runCli(["inspect", server.url, "--prefix", "cli:", "--json"])
      assert.strictEqual(exit._tag, "Success")
      const report = JSON.parse(stdout)
      assert.strictEqual(report.path, server.url)
      assert.deepStrictEqual(report.entries.map((e: { file: string }) => e.file), ["alpha", "beta"])
      assert.deepStrictEqual(report.entries[0].value, { answer: 42 })
      assert.deepStrictEqual(report.entries[1].value, { $int: "12345678901234567890" })
    }).pipe(Effect.scoped), { timeout: 60_000 })

  it.live("postgres:// lists the records of a SQL store (KeyValueStore.layerSql)", () =>
    Effect.gen(function*() {
      const server = yield* postgresServer
      const pg = PgClient.layer({
        host: server.host,
        port: server.port,
        username: server.user,
        database: server.database
      })
      const store = ResultStore.layer({ serializer: Serializer.json }).pipe(
        Layer.provide(KeyValueStore.layerSql({ table: "cli_results" })),
        Layer.provide(pg)
      )
      yield* Effect.gen(function*() {
        const rs = yield* ResultStore.ResultStore
        yield* rs.write(["x", 1.5], { key: "gamma" })
      }).pipe(Effect.provide(store))
      const text = yield* runCli(["inspect", server.url, "--table", "cli_results"])
      assert.strictEqual(text.exit._tag, "Success", text.stderr)
      assert.match(text.stdout, /gamma\s+record\s+json\s+never\s+\["x",1\.5\]/)
      const bad = yield* runCli(["inspect", "redis://127.0.0.1:1"])
      assert.strictEqual(bad.exit._tag, "Failure")
      if (bad.exit._tag === "Failure") assert.include(String(bad.exit.cause), "cannot connect to redis://127.0.0.1:1")
    }).pipe(Effect.scoped), { timeout: 120_000 })
})

describe("Cli state: absent fields", () => {
  it.effect("a StateCreate document has no id or timestamp, and the output says so", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "runstate-cli-state-"))
      const file = join(dir, "create.json")
      writeFileSync(
        file,
        JSON.stringify({ type: "COMPLETED", name: "Completed", message: null, data: null, state_details: {} })
      )
      const text = yield* runCli(["state", file])
      assert.strictEqual(text.exit._tag, "Success")
      assert.include(text.stdout, "  id         absent (a StateCreate document has none)\n")
      assert.include(text.stdout, "  timestamp  absent (a StateCreate document has none)\n")
      const json = JSON.parse((yield* runCli(["state", file, "--json"])).stdout)
      assert.deepStrictEqual(json.absent, ["id", "timestamp"])
      assert.isNull(json.state.id)
      assert.isNull(json.state.timestamp)
      // A server document keeps both.
      writeFileSync(file, JSON.stringify(stateDocument))
      assert.deepStrictEqual(JSON.parse((yield* runCli(["state", file, "--json"])).stdout).absent, [])
    }))
})

describe("runstate bin", () => {
  const bin = join(import.meta.dirname, "..", "src", "bin.ts")

  it("runs as a child process: inspect --json, and exit status 1 with a message on errors", () => {
    const dir = makeStorage()
    const ok = spawnSync(process.execPath, [bin, "inspect", dir, "--json"], { encoding: "utf8" })
    assert.strictEqual(ok.status, 0, ok.stderr)
    assert.strictEqual(JSON.parse(ok.stdout).total, 8)
    const bad = spawnSync(process.execPath, [bin, "state", join(dir, "missing.json")], { encoding: "utf8" })
    assert.strictEqual(bad.status, 1)
    assert.include(bad.stderr, "cannot read")
    assert.include(bad.stderr, "missing.json")
    // One line, as the docs show: no banner, no stack trace.
    assert.match(bad.stderr, /^runstate: [^\n]*missing\.json[^\n]*\n$/)
    assert.strictEqual(bad.stdout, "")
  })
})

// -----------------------------------------------------------------------------
// run history
// -----------------------------------------------------------------------------

/**
 * A flow of two tasks — one retried once after a delay, one failing — run with
 * the result store and a history persisted in `kv` (as `RunLog.layerKeyValueStore()`
 * writes it); answers the runs as this process recorded them.
 */
const runFlowWithHistory = <E>(
  stores: Layer.Layer<ResultStore.ResultStore | RunLog.RunLog, E>
) =>
  Effect.gen(function*() {
    let calls = 0
    const fetch = yield* Task.make({ name: "fetch", retries: 1, retryDelaySeconds: 0.01 }, () =>
      Effect.suspend(() => {
        calls++
        return calls === 1 ? Effect.fail(new Error("flaky")) : Effect.succeed(1)
      }))
    const load = yield* Task.make({ name: "load" }, () => Effect.fail(new Error("disk full")))
    const flow = yield* Effect.all([Task.run(fetch), Task.run(load)]).pipe(Flow.run({ name: "etl" }))
    const log = yield* RunLog.RunLog
    const runs = yield* log.runs()
    const histories = new Map(
      yield* Effect.forEach(runs, (r) => Effect.map(log.history(r.runId), (h) => [r.runId, h] as const))
    )
    return { flow, runs, histories }
  }).pipe(Effect.provide(Layer.merge(stores, Logger.layer([]))))

type HistoryJson = {
  readonly runs: ReadonlyArray<
    {
      readonly run_id: string
      readonly kind: string
      readonly name: string
      readonly flow_run_id: string | null
      readonly transitions: number
      readonly state: { readonly type: string; readonly name: string; readonly message: string | null }
    }
  >
}

/** `--runs --json` agrees with what the writing process recorded, run by run. */
const assertRunsMatch = (
  stdout: string,
  recorded: ReadonlyArray<RunLog.RunSummary>
) => {
  const json = JSON.parse(stdout) as HistoryJson
  assert.deepStrictEqual(
    json.runs.map((r) => [r.run_id, r.kind, r.name, r.flow_run_id, r.transitions, r.state.type, r.state.name]),
    recorded.map((r) => [r.runId, r.kind, r.name, r.flowRunId ?? null, r.transitions, r.state.type, r.state.name])
  )
  return json
}

describe("Cli inspect: run history", () => {
  it.live(
    "a directory: --runs lists the flow and task runs, --run ID one run's transitions, read by a fresh process",
    () =>
      Effect.gen(function*() {
        const dir = mkdtempSync(join(tmpdir(), "runstate-cli-history-"))
        const stores = Layer.merge(
          NodeResultStore.layerFileSystem(dir),
          RunLog.layerKeyValueStore().pipe(Layer.provide(NodeResultStore.layerFileSystemKeyValueStore(dir)))
        )
        // The flow's result is persisted, so the records listing has something beside the history.
        const { runs, histories } = yield* runFlowWithHistory(stores)
        assert.deepStrictEqual(runs.map((r) => `${r.kind}:${r.name.split("-")[0]}:${r.state.name}`), [
          "flow:etl:Failed",
          "task:fetch:Completed",
          "task:load:Failed"
        ])

        // The records listing leaves the history out and says it is there.
        const listing = yield* runCli(["inspect", dir, "--json"])
        assert.strictEqual(listing.exit._tag, "Success", listing.stderr)
        const report = JSON.parse(listing.stdout)
        assert.isTrue(report.history > 0)
        for (const e of report.entries) assert.notMatch(e.file, /^runstate-history\//)
        const text = yield* runCli(["inspect", dir])
        assert.match(text.stdout.split("\n")[0]!, /; run history kept \(--runs lists it\)$/)

        // --runs: text and JSON.
        const listed = yield* runCli(["inspect", dir, "--runs"])
        assert.strictEqual(listed.exit._tag, "Success", listed.stderr)
        const lines = listed.stdout.trimEnd().split("\n")
        assert.strictEqual(lines[0], `${dir}: 3 runs — 1 flow run, 2 task runs`)
        assert.match(lines[1]!, /^RUN ID\s+KIND\s+NAME\s+TRANSITIONS\s+FINAL STATE$/)
        const fetch = runs.find((r) => r.name.startsWith("fetch"))!
        const load = runs.find((r) => r.name.startsWith("load"))!
        assert.match(lines[3]!, new RegExp(`^${fetch.runId}\\s+task\\s+${fetch.name}\\s+5\\s+Completed\\(\\)$`))
        assert.match(
          lines[4]!,
          new RegExp(`^${load.runId}\\s+task\\s+${load.name}\\s+3\\s+Failed\\('Task run encountered an exception`)
        )
        const json = yield* runCli(["inspect", dir, "--runs", "--json"])
        const parsed = assertRunsMatch(json.stdout, runs)
        assert.strictEqual(parsed.runs[1]!.flow_run_id, runs[0]!.runId)

        // --run ID: every transition, from → to, timestamp and message.
        const one = yield* runCli(["inspect", dir, "--run", fetch.runId])
        assert.strictEqual(one.exit._tag, "Success", one.stderr)
        const runLines = one.stdout.trimEnd().split("\n")
        assert.strictEqual(
          runLines[0],
          `task run ${fetch.name} (${fetch.runId}, flow run ${runs[0]!.runId}): 5 transitions, now Completed`
        )
        const history = histories.get(fetch.runId)!
        assert.deepStrictEqual(
          runLines.slice(2).map((l) => l.split(/\s{2,}/).slice(0, 2)),
          history.map((t) => [
            DateTime.formatIso(t.to.timestamp),
            `${t.from === undefined ? "∅" : label(t.from)} → ${label(t.to)}`
          ])
        )
        assert.deepStrictEqual(
          runLines.slice(2).map((l) => l.split(/\s{2,}/)[1]),
          [
            "∅ → Pending",
            "Pending → Running",
            "Running → AwaitingRetry (SCHEDULED)",
            "AwaitingRetry (SCHEDULED) → Retrying (RUNNING)",
            "Retrying (RUNNING) → Completed"
          ]
        )
        const failed = yield* runCli(["inspect", dir, "--run", load.runId])
        assert.match(
          failed.stdout.trimEnd().split("\n").at(-1)!,
          /Running → Failed\s+Task run encountered an exception Error: disk full$/
        )
        const oneJson = JSON.parse((yield* runCli(["inspect", dir, "--run", fetch.runId, "--json"])).stdout)
        assert.strictEqual(oneJson.run_id, fetch.runId)
        assert.strictEqual(oneJson.kind, "task")
        assert.deepStrictEqual(
          oneJson.transitions.map((t: { run_count: number; from: { name: string } | null; to: { name: string } }) => [
            t.run_count,
            t.from?.name ?? null,
            t.to.name
          ]),
          history.map((t) => [t.runCount, t.from?.name ?? null, t.to.name])
        )
      }),
    { timeout: 60_000 }
  )

  it.effect("no history, an unknown run, and --runs with --run: clear answers", () =>
    Effect.gen(function*() {
      const dir = makeStorage()
      const none = yield* runCli(["inspect", dir, "--runs"])
      assert.strictEqual(none.exit._tag, "Success", none.stderr)
      assert.strictEqual(none.stdout, `${dir}: no run history\n`)
      assert.deepStrictEqual(JSON.parse((yield* runCli(["inspect", dir, "--runs", "--json"])).stdout).runs, [])
      const unknown = yield* runCli(["inspect", dir, "--run", "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"])
      assert.strictEqual(unknown.exit._tag, "Failure")
      if (unknown.exit._tag === "Failure") {
        assert.include(
          String(unknown.exit.cause),
          `no run 0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70 in the history of ${dir}`
        )
      }
      const both = yield* runCli(["inspect", dir, "--runs", "--run", "x"])
      assert.strictEqual(both.exit._tag, "Failure")
      if (both.exit._tag === "Failure") {
        assert.include(String(both.exit.cause), "--runs and --run ID cannot be used together")
      }
      const missing = yield* runCli(["inspect", join(dir, "nope"), "--runs"])
      assert.strictEqual(missing.exit._tag, "Failure")
      // A history document that is not one is a clear error, not a crash.
      mkdirSync(join(dir, "runstate-history", "h"), { recursive: true })
      writeFileSync(join(dir, "runstate-history", "h", "broken"), "{not json")
      const broken = yield* runCli(["inspect", dir, "--run", "broken"])
      assert.strictEqual(broken.exit._tag, "Failure")
      if (broken.exit._tag === "Failure") {
        assert.include(
          String(broken.exit.cause),
          `cannot read the run history of ${dir}: The history of run broken is not valid JSON`
        )
      }
    }))

  it.live(
    "history files are read as records are: never a FIFO, never past --max-size, never through a link out",
    () =>
      Effect.gen(function*() {
        const dir = mkdtempSync(join(tmpdir(), "runstate-cli-hostile-history-"))
        const h = join(dir, "runstate-history", "h")
        mkdirSync(h, { recursive: true })
        assert.strictEqual(spawnSync("mkfifo", [join(h, "fifo")]).status, 0)
        writeFileSync(join(h, "big"), "x".repeat(2048))
        const outside = mkdtempSync(join(tmpdir(), "runstate-cli-outside-"))
        writeFileSync(join(outside, "secret"), "{}")
        symlinkSync(join(outside, "secret"), join(h, "link"))
        const fifo = yield* runCli(["inspect", dir, "--run", "fifo"])
        assert.strictEqual(fifo.exit._tag, "Failure")
        if (fifo.exit._tag === "Failure") assert.include(String(fifo.exit.cause), "a FIFO: not read")
        const big = yield* runCli(["inspect", dir, "--run", "big", "--max-size", "1024"])
        assert.strictEqual(big.exit._tag, "Failure")
        if (big.exit._tag === "Failure") assert.include(String(big.exit.cause), "larger than the limit of 1024 bytes")
        const link = yield* runCli(["inspect", dir, "--run", "link"])
        assert.strictEqual(link.exit._tag, "Failure")
        if (link.exit._tag === "Failure") {
          assert.include(String(link.exit.cause), "symbolic link to outside the inspected directory: not followed")
        }
        // Reading never writes: the directory holds what it held.
        assert.deepStrictEqual(readdirSync(h).sort(), ["big", "fifo", "link"])
      }),
    { timeout: 30_000 }
  )

  it.live("redis:// and postgres://: the history kept in the store's KeyValueStore", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const client = NodeRedisResultStore.layerRedisClient({ url: redis.url })
      const redisRuns = yield* runFlowWithHistory(
        Layer.merge(
          NodeRedisResultStore.layerRedis({ prefix: "hist:" }),
          RunLog.layerKeyValueStore().pipe(
            Layer.provide(NodeRedisResultStore.layerRedisKeyValueStore({ prefix: "hist:" }))
          )
        ).pipe(Layer.provide(client))
      )
      const fromRedis = yield* runCli(["inspect", redis.url, "--prefix", "hist:", "--runs", "--json"])
      assert.strictEqual(fromRedis.exit._tag, "Success", fromRedis.stderr)
      assertRunsMatch(fromRedis.stdout, redisRuns.runs)
      const redisRun = yield* runCli(["inspect", redis.url, "--prefix", "hist:", "--run", redisRuns.runs[0]!.runId])
      assert.match(redisRun.stdout.split("\n")[0]!, /^flow run etl-\w+ \(.*\): 3 transitions, now Failed$/)

      const pgServer = yield* postgresServer
      const pg = PgClient.layer({
        host: pgServer.host,
        port: pgServer.port,
        username: pgServer.user,
        database: pgServer.database
      })
      const pgRuns = yield* runFlowWithHistory(
        Layer.merge(ResultStore.layer({ serializer: Serializer.json }), RunLog.layerKeyValueStore()).pipe(
          Layer.provide(KeyValueStore.layerSql({ table: "cli_history" })),
          Layer.provide(pg)
        )
      )
      const fromPg = yield* runCli(["inspect", pgServer.url, "--table", "cli_history", "--runs", "--json"])
      assert.strictEqual(fromPg.exit._tag, "Success", fromPg.stderr)
      assertRunsMatch(fromPg.stdout, pgRuns.runs)
    }).pipe(Effect.scoped), { timeout: 120_000 })
})

const label = (s: { readonly name: string; readonly type: string }) =>
  s.name.toUpperCase() === s.type ? s.name : `${s.name} (${s.type})`

describe("Cli timeline", () => {
  it.live("draws the latest flow run of a directory's history into an HTML file; --run picks one; escapes every text", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "runstate-cli-timeline-"))
      const stores = Layer.merge(
        NodeResultStore.layerFileSystem(dir),
        RunLog.layerKeyValueStore().pipe(Layer.provide(NodeResultStore.layerFileSystemKeyValueStore(dir)))
      )
      const { flow, runs } = yield* runFlowWithHistory(stores)
      const flowRunId = flow.stateDetails.flowRunId!
      const out = join(dir, "..", `${flowRunId}.html`)
      const drawn = yield* runCli(["timeline", dir, "--out", out])
      assert.strictEqual(drawn.exit._tag, "Success", drawn.stderr)
      assert.strictEqual(drawn.stdout, `${out} (flow run ${flowRunId}, 2 task runs)\n`)
      const html = readFileSync(out, "utf8")
      assert.isTrue(html.startsWith("<!doctype html>"))
      // One row for the flow run and one per task run, each with its final state type.
      const rows = [...html.matchAll(/<g class="row" data-run-id="([^"]+)" data-final="([A-Z]*)">/g)].map((
        m
      ) => [m[1], m[2]])
      assert.deepStrictEqual(
        rows.toSorted(),
        runs.map((r) => [r.runId, r.state.type]).toSorted()
      )
      // The retried task's wait and second attempt are drawn.
      assert.include(html, "data-state=\"AwaitingRetry\"")
      assert.include(html, "data-state=\"Retrying\"")
      assert.notMatch(html, /<script/i)

      // The same run by id; an unknown id is one line naming the latest.
      const chosen = yield* runCli(["timeline", dir, "--run", flowRunId, "--out", out])
      assert.strictEqual(chosen.exit._tag, "Success", chosen.stderr)
      const missing = yield* runCli(["timeline", dir, "--run", "not-a-run"])
      assert.strictEqual(missing.exit._tag, "Failure")
      const error = yield* Effect.exit(
        Cli.main(["timeline", dir, "--run", "not-a-run"]).pipe(
          Effect.provide(Stdio.layerTest({})),
          Effect.provide(NodeServices.layer)
        )
      )
      assert.deepStrictEqual(error, Exit.succeed(1))
    }))

  it.live("an empty storage gives a page that says so; a missing one is an error", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "runstate-cli-timeline-empty-"))
      const out = join(dir, "page.html")
      const drawn = yield* runCli(["timeline", dir, "--out", out])
      assert.strictEqual(drawn.exit._tag, "Success", drawn.stderr)
      assert.strictEqual(drawn.stdout, `${out} (no flow run in the history)\n`)
      assert.include(readFileSync(out, "utf8"), "No runs were found in this history.")
      const missing = yield* runCli(["timeline", join(dir, "nope")])
      assert.strictEqual(missing.exit._tag, "Failure")
    }))
})
