import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Failure } from "@runstate/core"
import * as ResultStore from "@runstate/core/ResultStore"
import { NodeSignals } from "@runstate/node"

const fixture = join(import.meta.dirname, "fixtures", "signal-child.ts")

interface ChildResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly state: { readonly type: string; readonly name: string; readonly message: string | null } | undefined
}

/** Spawns the fixture, waits for "ready", sends `signal` (if any) and waits for the exit. */
const runChild = (mode: "run" | "run-sync" | "complete" | "idle", signal?: NodeJS.Signals): Promise<ChildResult> => {
  const dir = mkdtempSync(join(tmpdir(), "runstate-signals-"))
  const out = join(dir, "state.json")
  return new Promise<ChildResult>((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, out, mode], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    let sent = false
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`child timed out; stdout=${stdout} stderr=${stderr}`))
    }, 20_000)
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      if (signal !== undefined && !sent && stdout.includes("ready\n")) {
        sent = true
        child.kill(signal)
      }
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("error", reject)
    child.on("exit", (code, exitSignal) => {
      clearTimeout(timer)
      const state = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : undefined
      rmSync(dir, { recursive: true, force: true })
      resolve({ code, signal: exitSignal, stdout, stderr, state })
    })
  })
}

describe("NodeSignals in a real child process", () => {
  it("SIGTERM during a run: CRASHED with Prefect's message, persisted, exit code 143", async () => {
    const result = await runChild("run", "SIGTERM")
    assert.strictEqual(result.stderr, "")
    assert.strictEqual(result.signal, null)
    assert.strictEqual(result.code, 143)
    assert.include(result.stdout, "task interrupted")
    assert.deepStrictEqual(result.state, {
      type: "CRASHED",
      name: "Crashed",
      message: "Execution was aborted by a termination signal."
    })
  })

  it("SIGINT during a run: CRASHED with Prefect's message, persisted, exit code 130", async () => {
    const result = await runChild("run", "SIGINT")
    assert.strictEqual(result.stderr, "")
    assert.strictEqual(result.signal, null)
    assert.strictEqual(result.code, 130)
    assert.deepStrictEqual(result.state, {
      type: "CRASHED",
      name: "Crashed",
      message: "Execution was aborted by an interrupt signal."
    })
  })

  it("SIGTERM / SIGINT with nothing asynchronous after the run: exit code 143 / 130 every time", async () => {
    // The program ends on the very tick the signal arrives; repeated to catch the race between the run
    // finishing and the signal being recorded for the exit code.
    for (
      const [signal, code, message] of [
        ["SIGTERM", 143, "Execution was aborted by a termination signal."],
        ["SIGINT", 130, "Execution was aborted by an interrupt signal."]
      ] as const
    ) {
      for (let i = 0; i < 3; i++) {
        const result = await runChild("run-sync", signal)
        assert.strictEqual(result.stderr, "")
        assert.deepStrictEqual([signal, i, result.signal, result.code], [signal, i, null, code])
        assert.deepStrictEqual(result.state, { type: "CRASHED", name: "Crashed", message })
      }
    }
  })

  it("without a signal the run completes and the process exits 0", async () => {
    const result = await runChild("complete")
    assert.strictEqual(result.code, 0)
    assert.deepStrictEqual(result.state, { type: "COMPLETED", name: "Completed", message: null })
  })

  it("a signal outside any run interrupts the program and exits 128 + signal", async () => {
    const result = await runChild("idle", "SIGTERM")
    assert.strictEqual(result.code, 143)
    assert.isUndefined(result.state)
  })
})

describe("NodeSignals in process", () => {
  it("exit codes follow 128 + signal number", () => {
    assert.strictEqual(NodeSignals.exitCode("SIGINT"), 130)
    assert.strictEqual(NodeSignals.exitCode("SIGTERM"), 143)
    assert.strictEqual(NodeSignals.exitCode("SIGHUP"), 129)
  })

  it("maps signals to Prefect's signal errors", () => {
    assert.instanceOf(NodeSignals.toError("SIGINT"), Failure.InterruptSignal)
    const term = NodeSignals.toError("SIGTERM")
    assert.instanceOf(term, Failure.TerminationSignal)
    assert.strictEqual((term as Failure.TerminationSignal).signal, 15)
    assert.strictEqual((NodeSignals.toError("SIGHUP") as Failure.TerminationSignal).signal, 1)
  })

  it.live("handlers exist only while a run is in progress, and a signal crashes every running run", () =>
    Effect.gen(function*() {
      const before = process.listenerCount("SIGTERM")
      const before2 = process.listenerCount("SIGHUP")
      const fibers = yield* Effect.forEach(
        [["SIGTERM"], ["SIGTERM", "SIGHUP"]] as const,
        (signals) => Effect.forkChild(NodeSignals.runWithSignals(Effect.never, { signals }))
      )
      yield* Effect.sleep("10 millis")
      assert.strictEqual(process.listenerCount("SIGTERM"), before + 1)
      assert.strictEqual(process.listenerCount("SIGHUP"), before2 + 1)
      process.emit("SIGTERM")
      const states = yield* Fiber.joinAll(fibers)
      assert.deepStrictEqual(states.map((s) => [s.type, s.message]), [
        ["CRASHED", "Execution was aborted by a termination signal."],
        ["CRASHED", "Execution was aborted by a termination signal."]
      ])
      assert.strictEqual(process.listenerCount("SIGTERM"), before)
      assert.strictEqual(process.listenerCount("SIGHUP"), before2)
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.live("a run that finishes before any signal is unaffected and removes its handlers", () =>
    Effect.gen(function*() {
      const before = process.listenerCount("SIGINT")
      const state = yield* NodeSignals.runWithSignals(Effect.succeed(5))
      assert.strictEqual(state.type, "COMPLETED")
      assert.strictEqual(process.listenerCount("SIGINT"), before)
      const failed = yield* NodeSignals.runWithSignals(Effect.fail("no"))
      assert.strictEqual(failed.type, "FAILED")
      assert.strictEqual(failed.message, "Error: no")
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})
