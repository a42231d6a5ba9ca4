/**
 * Hostile input for the `runstate` CLI: files that escape the inspected
 * directory, FIFOs and devices, symbolic links, decompression bombs, huge and
 * deeply nested documents, control characters. Every probe runs the real
 * executable in a child process with a time bound, so a hang fails the test
 * instead of stalling the suite.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { deflateSync } from "node:zlib"

const bin = join(import.meta.dirname, "..", "src", "bin.ts")

/** Runs the CLI; fails (status null) past `timeout` ms instead of hanging. */
const cli = (args: ReadonlyArray<string>, timeout = 20_000) => {
  const out = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout, maxBuffer: 256 * 1024 * 1024 })
  return { status: out.status, signal: out.signal, stdout: out.stdout, stderr: out.stderr }
}

const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `runstate-hostile-${name}-`))

const jsonSerializer =
  `{"type":"json","jsonlib":"json","object_encoder":"prefect.serializers.prefect_json_object_encoder","object_decoder":"prefect.serializers.prefect_json_object_decoder","dumps_kwargs":{},"loads_kwargs":{}}`
const metadata = (storageKey: string, serializer = jsonSerializer) =>
  `{"storage_key":${
    JSON.stringify(storageKey)
  },"expiration":null,"serializer":${serializer},"prefect_version":"3.8.4","storage_block_id":null}`
const envelope = (serializer: string, result: string) =>
  `{"metadata":{"storage_key":"/x","expiration":null,"serializer":${serializer},"prefect_version":"3.8.4","storage_block_id":null},"result":${
    JSON.stringify(result)
  }}`
const base64Lines = (b: Uint8Array) => (Buffer.from(b).toString("base64").match(/.{1,76}/g) ?? []).join("\n") + "\n"

const entries = (stdout: string): Array<Record<string, any>> => JSON.parse(stdout).entries
const entry = (stdout: string, file: string) => entries(stdout).find((e) => e.file === file)!

/** No stack trace and at most one line on stderr. */
const assertCleanErrors = (r: { stdout: string; stderr: string }) => {
  assert.notMatch(r.stdout, /\n\s+at /)
  assert.notMatch(r.stderr, /\n\s+at /)
  assert.isAtMost(r.stderr.split("\n").filter((l) => l !== "").length, 1, r.stderr)
}

describe("hostile: paths outside the inspected directory", () => {
  it("a metadata file naming an absolute path outside is not followed unless --allow-outside", () => {
    const outside = tempDir("secret")
    writeFileSync(join(outside, "secret"), `"TOP SECRET CONTENT"`)
    const dir = tempDir("meta")
    writeFileSync(join(dir, "m"), metadata(join(outside, "secret")))
    const r = cli(["inspect", dir, "--json"])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.notInclude(r.stdout, "TOP SECRET")
    assert.include(entry(r.stdout, "m").note, "outside the inspected directory (--allow-outside reads it)")
    const opted = cli(["inspect", dir, "--json", "--allow-outside"])
    assert.strictEqual(entry(opted.stdout, "m").value, "TOP SECRET CONTENT")
  })

  it("/dev/zero named by metadata is never read, even with --allow-outside", () => {
    const dir = tempDir("zero")
    writeFileSync(join(dir, "m"), metadata("/dev/zero"))
    const r = cli(["inspect", dir, "--json", "--allow-outside"])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.include(entry(r.stdout, "m").note, "a device: not read")
  })

  it("symbolic links: to a directory or outside are reported, inside to a file are read; a linked root is followed", () => {
    const outside = tempDir("target")
    writeFileSync(join(outside, "secret"), `"OUTSIDE"`)
    const dir = tempDir("links")
    writeFileSync(join(dir, "real"), `"inside"`)
    symlinkSync(outside, join(dir, "dirlink"))
    symlinkSync(join(outside, "secret"), join(dir, "outlink"))
    symlinkSync(join(dir, "real"), join(dir, "inlink"))
    const r = cli(["inspect", dir, "--json"])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.strictEqual(entry(r.stdout, "dirlink").error, "symbolic link to a directory: not followed")
    assert.strictEqual(
      entry(r.stdout, "outlink").error,
      "symbolic link to outside the inspected directory: not followed"
    )
    assert.strictEqual(entry(r.stdout, "inlink").value, "inside")
    assert.notInclude(r.stdout, "OUTSIDE")
    const linkedRoot = join(tempDir("root"), "link")
    symlinkSync(dir, linkedRoot)
    const viaLink = cli(["inspect", linkedRoot, "--json"])
    assert.strictEqual(viaLink.status, 0, viaLink.stderr)
    assert.strictEqual(entry(viaLink.stdout, "real").value, "inside")
  })
})

