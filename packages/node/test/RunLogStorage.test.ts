/**
 * The run history persisted on every storage layer: the run-history suite
 * (packages/core/test/runLogSuite.ts) over effect's file-system
 * `KeyValueStore`, runstate's atomic file-system store, Redis and PostgreSQL
 * (`KeyValueStore.layerSql`). Each test writes through one handle and reads
 * back through a fresh one, as another process would; one test does it from
 * another process.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Layer, ManagedRuntime } from "effect"
import * as Context from "effect/Context"
import { KeyValueStore } from "effect/persistence"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as PgClient from "@effect/sql-pg/PgClient"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { RunLog } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"
import { runLogSuite } from "../../core/test/runLogSuite.ts"
import { type PostgresServer, postgresServer, type RedisServer, redisServer } from "./servers.ts"

const tmp = mkdtempSync(path.join(os.tmpdir(), "runstate-runlog-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const effectFiles = KeyValueStore.layerFileSystem(path.join(tmp, "effect-fs")).pipe(
  Layer.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer))
)
runLogSuite("KeyValueStore.layerFileSystem (@effect/platform-node)", effectFiles)

runLogSuite(
  "NodeResultStore.layerFileSystemKeyValueStore",
  NodeResultStore.layerFileSystemKeyValueStore(path.join(tmp, "atomic-fs"))
)

// One server per storage for the whole file (started on first use, stopped at the end), so that
// every handle the suite opens is on the same storage.
class RedisServerTag extends Context.Service<RedisServerTag, RedisServer>()("test/RunLogRedisServer") {}
const redisRuntime = ManagedRuntime.make(Layer.effect(RedisServerTag, redisServer))
afterAll(() => redisRuntime.dispose())
runLogSuite(
  "NodeResultStore.layerRedisKeyValueStore (Redis)",
  Layer.unwrap(
    Effect.map(
      Effect.promise(() => redisRuntime.runPromise(Effect.service(RedisServerTag))),
      (server) =>
        NodeResultStore.layerRedisKeyValueStore({ prefix: "history:" }).pipe(
          Layer.provide(NodeResultStore.layerRedisClient({ url: server.url }))
        )
    )
  )
)

class PostgresServerTag extends Context.Service<PostgresServerTag, PostgresServer>()("test/RunLogPostgresServer") {}
const postgresRuntime = ManagedRuntime.make(Layer.effect(PostgresServerTag, postgresServer))
afterAll(() => postgresRuntime.dispose())
runLogSuite(
  "KeyValueStore.layerSql (PostgreSQL)",
  KeyValueStore.layerSql({ table: "runstate_history" }).pipe(
    Layer.provide(Layer.unwrap(
      Effect.map(
        Effect.promise(() => postgresRuntime.runPromise(Effect.service(PostgresServerTag))),
        (server) =>
          PgClient.layer({
            host: server.host,
            port: server.port,
            username: server.user,
            database: server.database,
            maxConnections: 4
          })
      )
    ))
  )
)

describe("RunLog over files, across processes", () => {
  it.effect("a history written by another process reads back in this one", () =>
    Effect.gen(function*() {
      const dir = path.join(tmp, "cross-process")
      execFileSync(process.execPath, [path.join(import.meta.dirname, "fixtures", "history-writer.ts"), dir], {
        stdio: "pipe"
      })
      const log = yield* RunLog.makeKeyValueStore().pipe(
        Effect.provide(NodeResultStore.layerFileSystemKeyValueStore(dir))
      )
      const history = yield* log.history("child")
      assert.deepStrictEqual(history.map((t) => [t.from?.name, t.to.name, t.runCount]), [
        [undefined, "Pending", 0],
        ["Pending", "Running", 1],
        ["Running", "Completed", 1]
      ])
      assert.deepStrictEqual(history[2]!.to.data, { rows: 3 })
      assert.strictEqual(history[2]!.to.timestamp.epochMilliseconds, Date.UTC(2026, 0, 1, 0, 0, 2))
      assert.deepStrictEqual((yield* log.runs()).map((r) => [r.runId, r.name, r.transitions]), [[
        "child",
        "child-task",
        3
      ]])
    }))
})
