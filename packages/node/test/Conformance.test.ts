/**
 * Runs the shared conformance suite against every `ResultStore` layer:
 * memory, `ResultStore.layer` over `KeyValueStore.layerMemory`, the file
 * system, Redis and PostgreSQL (the last two against real servers started
 * here).
 */
import { afterAll } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Context from "effect/Context"
import { KeyValueStore } from "effect/persistence"
import * as PgClient from "@effect/sql-pg/PgClient"
import { mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ResultStore } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"
import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
import { suite } from "./conformance.ts"
import { type PostgresServer, postgresServer, type RedisServer, redisServer } from "./servers.ts"

const withLocks = <E, R>(
  f: (lockManager: ResultStore.LockManagerShape) => Layer.Layer<ResultStore.ResultStore, E, R>
): Layer.Layer<ResultStore.ResultStore, E, R> => Layer.unwrap(Effect.map(ResultStore.lockManagerMemory, f))

// --- memory -----------------------------------------------------------------

suite("ResultStore.layerMemory", { layer: ResultStore.layerMemory, locks: false })

const kv = KeyValueStore.layerMemory
suite("ResultStore.layer over KeyValueStore.layerMemory (memory lock manager)", {
  layer: withLocks((lockManager) => ResultStore.layer({ lockManager })).pipe(Layer.provide(kv)),
  uncached: ResultStore.layer({ cache: false }).pipe(Layer.provide(kv)),
  split: Layer.effect(
    ResultStore.ResultStore,
    Effect.gen(function*() {
      // Two distinct in-memory stores (`Layer.fresh`: not the memoized one).
      const store = yield* KeyValueStore.KeyValueStore.pipe(Effect.provide(Layer.fresh(KeyValueStore.layerMemory)))
      const metadataStore = yield* KeyValueStore.KeyValueStore.pipe(
        Effect.provide(Layer.fresh(KeyValueStore.layerMemory))
      )
      return yield* ResultStore.make({ store, metadataStore, cache: false })
    })
  ),
  locks: true
})

// --- file system ------------------------------------------------------------

const tmp = mkdtempSync(path.join(os.tmpdir(), "runstate-conformance-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const results = path.join(tmp, "results")

suite("NodeResultStore.layerFileSystem (memory lock manager)", {
  layer: withLocks((lockManager) => NodeResultStore.layerFileSystem(results, { lockManager })),
  uncached: NodeResultStore.layerFileSystem(results, { cache: false }),
  split: NodeResultStore.layerFileSystem(path.join(tmp, "split-results"), {
    metadataDirectory: path.join(tmp, "split-metadata"),
    cache: false
  }),
  locks: true
})

// --- Redis --------------------------------------------------------------------

class RedisServerTag extends Context.Service<RedisServerTag, RedisServer>()("test/RedisServer") {}
const redis = Layer.effect(RedisServerTag, redisServer)
const onRedis = (options: NodeRedisResultStore.RedisOptions) =>
  Layer.unwrap(Effect.map(RedisServerTag, (server) =>
    NodeRedisResultStore.layerRedis(options).pipe(
      Layer.provide(NodeRedisResultStore.layerRedisClient({ url: server.url }))
    ))).pipe(Layer.provide(redis))

suite("NodeRedisResultStore.layerRedis", {
  layer: onRedis({ prefix: "conformance:" }),
  uncached: onRedis({ prefix: "conformance:", cache: false }),
  split: Layer.unwrap(Effect.map(RedisServerTag, (server) =>
    Layer.effect(
      ResultStore.ResultStore,
      Effect.gen(function*() {
        const store = yield* KeyValueStore.KeyValueStore.pipe(
          Effect.provide(NodeRedisResultStore.layerRedisKeyValueStore({ prefix: "split-results:" }))
        )
        const metadataStore = yield* KeyValueStore.KeyValueStore.pipe(
          Effect.provide(NodeRedisResultStore.layerRedisKeyValueStore({ prefix: "split-metadata:" }))
        )
        return yield* ResultStore.make({ store, metadataStore, cache: false })
      })
    ).pipe(Layer.provide(NodeRedisResultStore.layerRedisClient({ url: server.url }))))).pipe(Layer.provide(redis)),
  locks: true,
  deletesExpired: true
})

// --- PostgreSQL ---------------------------------------------------------------

class PostgresServerTag extends Context.Service<PostgresServerTag, PostgresServer>()("test/PostgresServer") {}
const postgres = Layer.effect(PostgresServerTag, postgresServer)
const pg = Layer.unwrap(Effect.map(PostgresServerTag, (server) =>
  PgClient.layer({
    host: server.host,
    port: server.port,
    username: server.user,
    database: server.database,
    maxConnections: 16
  }))).pipe(Layer.provide(postgres))
const sqlKv = KeyValueStore.layerSql({ table: "runstate_results" }).pipe(Layer.provide(pg))

suite("ResultStore.layer over KeyValueStore.layerSql (PostgreSQL)", {
  layer: ResultStore.layer().pipe(Layer.provide(sqlKv)),
  uncached: ResultStore.layer({ cache: false }).pipe(Layer.provide(sqlKv)),
  split: Layer.effect(
    ResultStore.ResultStore,
    Effect.gen(function*() {
      const store = yield* KeyValueStore.KeyValueStore.pipe(
        Effect.provide(KeyValueStore.layerSql({ table: "runstate_split_results" }))
      )
      const metadataStore = yield* KeyValueStore.KeyValueStore.pipe(
        Effect.provide(KeyValueStore.layerSql({ table: "runstate_split_metadata" }))
      )
      return yield* ResultStore.make({ store, metadataStore, cache: false })
    })
  ).pipe(Layer.provide(pg)),
  locks: false
})
