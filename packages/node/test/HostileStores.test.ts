/**
 * The standing hostile-input suite for the Node stores: inputs and
 * environments chosen to break them, each probe bounded in time (a hang fails
 * the test instead of stalling it) and in memory.
 *
 * - file store: symbolic links out of the base directory (a directory link, an
 *   absolute key through it, a link at the key itself, a link to `/dev/zero`),
 *   FIFOs at a key or named by split-layout metadata, reserved temp-file names,
 *   keys starting with `..`, lone surrogates, a full disk and a read-only file
 *   system (a small tmpfs in a private mount namespace, via `unshare`);
 * - every store: prototype-pollution keys and values, 100,000-deep nesting,
 *   50 MB strings;
 * - Redis: a server that stops answering (SIGSTOP) — every operation, lock
 *   waits included, fails within the command timeout, 5 s by default — and
 *   closing the layer with a command in flight finishes within its bound.
 *
 * Other hostile probes live beside the code they exercise (see
 * `docs/security.md` for the full list): SIGKILL during writes and Redis
 * restarts in `Crash.test.ts`, CRLF and glob keys in Redis and SQL-injection
 * keys in `NodeResultStore.test.ts`, lone-surrogate keys, `..` keys and
 * invalid lock timeouts for every layer in the conformance suite.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { KeyValueStore } from "effect/persistence"
import { SqlClient } from "effect/sql"
import * as PgClient from "@effect/sql-pg/PgClient"
import { execFileSync, spawn } from "node:child_process"
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync
} from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { ResultStore } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"
import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
import { findBinary, postgresServer, redisServer } from "./servers.ts"

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "runstate-hostile-"))
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }))
let dirs = 0
/** A fresh directory (symlinks resolved). */
const freshDir = (name = "d") => {
  const dir = path.join(tmpRoot, `${name}${dirs++}`)
  mkdirSync(dir, { recursive: true })
  return realpathSync(dir)
}

interface Failure {
  readonly _tag: string
  readonly message: string
}

const failure = (exit: Exit.Exit<unknown, unknown>): Failure => {
  assert.isTrue(Exit.isFailure(exit), `expected a failure, got ${String(exit)}`)
  const reason = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
  assert.isDefined(reason, `expected a typed failure, not a defect: ${String(exit)}`)
  return (reason as { error: Failure }).error
}

/** Fails the test (instead of hanging it) when `effect` takes longer than `ms`. */
const within = <A, E, R>(ms: number, what: string, effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutOrElse(effect, {
    duration: Duration.millis(ms),
    orElse: () => Effect.die(new Error(`${what} did not finish within ${ms} ms`))
  })

/** Every file and directory under `dir` with its contents: what "nothing touched" compares. */
const snapshot = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name)
    out[path.relative(dir, file)] = entry.isFile()
      ? readFileSync(file, "utf8")
      : `<${entry.isDirectory() ? "dir" : "other"}>`
  }
  return out
}

const kvOver = (dir: string) =>
  KeyValueStore.KeyValueStore.pipe(Effect.provide(NodeResultStore.layerFileSystemKeyValueStore(dir)))

