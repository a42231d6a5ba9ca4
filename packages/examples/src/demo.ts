/**
 * `pnpm demo [-- --store redis://HOST:PORT | postgres://… | DIR | memory]` (from the repository root; the
 * file-system store's directory is relative to where `pnpm` was run)
 *
 * Runs the demo pipeline (`pipeline.ts`, a `Flow` of `Task`s) on a result
 * store — by default the file-system store in `./.runstate` — prints each task
 * run's history, the log lines the runs wrote, the flow's final state and
 * where the results went, then reads the results back from their metadata
 * alone with a freshly built store, as another process would. Run it twice:
 * the second run finds the cached tasks' results and ends them `Cached`.
 */
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import { Context, Effect, Layer, Logger } from "effect"
import { RunLog, State, Timeline } from "@runstate/core"
import { type FlowRun, pipeline, type PipelineOptions } from "./pipeline.ts"
import { type ReadBack, readBack, storageKeyOf, toWire } from "./readback.ts"
import { describeStore, historyLayer, parseStore, type StoreSpec, storeLayer } from "./stores.ts"
import { bold, dim, paint, renderFlowState, renderTimeline, useColor } from "./timeline.ts"

/** Everything the demo computed, for printing or for a test. */
export interface DemoReport {
  readonly store: StoreSpec
  readonly run: FlowRun
  /** Each task's and the flow's state as Prefect's `StateCreate` JSON. */
  readonly documents: ReadonlyArray<{ readonly name: string; readonly json: string; readonly storageKey?: string }>
  readonly readBack: ReadonlyArray<ReadBack>
  /** The log lines of the runs (`LEVEL message`), in order. */
  readonly logs: ReadonlyArray<string>
  /** The flow run's timeline page (HTML), and the file it was written to, if any. */
  readonly timeline: { readonly html: string; readonly file: string | undefined }
}

/** Options of {@link runDemo}. */
export interface DemoOptions extends PipelineOptions {
  /** Where to write the flow run's timeline page; `undefined` writes none. */
  readonly timelineFile?: string | undefined
}

/**
 * Runs the pipeline on the store of `spec`, then reads every result back
 * through a second, freshly built store of the same spec (the same one for
 * `memory`, which other processes cannot see).
 */
export const runDemo = (spec: StoreSpec, options?: DemoOptions): Effect.Effect<DemoReport, unknown> =>
  Effect.scoped(Effect.gen(function*() {
    const writer = yield* Layer.build(storeLayer(spec))
    const reader = spec._tag === "Memory" ? writer : yield* Layer.build(storeLayer(spec))
    const logs: Array<string> = []
    const logger = Logger.make((entry) => {
      const m = entry.message
      logs.push(`${entry.logLevel.toUpperCase().padEnd(5)} ${Array.isArray(m) ? m.join(" ") : String(m)}`)
    })
    // The history is kept in memory for this report (its states hold their
    // records) and written where the results are, for `runstate inspect` and
    // `runstate timeline` to read back later.
    const memory = yield* RunLog.makeMemory
    const stored = Context.get(yield* Layer.build(historyLayer(spec)), RunLog.RunLog)
    const history = Context.make(RunLog.RunLog, {
      record: (transition) => Effect.andThen(memory.record(transition), stored.record(transition)),
      history: memory.history,
      runs: memory.runs
    })
    const run = yield* pipeline(options).pipe(
      Effect.provide(Logger.layer([logger])),
      Effect.provideContext(history),
      Effect.provideContext(writer)
    )
    // The picture of the run, from the history as it was recorded.
    const input = yield* Timeline.fromRunLog({
      runId: run.flow.stateDetails.flowRunId!,
      source: describeStore(spec)
    }).pipe(Effect.provideContext(history))
    const html = Timeline.render(input)
    const file = options?.timelineFile
    if (file !== undefined) yield* Effect.sync(() => writeFileSync(file, html))
    const documents = yield* Effect.forEach(
      [...run.tasks, { name: "flow", state: run.flow }],
      ({ name, state }) =>
        Effect.map(toWire(state), (document) => {
          const storageKey = storageKeyOf(document)
          return { name, json: JSON.stringify(document), ...(storageKey === undefined ? {} : { storageKey }) }
        })
    )
    const back = yield* Effect.provideContext(readBack(documents), reader)
    return { store: spec, run, documents, readBack: back, logs, timeline: { html, file } }
  }))

