/**
 * Real servers for the storage tests and benchmarks: a `redis-server` and a
 * PostgreSQL cluster, each started on a free loopback port in its own temporary
 * directory and stopped (directory removed) afterwards, even when a test fails.
 *
 * - Redis: `redis-server --port P --bind 127.0.0.1 --save "" --appendonly no --dir <tmp>`,
 *   ready once it answers `PING`. `stop()` / `start()` restart it on the same port;
 *   `pause()` / `resume()` freeze it (SIGSTOP / SIGCONT): a server that never answers.
 * - PostgreSQL: `initdb` (trust auth, `--no-sync`) then `postgres` on the port,
 *   unix sockets in the temp dir, durability off (test data only). PostgreSQL
 *   refuses to run as root, so as root both run as the `postgres` system user
 *   when it exists (Debian's `postgresql` package creates it), else as `nobody`,
 *   through `setpriv` (which execs the server, so signals reach it).
 *
 * A missing binary is an error: the tests never skip (CI installs both servers).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

const execFileP = promisify(execFile)

/** Every child still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>()
const dirs = new Set<string>()
process.once("exit", () => {
  for (const child of running) {
    try {
      child.kill("SIGKILL")
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A free TCP port on 127.0.0.1, found by binding port 0. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Finds an executable on PATH or in the given extra directories; throws when missing. */
export const findBinary = (name: string, extraDirs: ReadonlyArray<string> = []): string => {
  const dirsToSearch = [...(process.env.PATH ?? "").split(path.delimiter), ...extraDirs]
  for (const dir of dirsToSearch) {
    if (dir === "") continue
    const candidate = path.join(dir, name)
    if (existsSync(candidate)) return candidate
  }
  throw new Error(
    `${name} not found on PATH or in ${extraDirs.join(", ")}: install it (Debian: redis-server, postgresql)`
  )
}

/** PostgreSQL's binary directories, newest version first (Debian layout). */
const postgresBinDirs = (): Array<string> => {
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return []
  return readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(root, v, "bin"))
}

/** Sends one `PING` and answers whether the server replied `+PONG`. */
const ping = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" })
    let data = ""
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once("error", () => done(false))
    socket.once("connect", () => socket.write("PING\r\n"))
    socket.on("data", (chunk) => {
      data += chunk.toString()
      if (data.includes("\r\n")) done(data.startsWith("+PONG"))
    })
  })

const waitExit = (child: ChildProcess, ms: number): Promise<boolean> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(true)
    : new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms)
      child.once("exit", () => {
        clearTimeout(timer)
        resolve(true)
      })
    })

const terminate = async (child: ChildProcess, signal: NodeJS.Signals): Promise<void> => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill(signal)
    if (!(await waitExit(child, 5_000))) {
      child.kill("SIGKILL")
      await waitExit(child, 5_000)
    }
  }
  running.delete(child)
}