describe("hostile: file store and symbolic links", () => {
  it.effect("a directory link inside the base never leads outside: InvalidState, nothing outside touched", () =>
    Effect.gen(function*() {
      const root = freshDir("links")
      const base = path.join(root, "base")
      const outside = path.join(root, "outside")
      const elsewhere = yield* NodeResultStore.makeFileSystem(outside, { cache: false })
      yield* elsewhere.write({ secret: true }, { key: "secret.json" })
      mkdirSync(base)
      symlinkSync(outside, path.join(base, "link"))
      // A chain: a link to a link that leads outside.
      symlinkSync(path.join(base, "link"), path.join(base, "chain"))
      const before = snapshot(outside)
      const store = yield* NodeResultStore.makeFileSystem(base, { cache: false })

      for (const key of ["link/x", "link/new/deeper/x", `${base}/link/x`, "chain/x", "link/secret.json"]) {
        const error = failure(yield* Effect.exit(store.write("overwrite", { key })))
        assert.strictEqual(error._tag, "InvalidState", key)
        assert.include(error.message, `is outside of the base path ${base}`)
      }
      for (const key of ["link/secret.json", `${base}/link/secret.json`, "chain/secret.json"]) {
        assert.strictEqual(failure(yield* Effect.exit(store.read(key)))._tag, "InvalidState", key)
        assert.isFalse(yield* store.exists(key))
      }
      // The key-value layer itself refuses too.
      const kv = yield* kvOver(base)
      assert.include(failure(yield* Effect.exit(kv.set("link/x", "v"))).message, "outside of the base path")
      assert.include(failure(yield* Effect.exit(kv.get("link/secret.json"))).message, "outside of the base path")
      assert.include(failure(yield* Effect.exit(kv.remove("link/secret.json"))).message, "outside of the base path")
      assert.include(failure(yield* Effect.exit(kv.has("link/secret.json"))).message, "outside of the base path")
      // Listing does not walk through links.
      assert.deepStrictEqual([...(yield* kv.keys)], [])

      assert.deepStrictEqual(snapshot(outside), before)
      assert.isFalse(existsSync(path.join(outside, "x")))
      assert.isFalse(existsSync(path.join(outside, "new")))
    }))

  it.effect("links that stay inside the base work; a link at the key is followed only inside", () =>
    Effect.gen(function*() {
      const root = freshDir("inner")
      const base = path.join(root, "base")
      const outside = path.join(root, "outside")
      mkdirSync(path.join(base, "real"), { recursive: true })
      mkdirSync(outside)
      writeFileSync(path.join(outside, "secret.json"), "{\"secret\":true}")
      symlinkSync(path.join(base, "real"), path.join(base, "alias"))
      symlinkSync(path.join(outside, "secret.json"), path.join(base, "file-link"))
      symlinkSync("/dev/zero", path.join(base, "zero"))
      const store = yield* NodeResultStore.makeFileSystem(base, { cache: false })

      // A directory link inside the base is an ordinary directory.
      yield* store.write({ v: 1 }, { key: "alias/x" })
      assert.deepStrictEqual((yield* store.read("real/x")).result, { v: 1 })
      symlinkSync(path.join(base, "real", "x"), path.join(base, "x-link"))
      assert.deepStrictEqual((yield* store.read("x-link")).result, { v: 1 })

      // A link at the key leading outside (or to a device) is never read, and fails fast.
      for (const key of ["file-link", "zero"]) {
        const error = failure(yield* within(5_000, `reading ${key}`, Effect.exit(store.read(key))))
        assert.strictEqual(error._tag, "StorageError", key)
        assert.include(error.message, "outside of the base path")
        assert.isFalse(yield* store.exists(key))
      }
      // Writing at such a key replaces the link itself; the target is untouched.
      yield* store.write("mine", { key: "file-link" })
      assert.strictEqual(readFileSync(path.join(outside, "secret.json"), "utf8"), "{\"secret\":true}")
      assert.isFalse(lstatSync(path.join(base, "file-link")).isSymbolicLink())
      assert.strictEqual((yield* store.read("file-link")).result, "mine")
    }))
})

