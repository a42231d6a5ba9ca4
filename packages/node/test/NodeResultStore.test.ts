/**
 * What is specific to each Node storage layer: Prefect's LocalFileSystem path
 * rules, atomic writes and on-disk layout (both directions) for the file
 * system; prefixes, TTLs, `exists` without the payload and locks for Redis;
 * parameterised keys for PostgreSQL.
 */
import { afterAll, assert, describe, it, layer } from "@effect/vitest"
import { DateTime, Duration, Effect, Exit, Fiber, Layer } from "effect"
import * as Context from "effect/Context"
import { KeyValueStore, Redis } from "effect/persistence"
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import * as PgClient from "@effect/sql-pg/PgClient"
import { SqlClient } from "effect/sql"
import * as fc from "fast-check"
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync
} from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ResultStore, type RunError } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"
import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
import { postgresServer, redisServer } from "./servers.ts"

const seed = process.env.FC_SEED === undefined ? Date.now() % 1_000_000 : Number(process.env.FC_SEED)
console.log(`NodeResultStore.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "runstate-node-"))
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }))
let dirs = 0
/** A fresh directory (symlinks resolved, as the store resolves its base). */
const freshDir = () => {
  const dir = path.join(tmpRoot, `d${dirs++}`)
  mkdirSync(dir, { recursive: true })
  return realpathSync(dir)
}

const failure = (exit: Exit.Exit<unknown, unknown>): { _tag: string; message: string } => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  const reason = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
  assert.isDefined(reason, "expected a typed failure, not a defect")
  return (reason as { error: { _tag: string; message: string } }).error
}

const fixtures = path.join(import.meta.dirname, "fixtures", "prefect-storage")

/** Prefect's JSON serializer fields, as its storage layout writes them. */
const jsonSerializer =
  `{"type":"json","jsonlib":"json","object_encoder":"prefect.serializers.prefect_json_object_encoder","object_decoder":"prefect.serializers.prefect_json_object_decoder","dumps_kwargs":{},"loads_kwargs":{}}`

const withoutVersion = (s: string) => s.replace(/"prefect_version":"[^"]*"/g, `"prefect_version":"*"`)

describe("layerFileSystem: Prefect's LocalFileSystem path rules", () => {
  it.effect("the storage key is the absolute path inside the base directory", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeResultStore.makeFileSystem(dir)
      const record = yield* store.createResultRecord("v", { key: "the-key" })
      assert.strictEqual(record.metadata.storageKey, path.join(dir, "the-key"))
      yield* store.persistResultRecord(record)
      assert.isTrue(existsSync(path.join(dir, "the-key")))
      // Relative and absolute keys name the same file.
      const cold = yield* NodeResultStore.makeFileSystem(dir, { cache: false })
      assert.strictEqual((yield* cold.read("the-key")).result, "v")
      assert.strictEqual((yield* cold.read(path.join(dir, "the-key"))).result, "v")
      // A random key when none is given: 32 hex characters, inside the directory.
      const random = yield* store.createResultRecord("r")
      assert.match(random.metadata.storageKey!, new RegExp(`^${dir}/[0-9a-f]{32}$`))
    }))

  it.effect("an absolute key outside the base is InvalidState with Prefect's message", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeResultStore.makeFileSystem(dir)
      const error = failure(yield* Effect.exit(store.write("x", { key: "/etc/runstate-outside" })))
      assert.strictEqual(error._tag, "InvalidState")
      assert.strictEqual(error.message, `Provided path /etc/runstate-outside is outside of the base path ${dir}.`)
      // A sibling directory sharing the base's name as a prefix is outside too.
      const sibling = `${dir}-sibling/x`
      const siblingError = failure(yield* Effect.exit(store.write("x", { key: sibling })))
      assert.strictEqual(siblingError.message, `Provided path ${sibling} is outside of the base path ${dir}.`)
      assert.isFalse(existsSync(`${dir}-sibling`))
    }))

  it.effect("`..` escapes, NUL bytes and the base itself are typed errors; nothing is written", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeResultStore.makeFileSystem(dir)
      for (const key of ["../escape", "a/../../escape", "a/b/../../../escape", `${dir}/../escape`]) {
        const error = failure(yield* Effect.exit(store.write("x", { key })))
        assert.strictEqual(error._tag, "InvalidState")
        assert.include(error.message, `is outside of the base path ${dir}.`)
      }
      const nul = failure(yield* Effect.exit(store.write("x", { key: "a\u0000b" })))
      assert.strictEqual(nul._tag, "InvalidState")
      assert.include(nul.message, "NUL")
      const base = failure(yield* Effect.exit(store.write("x", { key: dir })))
      assert.strictEqual(base._tag, "InvalidState")
      assert.strictEqual(base.message, `Path ${dir} is not a file.`)
      assert.isFalse(existsSync(path.join(path.dirname(dir), "escape")))
      assert.deepStrictEqual(readdirSync(dir), [])
      // Reads reject the same keys with a typed error.
      for (const key of ["", "../escape", "a\u0000b", "/etc/passwd"]) {
        const error = failure(yield* Effect.exit(store.read(key)))
        assert.oneOf(error._tag, ["InvalidState", "StorageError"])
      }
      // `a/./b` and `a//b` are the same file as `a/b`.
      yield* store.write("same", { key: "a/./b" })
      const cold = yield* NodeResultStore.makeFileSystem(dir, { cache: false })
      assert.strictEqual((yield* cold.read("a//b")).result, "same")
    }))

  it.effect("property: any key either fails typed or lands inside the base directory", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const outside = path.join(path.dirname(dir), `${path.basename(dir)}-outside-marker`)
      const store = yield* NodeResultStore.makeFileSystem(dir, { cache: false, fsync: false })
      const segment = fc.oneof(
        fc.constantFrom("..", ".", "", "a", "b", "..a", "a..", "~", "%2e%2e", "\\..", " "),
        fc.string({ minLength: 1, maxLength: 4 })
      )
      const key = fc.oneof(
        fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => parts.join("/")),
        fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => `${dir}/${parts.join("/")}`),
        fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join("/")}`)
      )
      const samples = fc.sample(key, { numRuns: 300, seed })
      for (const k of samples) {
        // An empty key means "no key" (Prefect: a fresh random key), covered elsewhere.
        if (k === "") continue
        const exit = yield* Effect.exit(store.write(k, { key: k }))
        if (Exit.isSuccess(exit)) {
          const file = path.resolve(dir, k)
          assert.isTrue(file.startsWith(dir + path.sep), `${JSON.stringify(k)} → ${file}`)
          assert.strictEqual((yield* store.read(k)).result, k)
        } else {
          const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
          // Typed: InvalidState for a bad key, StorageError when the OS refuses (e.g. a file where a directory is needed).
          assert.isDefined(reason, `defect for key ${JSON.stringify(k)}`)
          assert.oneOf((reason as { error: { _tag: string } }).error._tag, ["InvalidState", "StorageError"])
        }
      }
      assert.isFalse(existsSync(outside))
      // Nothing was created next to the base directory.
      assert.deepStrictEqual(
        readdirSync(path.dirname(dir)).filter((n) => n.startsWith(path.basename(dir)) && n !== path.basename(dir)),
        []
      )
    }), 60_000)

  it.effect("a missing file is MissingResult `Path {path} does not exist.`; a directory is not a file", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeResultStore.makeFileSystem(dir)
      const missing = failure(yield* Effect.exit(store.read("nope")))
      assert.strictEqual(missing._tag, "MissingResult")
      assert.strictEqual(missing.message, `Path ${path.join(dir, "nope")} does not exist.`)
      assert.strictEqual((missing as unknown as RunError.MissingResult).reason, "NotFound")
      yield* store.write("deep", { key: "a/b/c/d" })
      assert.isTrue(existsSync(path.join(dir, "a/b/c/d")))
      const directory = failure(yield* Effect.exit(store.read("a/b")))
      assert.strictEqual(directory._tag, "StorageError")
      assert.include(directory.message, `Path ${path.join(dir, "a/b")} is not a file.`)
      // A path through a file is missing, not an error.
      const through = failure(yield* Effect.exit(store.read("a/b/c/d/e")))
      assert.strictEqual(through._tag, "MissingResult")
      assert.isFalse(yield* store.exists("a/b"))
      assert.isFalse(yield* store.exists("nope"))
    }))

  it.effect("a write that the OS refuses is a StorageError and leaves no temp file", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeResultStore.makeFileSystem(dir)
      yield* store.write("a file", { key: "file" })
      const error = failure(yield* Effect.exit(store.write("child", { key: "file/child" })))
      assert.strictEqual(error._tag, "StorageError")
      const cold = yield* NodeResultStore.makeFileSystem(dir, { cache: false })
      assert.strictEqual((yield* cold.read("file")).result, "a file")
      assert.deepStrictEqual(readdirSync(dir), ["file"])
    }))
})

describe("layerFileSystem: atomic writes", () => {
  it.live("a concurrent reader never sees a partial file; no temp file is left", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeResultStore.makeFileSystem(dir)
      const file = path.join(dir, "big")
      const value = (i: number) => ({ i, blob: String(i % 10).repeat(256 * 1024) })
      yield* store.write(value(0), { key: "big" })
      let reads = 0
      let done = false
      const reader = yield* Effect.forkChild(Effect.gen(function*() {
        while (!done) {
          const text = readFileSync(file, "utf8")
          const json = JSON.parse(text) as { result: string }
          const inner = JSON.parse(json.result) as { i: number; blob: string }
          assert.strictEqual(inner.blob, String(inner.i % 10).repeat(256 * 1024))
          reads++
          yield* Effect.yieldNow
        }
      }))
      for (let i = 1; i <= 25; i++) yield* store.write(value(i), { key: "big" })
      done = true
      yield* Fiber.join(reader)
      assert.isAbove(reads, 0)
      assert.deepStrictEqual(readdirSync(dir), ["big"])
    }), 60_000)

  it.effect("keys/size skip temp files; removeTemporaryFiles deletes them", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kv = yield* KeyValueStore.KeyValueStore.pipe(
        Effect.provide(NodeResultStore.layerFileSystemKeyValueStore(dir))
      )
      yield* kv.set("x/y", "1")
      yield* kv.set("z", new Uint8Array([0, 255, 1]))
      writeFileSync(path.join(dir, "x", ".dead.runstate-tmp"), "{\"partial")
      assert.deepStrictEqual([...(yield* kv.keys)].sort(), ["x/y", "z"])
      assert.strictEqual(yield* kv.size, 2)
      assert.deepStrictEqual(yield* kv.getUint8Array("z"), new Uint8Array([0, 255, 1]))
      assert.isTrue(yield* kv.has("x/y"))
      assert.isFalse(yield* kv.has("x"))
      assert.strictEqual(yield* NodeResultStore.removeTemporaryFiles(dir), 1)
      assert.deepStrictEqual(readdirSync(path.join(dir, "x")), ["y"])
      yield* kv.remove("x/y")
      yield* kv.remove("x/y")
      assert.isUndefined(yield* kv.get("x/y"))
      yield* kv.clear
      assert.deepStrictEqual(readdirSync(dir), [])
    }))
})

describe("layerFileSystem: Prefect's on-disk layout", () => {
  it.live("reads the records Python Prefect wrote with the JSON serializer", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      cpSync(fixtures, dir, { recursive: true })
      const store = yield* NodeResultStore.makeFileSystem(dir, { cache: false })

      const full = yield* store.read("the-key")
      assert.strictEqual(full.result, "The results are in...")
      assert.strictEqual(full.metadata.storageKey, "/root/.prefect/storage/the-key")
      assert.strictEqual(full.metadata.serializer.type, "json")
      assert.strictEqual(full.metadata.prefectVersion, "3.8.4")
      assert.isTrue(yield* store.exists("the-key"))

      const dict = yield* store.read("dict-key")
      assert.deepStrictEqual(dict.result, { a: [1, 2, 3], b: null })
      assert.strictEqual(DateTime.formatIso(dict.metadata.expiration!), "2024-01-02T03:04:05.678Z")
      // Expired (2024): Prefect's exists answers false, its read still returns the record.
      assert.isFalse(yield* store.exists("dict-key"))

      const unicode = yield* store.read("unicode-key")
      assert.deepStrictEqual(unicode.result, { name: "café", n: 1.5, list: [true, false, null] })

      // Raw flow results read back through the backup serializer; exists answers false for them.
      assert.strictEqual((yield* store.read("flow-result")).result, "The results are in...")
      assert.deepStrictEqual((yield* store.read("flow-dict-result")).result, { a: [1, 2, 3], b: null })
      assert.isFalse(yield* store.exists("flow-result"))

      // Prefect 3.0's result blob (`data`, top-level serializer).
      assert.strictEqual((yield* store.read("old-format")).result, "café")

      // A pickle record cannot be decoded here: a typed error, never a crash.
      const pickle = failure(yield* Effect.exit(store.read("6a1c0b7e5d2f4e8c9b1a3d5f7e9c2b4a")))
      assert.strictEqual(pickle._tag, "SerializationError")
      assert.include(pickle.message, "pickle")
    }))

  it.effect("writes the bytes of Prefect's layout (storage key = our base directory), so Prefect reads ours", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = yield* NodeResultStore.makeFileSystem(dir)
      yield* store.write("The results are in...", { key: "the-key" })
      const expected = readFileSync(path.join(fixtures, "the-key"), "utf8").replace(
        "/root/.prefect/storage",
        dir
      )
      const written = readFileSync(path.join(dir, "the-key"), "utf8")
      assert.strictEqual(withoutVersion(written), withoutVersion(expected))

      const expiration = DateTime.makeUnsafe("2024-01-02T03:04:05.678Z")
      yield* store.write({ a: [1, 2, 3], b: null }, { key: "dict-key", expiration })
      assert.strictEqual(
        withoutVersion(readFileSync(path.join(dir, "dict-key"), "utf8")),
        withoutVersion(
          `{"metadata":{"storage_key":"${dir}/dict-key","expiration":"2024-01-02T03:04:05.678000Z","serializer":${jsonSerializer},"prefect_version":"3.8.4","storage_block_id":null},"result":"{\\"a\\": [1, 2, 3], \\"b\\": null}"}`
        )
      )
    }))

  it.effect("split layout: raw result in the result directory, metadata at the relative key", () =>
    Effect.gen(function*() {
      const results = freshDir()
      const metadata = freshDir()
      const store = yield* NodeResultStore.makeFileSystem(results, { metadataDirectory: metadata })
      yield* store.write("The results are in...", { key: "nested/test" })
      assert.strictEqual(readFileSync(path.join(results, "nested/test"), "utf8"), `"The results are in..."`)
      assert.strictEqual(
        withoutVersion(readFileSync(path.join(metadata, "nested/test"), "utf8")),
        withoutVersion(
          `{"storage_key":"${results}/nested/test","expiration":null,"serializer":${jsonSerializer},"prefect_version":"3.8.4","storage_block_id":null}`
        )
      )
      const cold = yield* NodeResultStore.makeFileSystem(results, { metadataDirectory: metadata, cache: false })
      assert.strictEqual((yield* cold.read("nested/test")).result, "The results are in...")
      assert.isTrue(yield* cold.exists("nested/test"))
      const missing = failure(yield* Effect.exit(cold.read("other")))
      assert.strictEqual(missing.message, `Path ${path.join(metadata, "other")} does not exist.`)
    }))
})

// --- Redis ---------------------------------------------------------------------

class RedisUrl extends Context.Service<RedisUrl, string>()("test/RedisUrl") {}
const redisUrl = Layer.effect(RedisUrl, Effect.map(redisServer, (s) => s.url))
const redisClient = Layer.unwrap(Effect.map(RedisUrl, (url) => NodeRedisResultStore.layerRedisClient({ url }))).pipe(
  Layer.provide(redisUrl)
)

layer(Layer.mergeAll(redisClient, redisUrl), { excludeTestServices: true })("layerRedis", (it) => {
  const storeWith = (options: NodeRedisResultStore.RedisOptions = {}) =>
    Effect.flatMap(Redis.Redis, () => NodeRedisResultStore.makeRedis(options))
  const raw = (...args: Array<string>) =>
    Effect.flatMap(Redis.Redis, (r) => r.send<unknown>(args[0]!, ...args.slice(1)))

  it.effect("records live under the prefix, as Prefect's envelope", () =>
    Effect.gen(function*() {
      const store = yield* storeWith({ prefix: "p1:" })
      yield* store.write("The results are in...", { key: "the-key" })
      const stored = (yield* raw("GET", "p1:the-key")) as string
      assert.strictEqual(
        withoutVersion(stored),
        withoutVersion(
          `{"metadata":{"storage_key":"the-key","expiration":null,"serializer":${jsonSerializer},"prefect_version":"3.8.4","storage_block_id":null},"result":"\\"The results are in...\\""}`
        )
      )
      assert.strictEqual(yield* raw("PTTL", "p1:the-key"), -1)
      const defaultStore = yield* storeWith()
      yield* defaultStore.write(1, { key: "default-prefix" })
      assert.strictEqual(yield* raw("EXISTS", "runstate:default-prefix"), 1)
    }))

  it.effect("a record with an expiration gets a TTL; an expired one is deleted by Redis", () =>
    Effect.gen(function*() {
      const store = yield* storeWith({ prefix: "ttl:", cache: false })
      const now = yield* DateTime.now
      yield* store.write("ten minutes", { key: "later", expiration: DateTime.add(now, { minutes: 10 }) })
      const pttl = Number(yield* raw("PTTL", "ttl:later"))
      assert.isAbove(pttl, 9 * 60_000)
      assert.isAtMost(pttl, 10 * 60_000)
      yield* store.write("already expired", { key: "past", expiration: DateTime.add(now, { seconds: -1 }) })
      assert.strictEqual(yield* raw("EXISTS", "ttl:past"), 0)
      const missing = failure(yield* Effect.exit(store.read("past")))
      assert.strictEqual(missing._tag, "MissingResult")
      yield* store.write("short", { key: "short", expiration: DateTime.add(now, { milliseconds: 150 }) })
      assert.isTrue(yield* store.exists("short"))
      yield* Effect.sleep(Duration.millis(250))
      assert.strictEqual(yield* raw("EXISTS", "ttl:short"), 0)
      assert.isFalse(yield* store.exists("short"))
    }))

  it.effect("exists sends EXISTS and never reads the payload", () =>
    Effect.gen(function*() {
      const store = yield* storeWith({ prefix: "ex:", cache: false })
      yield* store.write("x".repeat(100_000), { key: "k" })
      yield* raw("CONFIG", "RESETSTAT")
      assert.isTrue(yield* store.exists("k"))
      assert.isFalse(yield* store.exists("absent"))
      const stats = String(yield* raw("INFO", "commandstats"))
      assert.match(stats, /cmdstat_exists:calls=2,/)
      assert.notMatch(stats, /cmdstat_get:/)
    }))

  it.effect("keys cannot escape the prefix: any bytes are one literal key", () =>
    Effect.gen(function*() {
      const kv = yield* KeyValueStore.KeyValueStore.pipe(
        Effect.provide(NodeRedisResultStore.layerRedisKeyValueStore({ prefix: "jail:" }))
      )
      yield* raw("SET", "victim", "safe")
      const nasty = ["x\r\nFLUSHALL\r\n", "*", "../victim", "victim", "jail:", "\u0000", "a b", "[a-z]?"]
      for (const key of nasty) yield* kv.set(key, `value of ${JSON.stringify(key)}`)
      for (const key of nasty) {
        assert.strictEqual(yield* kv.get(key), `value of ${JSON.stringify(key)}`)
        assert.strictEqual(yield* raw("EXISTS", `jail:${key}`), 1)
      }
      assert.strictEqual(yield* raw("GET", "victim"), "safe")
      assert.deepStrictEqual([...(yield* kv.keys)].sort(), [...nasty].sort())
      // Glob characters in a prefix match literally.
      const globbed = yield* KeyValueStore.KeyValueStore.pipe(
        Effect.provide(NodeRedisResultStore.layerRedisKeyValueStore({ prefix: "j*:" }))
      )
      yield* globbed.set("only", "1")
      assert.deepStrictEqual(yield* globbed.keys, ["only"])
      yield* globbed.clear
      assert.strictEqual(yield* kv.size, nasty.length)
      // Bytes that are not UTF-8 round-trip.
      yield* kv.set("bin", new Uint8Array([0xff, 0x00, 0xfe]))
      assert.deepStrictEqual(yield* kv.getUint8Array("bin"), new Uint8Array([0xff, 0x00, 0xfe]))
      yield* kv.clear
      assert.strictEqual(yield* kv.size, 0)
      assert.strictEqual(yield* raw("GET", "victim"), "safe")
    }))

  it.effect("locks are SET NX PX keys released by compare-and-delete; hold timeouts expire", () =>
    Effect.gen(function*() {
      const store = yield* storeWith({ prefix: "lk:" })
      assert.isTrue(yield* store.acquireLock("job", { holder: "a" }))
      assert.strictEqual(yield* raw("GET", "lk-lock:job"), "a")
      assert.strictEqual(yield* raw("PTTL", "lk-lock:job"), -1)
      const error = failure(yield* Effect.exit(store.releaseLock("job", { holder: "b" })))
      assert.strictEqual(error.message, "No lock held by b for transaction with key job")
      assert.strictEqual(yield* raw("GET", "lk-lock:job"), "a")
      yield* store.releaseLock("job", { holder: "a" })
      assert.strictEqual(yield* raw("EXISTS", "lk-lock:job"), 0)

      const locks = yield* NodeRedisResultStore.lockManagerRedis({ prefix: "hold:" })
      assert.isTrue(yield* locks.acquire("k", "a", { holdTimeout: Duration.millis(150) }))
      const pttl = Number(yield* raw("PTTL", "hold:k"))
      assert.isAbove(pttl, 0)
      assert.isAtMost(pttl, 150)
      assert.isFalse(yield* locks.acquire("k", "b", { timeout: 0 }))
      // b gets it once a's hold expires.
      assert.isTrue(yield* locks.acquire("k", "b", { timeout: "2 seconds" }))
      assert.isTrue(yield* locks.isLockHolder("k", "b"))
      assert.isTrue(isErrorTag(yield* Effect.exit(locks.release("k", "a")), "InvalidState"))
      yield* locks.release("k", "b")
    }))

  it.effect("two clients (two processes' worth) exclude each other", () =>
    Effect.gen(function*() {
      const url = yield* RedisUrl
      const second = yield* Layer.build(NodeRedisResultStore.layerRedisClient({ url }))
      const mine = yield* NodeRedisResultStore.lockManagerRedis({ prefix: "xproc:" })
      const theirs = yield* NodeRedisResultStore.lockManagerRedis({ prefix: "xproc:" }).pipe(Effect.provide(second))
      let inside = 0
      let max = 0
      const work = (locks: typeof mine, holder: string) =>
        Effect.gen(function*() {
          for (let i = 0; i < 10; i++) {
            assert.isTrue(yield* locks.acquire("shared", holder, { timeout: "10 seconds" }))
            inside++
            max = Math.max(max, inside)
            yield* Effect.sleep(Duration.millis(1))
            inside--
            yield* locks.release("shared", holder)
          }
        })
      yield* Effect.all([work(mine, "p1"), work(theirs, "p2")], { concurrency: 2 })
      assert.strictEqual(max, 1)
      const client = yield* NodeRedis.NodeRedis.pipe(Effect.provide(second))
      assert.isTrue(client.client.isReady)
    }), 30_000)
})

const isErrorTag = (exit: Exit.Exit<unknown, unknown>, tag: string) =>
  Exit.isFailure(exit) &&
  exit.cause.reasons.some((r) => r._tag === "Fail" && (r.error as { _tag: string })._tag === tag)

// --- PostgreSQL ------------------------------------------------------------------

const pg = Layer.unwrap(Effect.map(postgresServer, (server) =>
  PgClient.layer({
    host: server.host,
    port: server.port,
    username: server.user,
    database: server.database
  })))

layer(pg, { excludeTestServices: true, timeout: "60 seconds" })("PostgreSQL recipe", (it) => {
  it.effect("keys are parameters: `x'; DROP TABLE ...` is just a key", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const store = yield* ResultStore.ResultStore.pipe(
        Effect.provide(
          ResultStore.layer({ cache: false }).pipe(
            Layer.provide(KeyValueStore.layerSql({ table: "runstate_results" }))
          )
        )
      )
      const nasty = [
        "x'; DROP TABLE runstate_results; --",
        "x\"; DROP TABLE runstate_results; --",
        "'); DELETE FROM runstate_results WHERE ('1'='1",
        "\\x00' OR '1'='1",
        "%_%"
      ]
      yield* store.write("keep me", { key: "victim" })
      for (const key of nasty) yield* store.write({ key }, { key })
      for (const key of nasty) assert.deepStrictEqual((yield* store.read(key)).result, { key })
      assert.strictEqual((yield* store.read("victim")).result, "keep me")
      const rows = yield* sql<{ id: string }>`SELECT id FROM runstate_results ORDER BY id`
      assert.deepStrictEqual(rows.map((r) => r.id).sort(), [...nasty, "victim"].sort())
      // LIKE wildcards in a prefix match literally.
      const kv = yield* KeyValueStore.KeyValueStore.pipe(
        Effect.provide(KeyValueStore.layerSql({ table: "runstate_results" }))
      )
      yield* kv.clearPrefix("%")
      assert.strictEqual((yield* store.read("victim")).result, "keep me")
      assert.isFalse(yield* store.exists("%_%"))
    }))
})