/** A running (or stopped, between `stop` and `start`) `redis-server`. */
export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:PORT` */
  readonly url: string
  readonly dir: string
  /** Whether the server process is up. */
  readonly isRunning: () => boolean
  /** Stops the server process (SIGTERM, then SIGKILL); the port stays reserved for `start`. */
  readonly stop: () => Promise<void>
  /** Starts it again on the same port and waits for `PING`. */
  readonly start: () => Promise<void>
  /**
   * Freezes the server process (SIGSTOP): its connections stay open and
   * commands sent to it are never answered, until `resume` (SIGCONT).
   */
  readonly pause: () => void
  /** Lets a paused server run again (SIGCONT). */
  readonly resume: () => void
  /** Stops it for good and removes its directory. */
  readonly dispose: () => Promise<void>
}

/** Starts a `redis-server` on a free loopback port and waits until it answers `PING`. */
export const startRedis = async (): Promise<RedisServer> => {
  const binary = findBinary("redis-server")
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), "runstate-redis-"))
  dirs.add(dir)
  let child: ChildProcess | undefined
  let stderr = ""
  const start = async (): Promise<void> => {
    stderr = ""
    const proc = spawn(
      binary,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: ["ignore", "ignore", "pipe"] }
    )
    proc.stderr?.on("data", (chunk) => {
      stderr += chunk.toString()
    })
    running.add(proc)
    child = proc
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) break
      if (await ping(port)) return
      await sleep(15)
    }
    await terminate(proc, "SIGKILL")
    throw new Error(`redis-server did not answer PING on port ${port}: ${stderr}`)
  }
  const stop = async (): Promise<void> => {
    // A paused server cannot act on SIGTERM: let it run first.
    child?.kill("SIGCONT")
    if (child !== undefined) await terminate(child, "SIGTERM")
    child = undefined
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    isRunning: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    stop,
    start,
    pause: () => {
      child?.kill("SIGSTOP")
    },
    resume: () => {
      child?.kill("SIGCONT")
    },
    dispose: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
      dirs.delete(dir)
    }
  }
}

/** A running PostgreSQL cluster (database `postgres`, user `postgres`, trust auth on loopback). */
export interface PostgresServer {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly database: string
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string
  readonly dir: string
  /** Stops the server (fast shutdown); its data and port stay for `start`. */
  readonly stop: () => Promise<void>
  /** Starts it again on the same port and data directory, and waits until it accepts connections. */
  readonly start: () => Promise<void>
  /** Stops the server (fast shutdown) and removes its directory. */
  readonly dispose: () => Promise<void>
}

/** The unprivileged user to run PostgreSQL as, when this process is root. */
const postgresRunAs = async (): Promise<string | undefined> => {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined
  for (const user of ["postgres", "nobody"]) {
    try {
      await execFileP("id", ["-u", user])
      return user
    } catch {
      // try the next one
    }
  }
  throw new Error("running as root and neither the postgres nor the nobody user exists")
}

const userIds = async (user: string): Promise<{ uid: number; gid: number }> => {
  const uid = Number((await execFileP("id", ["-u", user])).stdout.trim())
  const gid = Number((await execFileP("id", ["-g", user])).stdout.trim())
  return { uid, gid }
}

/** Starts a fresh PostgreSQL cluster on a free loopback port (initdb + postgres). */
export const startPostgres = async (): Promise<PostgresServer> => {
  const extra = postgresBinDirs()
  const initdb = findBinary("initdb", extra)
  const postgres = findBinary("postgres", extra)
  const runAs = await postgresRunAs()
  const wrap = (binary: string, args: ReadonlyArray<string>): [string, Array<string>] =>
    runAs === undefined ? [binary, [...args]] : [findBinary("setpriv", ["/usr/bin", "/bin"]), [
      `--reuid=${runAs}`,
      `--regid=${runAs}`,
      "--init-groups",
      binary,
      ...args
    ]]
  const dir = mkdtempSync(path.join(os.tmpdir(), "runstate-pg-"))
  dirs.add(dir)
  const data = path.join(dir, "data")
  if (runAs !== undefined) {
    const { gid, uid } = await userIds(runAs)
    chownSync(dir, uid, gid)
    chmodSync(dir, 0o700)
  }
  const port = await freePort()
  try {
    const [initCmd, initArgs] = wrap(initdb, [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=trust",
      "--no-sync",
      "--no-instructions",
      "-E",
      "UTF8",
      "--locale=C"
    ])
    await execFileP(initCmd, initArgs, { cwd: dir })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    dirs.delete(dir)
    throw new Error(`initdb failed: ${String(error)}`)
  }
  const [cmd, args] = wrap(postgres, [
    "-D",
    data,
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
    "-c",
    "max_connections=50",
    "-c",
    "shared_buffers=32MB"
  ])
  let child: ChildProcess | undefined
  let log = ""
  const launch = async (): Promise<boolean> => {
    const proc = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], cwd: dir })
    running.add(proc)
    child = proc
    log = ""
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 15_000)
      proc.stderr?.on("data", (chunk) => {
        log += chunk.toString()
        if (log.includes("database system is ready to accept connections")) {
          clearTimeout(timer)
          resolve(true)
        }
      })
      proc.once("exit", () => {
        clearTimeout(timer)
        resolve(false)
      })
    })
  }
  // SIGINT = fast shutdown (setpriv execs postgres, so the signal reaches it).
  const stop = async () => {
    if (child !== undefined) await terminate(child, "SIGINT")
    child = undefined
  }
  const dispose = async () => {
    await stop()
    rmSync(dir, { recursive: true, force: true })
    dirs.delete(dir)
  }
  if (!(await launch())) {
    await dispose()
    throw new Error(`postgres did not start on port ${port}: ${log}`)
  }
  return {
    host: "127.0.0.1",
    port,
    user: "postgres",
    database: "postgres",
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    stop,
    start: async () => {
      if (!(await launch())) throw new Error(`postgres did not restart on port ${port}: ${log}`)
    },
    dispose
  }
}

/**
 * A `redis-server` for the lifetime of the current scope.
 */
export const redisServer: Effect.Effect<RedisServer, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(startRedis),
  (server) => Effect.promise(server.dispose)
)

/**
 * A PostgreSQL cluster for the lifetime of the current scope.
 */
export const postgresServer: Effect.Effect<PostgresServer, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(startPostgres),
  (server) => Effect.promise(server.dispose)
)