describe("hostile: file store and special files", () => {
  it.live("a FIFO at a key never blocks read or exists: a typed error, at once", () =>
    Effect.gen(function*() {
      const base = freshDir("fifo")
      const mkfifo = findBinary("mkfifo", ["/usr/bin", "/bin"])
      mkdirSync(path.join(base, "d"))
      execFileSync(mkfifo, [path.join(base, "fifo")])
      execFileSync(mkfifo, [path.join(base, "d", "fifo")])
      symlinkSync(path.join(base, "fifo"), path.join(base, "fifo-link"))
      const store = yield* NodeResultStore.makeFileSystem(base, { cache: false })
      const kv = yield* kvOver(base)
      for (const key of ["fifo", "d/fifo", "fifo-link"]) {
        const error = failure(yield* within(5_000, `read ${key}`, Effect.exit(store.read(key))))
        assert.strictEqual(error._tag, "StorageError", key)
        assert.include(error.message, "is not a regular file")
        assert.isFalse(yield* within(5_000, `exists ${key}`, store.exists(key)))
        assert.include(failure(yield* within(5_000, `get ${key}`, Effect.exit(kv.get(key)))).message, "not a regular")
        assert.isFalse(yield* within(5_000, `has ${key}`, kv.has(key)))
      }
      assert.deepStrictEqual([...(yield* kv.keys)], [])
    }))

  it.live("split layout: a FIFO as the result or as the metadata never blocks", () =>
    Effect.gen(function*() {
      const results = freshDir("split-results")
      const metadata = freshDir("split-metadata")
      const mkfifo = findBinary("mkfifo", ["/usr/bin", "/bin"])
      const store = yield* NodeResultStore.makeFileSystem(results, { metadataDirectory: metadata, cache: false })
      yield* store.write({ v: 1 }, { key: "r" })
      yield* store.write({ v: 2 }, { key: "m" })
      unlinkSync(path.join(results, "r"))
      execFileSync(mkfifo, [path.join(results, "r")])
      unlinkSync(path.join(metadata, "m"))
      execFileSync(mkfifo, [path.join(metadata, "m")])
      for (const key of ["r", "m"]) {
        const error = failure(yield* within(5_000, `read ${key}`, Effect.exit(store.read(key))))
        assert.strictEqual(error._tag, "StorageError", key)
        assert.include(error.message, "is not a regular file")
      }
      assert.isFalse(yield* within(5_000, "exists m", store.exists("m")))
    }))
})

describe("hostile: file store key names", () => {
  it.effect("temp-file names are reserved; keys ending in the temp suffix are ordinary", () =>
    Effect.gen(function*() {
      const base = freshDir("tmpnames")
      const store = yield* NodeResultStore.makeFileSystem(base, { cache: false })
      for (const key of [".runstate-tmp.x", "a/.runstate-tmp.y.runstate-tmp"]) {
        const error = failure(yield* Effect.exit(store.write("v", { key })))
        assert.strictEqual(error._tag, "InvalidState", key)
        assert.include(error.message, "reserved for temporary files")
      }
      for (const key of ["report.runstate-tmp", "a/.b.runstate-tmp", ".runstate-tmp", "a/.runstate-tmpx"]) {
        yield* store.write(key, { key })
      }
      const kv = yield* kvOver(base)
      assert.deepStrictEqual(
        [...(yield* kv.keys)].sort(),
        [".runstate-tmp", "a/.b.runstate-tmp", "a/.runstate-tmpx", "report.runstate-tmp"]
      )
      assert.strictEqual(yield* NodeResultStore.removeTemporaryFiles(base), 0)
      assert.strictEqual((yield* store.read("a/.b.runstate-tmp")).result, "a/.b.runstate-tmp")
    }))

  it.effect("keys starting with `..` stay relative: keys(), split layout, storage keys", () =>
    Effect.gen(function*() {
      const base = freshDir("dotdot")
      const metadata = freshDir("dotdot-metadata")
      const kv = yield* kvOver(base)
      yield* kv.set("..foo", "1")
      yield* kv.set("..bar/..baz", "2")
      assert.deepStrictEqual([...(yield* kv.keys)].sort(), ["..bar/..baz", "..foo"])
      const split = yield* NodeResultStore.makeFileSystem(base, { metadataDirectory: metadata, cache: false })
      yield* split.write({ v: 1 }, { key: "..split" })
      assert.deepStrictEqual((yield* split.read("..split")).result, { v: 1 })
      assert.isTrue(existsSync(path.join(metadata, "..split")))
      // `..` itself still escapes.
      assert.strictEqual(failure(yield* Effect.exit(split.write(1, { key: "../x" })))._tag, "InvalidState")
    }))

  it.effect("lone surrogates: the key-value layers refuse them instead of merging keys", () =>
    Effect.gen(function*() {
      const kv = yield* kvOver(freshDir("surrogates"))
      yield* kv.set("x\uFFFD", "replacement")
      for (const key of ["x\ud800", "x\udfff"]) {
        assert.include(failure(yield* Effect.exit(kv.set(key, "lone"))).message, "lone surrogate")
        assert.include(failure(yield* Effect.exit(kv.get(key))).message, "lone surrogate")
      }
      assert.strictEqual(yield* kv.get("x\uFFFD"), "replacement")
    }))
})