const isStateJson = (u: unknown): u is { readonly name: string } =>
  State.isState(u) || typeof u === "object" && u !== null && (u as { readonly _id?: unknown })._id === "State"

const preview = (value: unknown, width = 72): string => {
  let text: string
  if (value instanceof Error) text = `${value.name}: ${value.message}`
  else if (Array.isArray(value) && value.length > 0 && value.every(isStateJson)) {
    // The flow's result: the task states it aggregated.
    text = `${value.length} states: ${value.map((s) => s.name).join(", ")}`
  } else {
    try {
      text = JSON.stringify(value) ?? String(value)
    } catch {
      text = String(value)
    }
  }
  return text.length > width ? `${text.slice(0, width - 1)}…` : text
}

/** The report as the lines the demo prints. */
export const renderReport = (report: DemoReport, options: { readonly color: boolean }): Array<string> => {
  const { color } = options
  const width = Math.max(...report.documents.map((d) => d.name.length))
  const lines = [
    bold(`runstate demo — store: ${describeStore(report.store)}`, color),
    "",
    bold("each task run's history (from the RunLog):", color),
    ...renderTimeline(report.run, options),
    "",
    bold("log:", color),
    ...report.logs.map((line) => `  ${line}`),
    "",
    `${bold("flow state:", color)} ${renderFlowState(report.run, options)}`,
    "",
    bold("where the results went (metadata sent with each state):", color)
  ]
  for (const doc of report.documents) {
    lines.push(`  ${doc.name.padEnd(width)}  ${doc.storageKey ?? dim("(no persisted result)", color)}`)
  }
  lines.push("", bold("read back from the metadata alone, with a fresh store (StateResult.getStateResult):", color))
  for (const entry of report.readBack) {
    const text = entry.outcome._tag === "Value"
      ? preview(entry.outcome.value)
      : paint(`error: ${preview(entry.outcome.error)}`, "FAILED", color)
    lines.push(`  ${entry.name.padEnd(width)}  ${paint(entry.state.name.padEnd(13), entry.state.type, color)} ${text}`)
  }
  if (report.timeline.file !== undefined) {
    lines.push("", `${bold("timeline of the flow run:", color)} ${report.timeline.file} (open it in a browser)`)
  }
  return lines
}

const usage = `usage: pnpm demo [-- --store STORE]

STORE: a directory (default ./.runstate), redis://HOST:PORT, postgres://USER@HOST:PORT/DB, or memory`

/** Parses the demo's arguments: `--store VALUE`, `--store=VALUE`, `--help`. */
export const parseArgs = (
  argv: ReadonlyArray<string>
): { readonly _tag: "Run"; readonly store: string | undefined } | { readonly _tag: "Help" } | {
  readonly _tag: "Error"
  readonly message: string
} => {
  let store: string | undefined
  const args = argv.filter((a) => a !== "--")
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--help" || arg === "-h") return { _tag: "Help" }
    if (arg === "--store") {
      store = args[++i]
      if (store === undefined) return { _tag: "Error", message: "--store needs a value" }
    } else if (arg.startsWith("--store=")) store = arg.slice("--store=".length)
    else return { _tag: "Error", message: `unknown argument: ${arg}` }
  }
  return { _tag: "Run", store }
}

const main = () => {
  const args = parseArgs(process.argv.slice(2))
  if (args._tag === "Help") {
    process.stdout.write(`${usage}\n`)
    return
  }
  if (args._tag === "Error") {
    process.stderr.write(`${args.message}\n${usage}\n`)
    process.exitCode = 2
    return
  }
  // pnpm runs the script in packages/examples; INIT_CWD is where `pnpm demo` was typed.
  const spec = parseStore(args.store, process.env["INIT_CWD"] ?? process.cwd())
  const color = useColor(process.stdout)
  const cwd = process.env["INIT_CWD"] ?? process.cwd()
  const timelineFile = path.resolve(cwd, "runstate-timeline.html")
  Effect.runPromiseExit(runDemo(spec, { timelineFile })).then((exit) => {
    if (exit._tag === "Success") {
      process.stdout.write(`${renderReport(exit.value, { color }).join("\n")}\n`)
    } else {
      process.stderr.write(`demo failed on ${describeStore(spec)}:\n${String(exit.cause)}\n`)
      process.exitCode = 1
    }
  })
}

if (import.meta.main) main()
