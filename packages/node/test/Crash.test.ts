/**
 * Process-level faults:
 *
 * (a) a writer child (fixtures/writer.ts) writes records through
 *     `NodeResultStore.layerFileSystem` in a loop and is killed with SIGKILL at
 *     random moments, 20 times. Afterwards every record file in the directory
 *     is complete and readable, every acknowledged write is there (or a later
 *     one), and the temp files of interrupted writes are ignored by `keys`
 *     and removed by `removeTemporaryFiles`;
 * (b) `redis-server` is stopped and restarted during a run: while it is down
 *     operations fail with a typed `StorageError` (quickly: no hang), and they
 *     succeed once it is back.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer } from "effect"
import { KeyValueStore } from "effect/persistence"
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { ResultStore } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"
import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
import { keyAt, slots, valueAt } from "./fixtures/writer.ts"
import { redisServer } from "./servers.ts"

const seed = process.env.CRASH_SEED === undefined ? Date.now() % 1_000_000 : Number(process.env.CRASH_SEED)
console.log(`Crash.test.ts seed: ${seed} (replay with CRASH_SEED=${seed})`)
let state = seed
const random = () => {
  state = (state * 1103515245 + 12345) % 2147483648
  return state / 2147483648
}

const writer = path.join(import.meta.dirname, "fixtures", "writer.ts")

/** Runs the writer from `first`, kills it with SIGKILL `delay` ms after its first ack; answers the acked indices. */
const runAndKill = (directory: string, first: number, delay: number): Promise<Array<number>> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, directory, String(first)], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    let timer: NodeJS.Timeout | undefined
    const giveUp = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`writer never acknowledged a write: ${err}`))
    }, 20_000)
    child.stdout.on("data", (chunk) => {
      out += chunk.toString()
      if (timer === undefined && out.includes("\n")) {
        clearTimeout(giveUp)
        timer = setTimeout(() => child.kill("SIGKILL"), delay)
      }
    })
    child.stderr.on("data", (chunk) => {
      err += chunk.toString()
    })
    child.once("exit", (code, signal) => {
      clearTimeout(giveUp)
      if (signal !== "SIGKILL") {
        reject(new Error(`writer exited on its own (code ${code}): ${err}`))
        return
      }
      // Only whole lines are acknowledgements.
      const lines = out.split("\n")
      lines.pop()
      resolve(lines.map(Number))
    })
  })

describe("crash: SIGKILL during file-system writes", () => {
  it.live("20 kills leave only complete, readable records; acknowledged writes survive", () =>
    Effect.gen(function*() {
      const directory = mkdtempSync(path.join(os.tmpdir(), "runstate-crash-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(directory, { recursive: true, force: true })))
      /** The last acknowledged index per slot. */
      const acked = new Map<number, number>()
      let next = 0
      for (let round = 0; round < 20; round++) {
        const acks = yield* Effect.promise(() => runAndKill(directory, next, Math.floor(5 + random() * 120)))
        assert.isAbove(acks.length, 0)
        for (const i of acks) acked.set(i % slots, Math.max(acked.get(i % slots) ?? -1, i))
        // The next writer starts well past anything this one may have written unacknowledged.
        next = Math.max(...acks) + 1_000
      }

      const files = readdirSync(directory, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.relative(directory, path.join(e.parentPath, e.name)))
      const temporary = files.filter((f) => f.endsWith(".runstate-tmp"))
      const records = files.filter((f) => !f.endsWith(".runstate-tmp"))
      assert.isAtLeast(records.length, 1)
      console.log(`crash test: ${records.length} record files, ${temporary.length} temp files left by killed writers`)

      // Every record file parses as a whole record, with the value written at its index.
      for (const file of records) {
        const bytes = yield* Effect.promise(() => fs.readFile(path.join(directory, file), "utf8"))
        assert.doesNotThrow(() => JSON.parse(bytes), undefined, `partial file ${file}`)
      }
      const store = yield* NodeResultStore.makeFileSystem(directory, { cache: false })
      for (let slot = 0; slot < slots; slot++) {
        const last = acked.get(slot)
        if (last === undefined) continue
        const record = yield* store.read(keyAt(slot))
        const value = record.result as { i: number; payload: string }
        assert.strictEqual(value.i % slots, slot)
        assert.deepStrictEqual(value, valueAt(value.i))
        // Nothing acknowledged is lost: the file holds the acked write or a later one.
        assert.isAtLeast(value.i, last)
      }

      // Temp files of interrupted writes are invisible to the store and can be removed.
      const kv = yield* KeyValueStore.KeyValueStore.pipe(
        Effect.provide(NodeResultStore.layerFileSystemKeyValueStore(directory))
      )
      const listed = yield* kv.keys
      assert.deepStrictEqual([...listed].sort(), [...records].sort())
      assert.strictEqual(yield* NodeResultStore.removeTemporaryFiles(directory), temporary.length)
      const remaining = readdirSync(directory, { recursive: true }).map(String)
      assert.isFalse(remaining.some((f) => f.endsWith(".runstate-tmp")))
    }), 120_000)
})

describe("crash: redis-server restarted during a run", () => {
  it.live(
    "operations fail with StorageError while Redis is down and succeed once it is back",
    () =>
      Effect.gen(function*() {
        const server = yield* redisServer
        const context = yield* Layer.build(
          NodeRedisResultStore.layerRedis({ prefix: "restart:", cache: false }).pipe(
            Layer.provide(NodeRedisResultStore.layerRedisClient({ url: server.url }))
          )
        )
        const store = ResultStore.ResultStore.pipe(Effect.provide(context))
        const write = (value: unknown, key: string) => Effect.flatMap(store, (s) => s.write(value, { key }))
        const read = (key: string) => Effect.flatMap(store, (s) => s.read(key))

        yield* write("before", "a")
        assert.strictEqual((yield* read("a")).result, "before")

        yield* Effect.promise(server.stop)
        // Every operation fails with a typed StorageError, and fails fast.
        for (let i = 0; i < 5; i++) {
          const start = Date.now()
          const failedWrite = yield* Effect.exit(write("while down", `down-${i}`))
          const failedRead = yield* Effect.exit(read("a"))
          const failedExists = yield* Effect.flatMap(store, (s) => s.exists("a"))
          assert.isTrue(Exit.isFailure(failedWrite))
          assert.isTrue(Exit.isFailure(failedRead))
          for (const exit of [failedWrite, failedRead] as ReadonlyArray<Exit.Exit<unknown, unknown>>) {
            if (Exit.isFailure(exit)) {
              const error = exit.cause.reasons.find((r) => r._tag === "Fail")
              assert.isDefined(error, "a typed failure, not a defect")
              assert.strictEqual((error as { error: { _tag: string } }).error._tag, "StorageError")
            }
          }
          assert.isFalse(failedExists)
          assert.isBelow(Date.now() - start, 6_000)
          yield* Effect.sleep(Duration.millis(50))
        }

        yield* Effect.promise(server.start)
        // The client reconnects in the background; writes succeed again within a few seconds.
        const deadline = Date.now() + 15_000
        let recovered = false
        while (Date.now() < deadline) {
          const exit = yield* Effect.exit(write("after", "b"))
          if (Exit.isSuccess(exit)) {
            recovered = true
            break
          }
          yield* Effect.sleep(Duration.millis(100))
        }
        assert.isTrue(recovered, "writes succeed once Redis is back")
        assert.strictEqual((yield* read("b")).result, "after")
      }),
    60_000
  )
})