/** One outcome printed by the probe child. */
interface Outcome {
  readonly error?: string
  readonly message?: string
  readonly ok?: unknown
}

/** The outcomes of one probe mode. */
interface Probe {
  readonly overwrite: Outcome
  readonly fresh: Outcome
  readonly a: Outcome
  readonly b: Outcome
  readonly exists: boolean
  readonly files: ReadonlyArray<string>
}

/** Runs `script` under `unshare -rm` (a private mount namespace) with `dir` as `$1`; answers its JSON lines. */
const inNamespace = (script: string, dir: string): Promise<Array<Record<string, unknown>>> =>
  new Promise((resolve, reject) => {
    const fixture = path.join(import.meta.dirname, "fixtures", "limited-fs.ts")
    const child = spawn(findBinary("unshare", ["/usr/bin", "/bin"]), [
      "-rm",
      "sh",
      "-c",
      script.replaceAll("PROBE", `"${process.execPath}" "${fixture}"`),
      "sh",
      dir
    ], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.stdout.on("data", (chunk) => {
      out += chunk.toString()
    })
    child.stderr.on("data", (chunk) => {
      err += chunk.toString()
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`probe exited with ${code}: ${err}`))
      else resolve(out.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>))
    })
  })

describe("hostile: full and read-only file systems", () => {
  it.live(
    "disk full: writes fail typed, earlier records stay intact, no temp file is left",
    () =>
      Effect.gen(function*() {
        const dir = freshDir("full")
        const [seed, full] = yield* Effect.promise(() =>
          inNamespace(`mount -t tmpfs -o size=512k tmpfs "$1" && PROBE seed "$1" && PROBE full "$1"`, dir)
        )
        assert.deepStrictEqual(Object.keys((seed as { ok: Record<string, Outcome> }).ok.a!), ["ok"])
        const outcome = (full as { ok: Probe }).ok
        assert.strictEqual(outcome.overwrite.error, "StorageError")
        assert.include(outcome.overwrite.message, "ENOSPC")
        assert.strictEqual(outcome.fresh.error, "StorageError")
        assert.deepStrictEqual(outcome.a.ok, { v: 1 })
        assert.deepStrictEqual(outcome.b.ok, { v: 2 })
        assert.deepStrictEqual(outcome.files, ["a", "nested", "nested/b"])
      }),
    60_000
  )

  it.live("read-only file system: writes fail typed, reads still work", () =>
    Effect.gen(function*() {
      const dir = freshDir("ro")
      const [, readOnly] = yield* Effect.promise(() =>
        inNamespace(
          `mount -t tmpfs -o size=512k tmpfs "$1" && PROBE seed "$1" && mount -o remount,ro "$1" && PROBE readonly "$1"`,
          dir
        )
      )
      const outcome = (readOnly as { ok: Probe }).ok
      assert.strictEqual(outcome.overwrite.error, "StorageError")
      assert.include(outcome.overwrite.message, "EROFS")
      assert.strictEqual(outcome.fresh.error, "StorageError")
      assert.deepStrictEqual(outcome.a.ok, { v: 1 })
      assert.strictEqual(outcome.exists, true)
      assert.deepStrictEqual(outcome.files, ["a", "nested", "nested/b"])
    }), 60_000)
})

// --- every store ------------------------------------------------------------------

const onRedis = (options: NodeRedisResultStore.RedisOptions) =>
  Layer.unwrap(Effect.map(redisServer, (server) =>
    NodeRedisResultStore.layerRedis(options).pipe(
      Layer.provide(NodeRedisResultStore.layerRedisClient({ url: server.url }))
    )))