describe("hostile: FIFOs, signals and sizes", () => {
  const mkfifo = (p: string) => {
    const made = spawnSync("mkfifo", [p])
    assert.strictEqual(made.status, 0, "mkfifo is needed for this test")
  }

  it("a FIFO in the directory, named by metadata, or given to state never hangs", () => {
    const dir = tempDir("fifo")
    mkfifo(join(dir, "pipe"))
    writeFileSync(join(dir, "m"), metadata(join(dir, "pipe")))
    writeFileSync(join(dir, "good"), `[1, 2]`)
    const r = cli(["inspect", dir, "--json"], 15_000)
    assert.strictEqual(r.status, 0, `${r.signal} ${r.stderr}`)
    assert.strictEqual(entry(r.stdout, "pipe").error, "a FIFO: not read")
    assert.strictEqual(entry(r.stdout, "m").note, "metadata only: a FIFO: not read")
    assert.deepStrictEqual(entry(r.stdout, "good").value, [1, 2])
    const direct = cli(["inspect", join(dir, "pipe")], 15_000)
    assert.strictEqual(direct.status, 1)
    assert.match(direct.stderr, /^runstate: cannot read .*pipe: a FIFO, not a result file or directory\n$/)
    const state = cli(["state", join(dir, "pipe")], 15_000)
    assert.strictEqual(state.status, 1)
    assert.match(state.stderr, /^runstate: .*pipe: a FIFO: not read\n$/)
  })

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal} ends a CLI blocked on its input (exit 130)`, async () => {
      const child = spawn(process.execPath, [bin, "state", "-"], { stdio: ["pipe", "pipe", "pipe"] })
      // Give it time to start and block reading stdin (module loading takes a few seconds on a busy machine).
      await new Promise((resolve) => setTimeout(resolve, 4_000))
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
        child.on("exit", (code, killedBy) => {
          clearTimeout(timer)
          resolve({ code, signal: killedBy })
        })
        child.kill(signal)
      })
      // 130 from the CLI's own handler; if the signal came before the handler was installed, Node's default ends it.
      assert.isTrue(exit.code === 130 || exit.signal === signal, JSON.stringify(exit))
      assert.notStrictEqual(exit.signal, "SIGKILL")
    }, 30_000)
  }

  it("files past --max-size are not read; decompression bombs stop at the limit, naming it", () => {
    const dir = tempDir("bomb")
    const bomb = deflateSync(new Uint8Array(50_000_000))
    writeFileSync(
      join(dir, "bomb"),
      envelope(`{"type":"compressed/json","serializer":${jsonSerializer},"compressionlib":"zlib"}`, base64Lines(bomb))
    )
    writeFileSync(join(dir, "big"), `"${"x".repeat(3_000_000)}"`)
    writeFileSync(join(dir, "good"), `"fine"`)
    const r = cli(["inspect", dir, "--json", "--max-size", "2000000"])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.strictEqual(
      entry(r.stdout, "bomb").error,
      "Decompressed data ('zlib') exceeds the limit of 2000000 bytes (maxDecompressedBytes)"
    )
    assert.notInclude(r.stdout, "UTF-8")
    assert.strictEqual(entry(r.stdout, "big").error, "larger than the limit of 2000000 bytes (--max-size): not read")
    assert.strictEqual(entry(r.stdout, "good").value, "fine")
    const text = cli(["inspect", dir, "--max-size", "2000000"])
    assert.match(
      text.stdout,
      /bomb\s+record\s+compressed\/json\s+never\s+error: Decompressed data \('zlib'\) exceeds the limit of 2000000 bytes/
    )
    assert.strictEqual(cli(["inspect", dir, "--max-size", "0"]).status, 1)
  })

  it("reads Prefect's default compressed/json (lzma) records", () => {
    const dir = tempDir("lzma")
    // CPython: base64.encodebytes(lzma.compress(b'{"a": [1, 2, 3], "b": null, "s": "The results are in..."}'))
    const lzma =
      "/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQA4eyJhIjogWzEsIDIsIDNdLCAiYiI6IG51bGwsICJz\nIjogIlRoZSByZXN1bHRzIGFyZSBpbi4uLiJ9AAAAAIHK9y6kbl/TAAFROTZRI9wftvN9AQAAAAAE\nWVo=\n"
    writeFileSync(
      join(dir, "r"),
      envelope(`{"type":"compressed/json","serializer":${jsonSerializer},"compressionlib":"lzma"}`, lzma)
    )
    const r = cli(["inspect", dir, "--json"])
    assert.deepStrictEqual(entry(r.stdout, "r").value, { a: [1, 2, 3], b: null, s: "The results are in..." })
  })
})

describe("hostile: documents and values", () => {
  it("state never crashes on data that looks like metadata but is not", () => {
    const dir = tempDir("state")
    writeFileSync(join(dir, "s.json"), `{"type":"COMPLETED","data":{"storageKey":"x"}}`)
    const r = cli(["state", join(dir, "s.json")])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.strictEqual(r.stdout.split("\n")[0], "Completed()")
    assert.include(r.stdout, `  data       {"storageKey":"x"}\n`)
    assert.strictEqual(r.stderr, "")
    const json = cli(["state", join(dir, "s.json"), "--json"])
    assert.strictEqual(json.status, 0, json.stderr)
    assert.strictEqual(JSON.parse(json.stdout).state.type, "COMPLETED")
  })

  it("state and inspect handle data nested 100,000 deep", () => {
    const dir = tempDir("deep")
    const deep = "[".repeat(100_000) + "]".repeat(100_000)
    writeFileSync(join(dir, "s.json"), `{"type":"COMPLETED","data":${deep}}`)
    for (const args of [["state", join(dir, "s.json")], ["state", join(dir, "s.json"), "--json"]]) {
      const r = cli(args)
      assertCleanErrors(r)
      assert.include([0, 1], r.status, r.stderr)
      if (r.status === 1) assert.match(r.stderr, /^runstate: .*s\.json: /)
    }
    const data = tempDir("deep-inspect")
    writeFileSync(join(data, "deep"), deep)
    const text = cli(["inspect", data])
    assert.strictEqual(text.status, 0, text.stderr)
    assert.match(text.stdout, /deep\s+raw\s+json\s+\[\[\[\[/)
    const json = cli(["inspect", data, "--json"])
    assert.strictEqual(json.status, 0, json.stderr)
    let value = entry(json.stdout, "deep").value
    let depth = 0
    while (Array.isArray(value) && value.length === 1) {
      value = value[0]
      depth++
    }
    assert.strictEqual(depth + 1, 100_000)
  })

  it("inspect reads a raw Python result with NaN; bad files never stop the report; errors stay one line", () => {
    const dir = tempDir("mixed")
    writeFileSync(join(dir, "nan"), `[NaN, 1.5]`)
    writeFileSync(join(dir, "corrupt"), `{"metadata": {"serializer": {"type": "json"}}, "result": "[1, \n`)
    writeFileSync(join(dir, "binary"), Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x0d]))
    writeFileSync(join(dir, "bad-json-inside"), envelope(jsonSerializer, "{not json\n at all"))
    writeFileSync(join(dir, "weird\u001b[31mname\nx"), `"escape"`)
    writeFileSync(join(dir, "zz-good"), `{"ok": true}`)
    const r = cli(["inspect", dir])
    assert.strictEqual(r.status, 0, r.stderr)
    assert.strictEqual(r.stderr, "")
    const lines = r.stdout.trimEnd().split("\n")
    assert.strictEqual(lines.length, 2 + 6, r.stdout)
    assert.match(lines.find((l) => l.startsWith("nan "))!, /raw\s+json\s+\[NaN,1\.5\]$/)
    assert.match(lines.find((l) => l.startsWith("zz-good "))!, /\{"ok":true\}$/)
    assert.notInclude(r.stdout, "\u001b")
    assert.isTrue(lines.some((l) => l.startsWith("weird\\u001b[31mname\\nx ")), r.stdout)
    for (const name of ["corrupt", "binary", "bad-json-inside"]) {
      assert.match(lines.find((l) => l.startsWith(`${name} `))!, /error: /)
    }
    const json = cli(["inspect", dir, "--json"])
    assert.strictEqual(json.status, 0)
    assert.deepStrictEqual(entry(json.stdout, "nan").value, [{ $float: "NaN" }, 1.5])
    assert.strictEqual(entries(json.stdout).length, 6)
  })

  it("a missing target and bad flags are one-line errors with status 1", () => {
    for (const args of [["inspect", join(tmpdir(), "runstate-missing-4242")], ["state"], ["nope"]]) {
      const r = cli(args)
      assert.strictEqual(r.status, 1, args.join(" "))
      assert.match(r.stderr, /^runstate: [^\n]+\n$/, args.join(" "))
    }
  })
})

describe("hostile: the inspected directory itself", () => {
  it("nested directories are walked, keys /-separated", () => {
    const dir = tempDir("nested")
    mkdirSync(join(dir, "a", "b", "c"), { recursive: true })
    writeFileSync(join(dir, "a", "b", "c", "r"), `1`)
    const r = cli(["inspect", dir, "--json"])
    assert.strictEqual(r.status, 0)
    assert.strictEqual(entry(r.stdout, "a/b/c/r").value, 1)
  })
})
