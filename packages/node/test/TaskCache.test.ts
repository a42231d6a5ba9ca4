/**
 * Task caching across processes on the Node storage layers: a task run by one
 * store (one "process") leaves a record that a freshly built store of the same
 * layer (another process: its own cache, its own client) finds, so the second
 * run ends `Cached` without running the body. On Redis, whose store locks
 * records by default (SERIALIZABLE), concurrent runs through two separately
 * built stores run the body once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger } from "effect"
import { KeyValueStore } from "effect/persistence"
import * as PgClient from "@effect/sql-pg/PgClient"
import { mkdtempSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ResultStore, StateResult, Task } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"
import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
import { postgresServer, redisServer } from "./servers.ts"

const quiet = Logger.layer([])

/** Runs `task` once through a freshly built `layer`, and returns the state and its value read back. */
const runOn = <E>(layer: Layer.Layer<ResultStore.ResultStore, E>, task: Task.Task<void, { readonly n: number }>) =>
  Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(Layer.fresh(layer))
    const state = yield* Effect.provideContext(Task.run(task), context)
    const value = yield* Effect.provideContext(StateResult.getStateResult(state), context)
    return { name: state.name, value }
  }))

const crossProcess = <E>(layer: Layer.Layer<ResultStore.ResultStore, E>, key: string) =>
  Effect.gen(function*() {
    let calls = 0
    const task = yield* Task.make({ name: "t", cacheKey: key }, () => Effect.sync(() => ({ n: ++calls })))
    const first = yield* runOn(layer, task)
    const second = yield* runOn(layer, task)
    assert.deepStrictEqual(first, { name: "Completed", value: { n: 1 } })
    assert.deepStrictEqual(second, { name: "Cached", value: { n: 1 } })
    assert.strictEqual(calls, 1)
  }).pipe(Effect.provide(quiet))

describe("Task caching across processes", () => {
  it.live("file system", () =>
    crossProcess(NodeResultStore.layerFileSystem(mkdtempSync(path.join(os.tmpdir(), "runstate-task-"))), "cache/a"))

  it.live(
    "Redis, and SERIALIZABLE across two stores: concurrent runs of one key run the body once",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const server = yield* redisServer
        const layer = NodeRedisResultStore.layerRedis({ prefix: "task-cache:" }).pipe(
          Layer.provide(NodeRedisResultStore.layerRedisClient({ url: server.url }))
        )
        yield* crossProcess(layer, "cache-a")

        let calls = 0
        const slow = yield* Task.make(
          { name: "slow", cacheKey: "cache-b" },
          () => Effect.as(Effect.sleep("200 millis"), { n: 0 }).pipe(Effect.tap(() => Effect.sync(() => calls++)))
        )
        const a = yield* Layer.build(Layer.fresh(layer))
        const b = yield* Layer.build(Layer.fresh(layer))
        const states = yield* Effect.all([
          Effect.provideContext(Task.run(slow), a),
          Effect.provideContext(Task.run(slow), b),
          Effect.provideContext(Task.run(slow), a),
          Effect.provideContext(Task.run(slow), b)
        ], { concurrency: "unbounded" }).pipe(Effect.provide(quiet))
        assert.strictEqual(calls, 1)
        assert.deepStrictEqual(states.map((s) => s.name).sort(), ["Cached", "Cached", "Cached", "Completed"])
      })),
    60_000
  )

  it.live("PostgreSQL", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* postgresServer
      const pg = PgClient.layer({
        host: server.host,
        port: server.port,
        username: server.user,
        database: server.database
      })
      const layer = ResultStore.layer().pipe(
        Layer.provide(KeyValueStore.layerSql({ table: "runstate_task_cache" })),
        Layer.provide(pg)
      )
      yield* crossProcess(layer, "cache-a")
    })), 60_000)
})