const stores: ReadonlyArray<readonly [string, Layer.Layer<ResultStore.ResultStore, unknown>]> = [
  ["memory", ResultStore.layerMemoryWith({ cache: false })],
  [
    "file system",
    Layer.unwrap(Effect.sync(() => NodeResultStore.layerFileSystem(freshDir("every"), { cache: false })))
  ],
  ["Redis", onRedis({ prefix: "hostile:", cache: false })]
]

for (const [name, storeLayer] of stores) {
  describe(`hostile values and keys: ${name}`, () => {
    it.live("prototype-pollution keys and values are plain data", () =>
      Effect.gen(function*() {
        const store = yield* ResultStore.ResultStore
        const value = JSON.parse(
          "{\"__proto__\": {\"polluted\": true}, \"constructor\": {\"prototype\": {\"polluted\": true}}, \"a\": 1}"
        ) as Record<string, unknown>
        for (const key of ["__proto__", "constructor", "prototype", "hasOwnProperty", "toString"]) {
          yield* store.write(value, { key })
          const read = (yield* store.read(key)).result as Record<string, unknown>
          assert.deepStrictEqual(Object.keys(read), ["__proto__", "constructor", "a"])
          assert.isTrue(Object.hasOwn(read, "__proto__"))
          assert.strictEqual(Object.getPrototypeOf(read), Object.prototype)
        }
        assert.isUndefined(({} as Record<string, unknown>).polluted)
      }).pipe(Effect.provide(storeLayer)), 30_000)

    it.live("100,000-deep nesting: written and read back whole, or a typed error", () =>
      Effect.gen(function*() {
        const store = yield* ResultStore.ResultStore
        let deep: unknown = 0
        for (let i = 0; i < 100_000; i++) deep = [deep]
        const written = yield* Effect.exit(store.write(deep, { key: "deep" }))
        if (Exit.isFailure(written)) {
          assert.strictEqual(failure(written)._tag, "SerializationError")
          return
        }
        let read = (yield* store.read("deep")).result
        let depth = 0
        while (Array.isArray(read)) {
          read = read[0]
          depth++
        }
        assert.strictEqual(depth, 100_000)
      }).pipe(Effect.provide(storeLayer)), 60_000)

    it.live("a 50 MB string round-trips", () =>
      Effect.gen(function*() {
        const store = yield* ResultStore.ResultStore
        const big = "x".repeat(50 * 1024 * 1024)
        yield* store.write(big, { key: "big" })
        const read = (yield* store.read("big")).result as string
        assert.strictEqual(read.length, big.length)
        assert.isTrue(read === big)
      }).pipe(Effect.provide(storeLayer)), 120_000)
  })
}

// --- Redis: a server that stops answering ---------------------------------------------

