/**
 * A real cluster for the tests: PostgreSQL and runner processes (the
 * example worker, `packages/examples/src/cluster/worker.ts`) on loopback
 * ports. Each runner's stdout lines are kept, parsed when they are JSON
 * (the example flow's task bodies print `{"event","key","pid"}` lines).
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import { freePort } from "../../node/test/servers.ts"

const root = path.resolve(import.meta.dirname, "../../..")
const worker = path.join(root, "packages/examples/src/cluster/worker.ts")

export interface TaskEvent {
  readonly event: "start" | "done"
  readonly key: number
  readonly pid: number
  /** When this process read the line (epoch ms). */
  readonly at: number
}

export interface Runner {
  readonly port: number
  readonly pid: number
  readonly events: Array<TaskEvent>
  readonly output: () => string
  readonly exited: Promise<number | null>
  /** Whether the process has exited. */
  readonly hasExited: () => boolean
  readonly kill: (signal?: NodeJS.Signals) => void
}

export const startRunner = async (
  pgUrl: string,
  options: { readonly shardLockSeconds?: number; readonly taskSlots?: number } = {}
): Promise<Runner> => {
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, [worker], {
    env: {
      ...process.env,
      RUNSTATE_PG_URL: pgUrl,
      RUNSTATE_RUNNER_PORT: String(port),
      // A runner renews its shard locks every third of this, and a renewal
      // slower than that counts as PostgreSQL being unreachable: 2 s leaves a
      // loaded CI machine room (1 s did not).
      RUNSTATE_SHARD_LOCK_SECONDS: String(options.shardLockSeconds ?? 6),
      ...(options.taskSlots === undefined ? {} : { RUNSTATE_TASK_SLOTS: String(options.taskSlots) })
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const events: Array<TaskEvent> = []
  let text = ""
  let pending = ""
  const onData = (chunk: Buffer) => {
    const s = chunk.toString()
    text += s
    pending += s
    let nl: number
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      if (line.startsWith("{\"event\"")) {
        try {
          events.push({ ...(JSON.parse(line) as Omit<TaskEvent, "at">), at: Date.now() })
        } catch {
          // not one of ours
        }
      }
    }
  }
  child.stdout!.on("data", onData)
  child.stderr!.on("data", (chunk: Buffer) => {
    text += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  // Ready once it listens for other runners.
  const started = Date.now()
  while (!text.includes(`Listening on: 127.0.0.1:${port}`)) {
    if (child.exitCode !== null) throw new Error(`runner exited early (${child.exitCode}): ${text}`)
    if (Date.now() - started > 30_000) throw new Error(`runner did not start in 30 s: ${text}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    port,
    pid: child.pid!,
    events,
    output: () => text,
    exited,
    hasExited: () => child.exitCode !== null || child.signalCode !== null,
    kill: (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    }
  }
}

/**
 * Runs `body`; when it throws, rethrows with the last `chars` characters of
 * each runner's output appended (a failing cluster test shows nothing else).
 */
export const withRunnerTails = async <A>(
  runners: ReadonlyArray<Runner>,
  body: () => Promise<A>,
  chars = 12_000
): Promise<A> => {
  try {
    return await body()
  } catch (error) {
    const tails = runners.map((r) =>
      `--- runner pid ${r.pid} port ${r.port} (${r.events.length} task events), last ${chars} chars:\n${
        r.output().slice(-chars)
      }`
    ).join("\n")
    if (error instanceof Error) {
      error.message = `${error.message}\n${tails}`
      throw error
    }
    throw new Error(`${String(error)}\n${tails}`)
  }
}

/** Resolves once `predicate` holds, polling; rejects after `timeoutMs`. */
export const until = async (predicate: () => boolean, timeoutMs: number, what: string): Promise<void> => {
  const started = Date.now()
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