describe("hostile: a Redis server that stops answering (SIGSTOP)", () => {
  it.live("every operation, lock waits included, fails within the configured timeout", () =>
    Effect.gen(function*() {
      const server = yield* redisServer
      yield* Effect.addFinalizer(() => Effect.sync(server.resume))
      const context = yield* Layer.build(
        NodeRedisResultStore.layerRedis({ prefix: "paused:", cache: false, timeout: "300 millis" }).pipe(
          Layer.provide(NodeRedisResultStore.layerRedisClient({ url: server.url }))
        )
      )
      const store = yield* ResultStore.ResultStore.pipe(Effect.provideContext(context))
      yield* store.write("before", { key: "a" })
      server.pause()
      const start = Date.now()
      const [written, read, exists, acquired, waited, locked] = yield* within(
        10_000,
        "operations on a paused server",
        Effect.all([
          Effect.exit(store.write("while paused", { key: "b" })),
          Effect.exit(store.read("a")),
          store.exists("a"),
          // On a key of its own: the server still runs the timed-out `SET NX` once it resumes.
          Effect.exit(store.acquireLock("lock", { holder: "h", timeout: "30 seconds" })),
          Effect.exit(store.waitForLock("lock", { timeout: "30 seconds" })),
          Effect.exit(store.isLocked("lock"))
        ], { concurrency: "unbounded" })
      )
      const elapsed = Date.now() - start
      for (const exit of [written, read, acquired, waited, locked]) {
        const error = failure(exit)
        assert.strictEqual(error._tag, "StorageError")
        assert.include(error.message, "timed out")
      }
      assert.isFalse(exists)
      assert.isBelow(elapsed, 3_000)
      server.resume()
      assert.strictEqual((yield* store.read("a")).result, "before")
    }), 30_000)

  it.live(
    "with no timeout given, the documented 5 s bound holds (writes and lock waits)",
    () =>
      Effect.gen(function*() {
        const server = yield* redisServer
        yield* Effect.addFinalizer(() => Effect.sync(server.resume))
        const context = yield* Layer.build(
          NodeRedisResultStore.layerRedis({ prefix: "default:", cache: false }).pipe(
            Layer.provide(NodeRedisResultStore.layerRedisClient({ url: server.url }))
          )
        )
        const store = yield* ResultStore.ResultStore.pipe(Effect.provideContext(context))
        yield* store.write("before", { key: "a" })
        server.pause()
        const start = Date.now()
        const [written, acquired] = yield* within(
          15_000,
          "operations on a paused server",
          Effect.all([
            Effect.exit(store.write("while paused", { key: "b" })),
            Effect.exit(store.acquireLock("lock", { holder: "h" }))
          ], { concurrency: "unbounded" })
        )
        const elapsed = Date.now() - start
        assert.include(failure(written).message, "after 5s")
        assert.include(failure(acquired).message, "timed out")
        assert.isAtLeast(elapsed, 4_500)
        assert.isBelow(elapsed, 8_000)
      }),
    30_000
  )

  it.live(
    "closing the layer with a command in flight finishes within its bound, then force-closes",
    () =>
      Effect.gen(function*() {
        const server = yield* redisServer
        yield* Effect.addFinalizer(() => Effect.sync(server.resume))
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(
          NodeRedisResultStore.layerRedis({ prefix: "close:", cache: false, timeout: Duration.infinity }).pipe(
            Layer.provide(NodeRedisResultStore.layerRedisClient({ url: server.url }))
          ),
          scope
        )
        const store = yield* ResultStore.ResultStore.pipe(Effect.provideContext(context))
        yield* store.write("before", { key: "a" })
        server.pause()
        // A write already sent to the frozen server, then interrupted: its reply never comes.
        const fiber = yield* Effect.forkChild(store.write("in flight", { key: "b" }))
        yield* Effect.sleep(Duration.millis(200))
        yield* Fiber.interrupt(fiber)
        const start = Date.now()
        yield* within(15_000, "closing the Redis layer", Scope.close(scope, Exit.void))
        assert.isBelow(Date.now() - start, 4_000)
      }),
    30_000
  )
})

// --- SQL: table names ------------------------------------------------------------------

describe("hostile: SQL table names", () => {
  it.live("a table name full of quotes names one table; nothing else is touched", () =>
    Effect.gen(function*() {
      const server = yield* postgresServer
      const pg = yield* Layer.build(PgClient.layer({
        host: server.host,
        port: server.port,
        username: server.user,
        database: server.database
      }))
      const sql = yield* SqlClient.SqlClient.pipe(Effect.provideContext(pg))
      yield* sql`CREATE TABLE victim (id int)`
      yield* sql`INSERT INTO victim VALUES (1)`
      for (const table of ["x\"; DROP TABLE victim; --", "x'; DROP TABLE victim; --", "a\" (id text); --"]) {
        const store = yield* ResultStore.ResultStore.pipe(
          Effect.provide(
            ResultStore.layer({ cache: false }).pipe(
              Layer.provide(KeyValueStore.layerSql({ table })),
              Layer.provide(Layer.succeedContext(pg))
            )
          )
        )
        yield* store.write({ table }, { key: "k" })
        assert.deepStrictEqual((yield* store.read("k")).result, { table })
        const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(table)}`
        assert.strictEqual(rows[0]!.n, 1)
      }
      const victim = yield* sql<{ id: number }>`SELECT id FROM victim`
      assert.deepStrictEqual(victim.map((r) => r.id), [1])
    }), 60_000)
})
