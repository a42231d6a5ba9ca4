/**
 * The `runstate` command-line tool (built on `effect/cli`): `runstate inspect
 * PATH` lists the result records of a storage directory — runstate's file
 * store or Prefect's `~/.prefect/storage` — with key, serializer, expiration
 * and decoded value; `runstate state FILE` decodes a Prefect state JSON
 * document and prints it as Prefect does. Both take `--json` for scripts.
 * Unreadable or corrupt files are reported, never fatal.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs/promises"
import * as State from "@runstate/core/State"
import * as Wire from "@runstate/core/Wire"
import * as Argument from "effect/cli/Argument"
import * as CliError from "effect/cli/CliError"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Stdio from "effect/Stdio"
import * as Stream from "effect/Stream"
import * as Inspect from "./internal/cliInspect.ts"

/**
 * One file of an inspected directory: its kind (`record` — a full envelope,
 * `record-3.0` — Prefect 3.0's result blob, `metadata` — split-layout
 * metadata, `raw` — a bare serialized value, `unreadable`), its metadata, and
 * the decoded value (`decoded: true`) or a `note` (pickle, …) or an `error`.
 *
 * @category models
 * @since 0.1.0
 */
export type InspectEntry = Inspect.Entry

/**
 * The result of {@link inspect}: the absolute path, one entry per file
 * (sorted by path) and how many temp files of interrupted writes were skipped.
 *
 * @category models
 * @since 0.1.0
 */
export type InspectReport = Inspect.Report

/**
 * The note shown for pickle results instead of a value.
 *
 * @category constants
 * @since 0.1.0
 */
export const pickleNote: string = Inspect.pickleNote

/**
 * A file or directory that cannot be inspected, or a state document that
 * cannot be read or decoded: the message is shown to the user and the
 * command exits with status 1.
 *
 * @category errors
 * @since 0.1.0
 */
export const userError = (message: string): CliError.UserError =>
  new CliError.UserError({ cause: new Error(message), userMessage: message })

/**
 * Inspects a storage directory (recursively) or a single file. Every file
 * becomes an entry — files that cannot be read or decoded carry an `error` —
 * so this fails only when `path` itself cannot be read. `onProgress` is
 * called every 100 files; `onListed` with the number of files before any is
 * read.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Cli from "@runstate/node/Cli"
 *
 * const program = Effect.map(Cli.inspect("/root/.prefect/storage"), (report) =>
 *   report.entries.filter((entry) => entry.expired).map((entry) => entry.file))
 * ```
 *
 * @category inspecting
 * @since 0.1.0
 */
export const inspect = (
  path: string,
  options?: {
    readonly onListed?: ((total: number) => Effect.Effect<void>) | undefined
    readonly onProgress?: ((done: number, total: number) => Effect.Effect<void>) | undefined
  }
): Effect.Effect<InspectReport, string> => Inspect.inspect(path, options)

const preview = (value: unknown, width: number): string => {
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > width ? `${text.slice(0, width - 1)}…` : text
}

const kindLabel: Record<Inspect.EntryKind, string> = {
  record: "record",
  "record-3.0": "record 3.0",
  metadata: "metadata",
  raw: "raw",
  unreadable: "unreadable"
}

const pad = (text: string, width: number): string =>
  text.length >= width ? text : text + " ".repeat(width - text.length)

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

/**
 * The summary line of a report, e.g.
 * `/data: 5 files — 3 records, 1 raw result, 1 unreadable (1 expired)`.
 *
 * @category formatting
 * @since 0.1.0
 */
export const summary = (report: InspectReport): string => {
  const count = (kind: Inspect.EntryKind) => report.entries.filter((e) => e.kind === kind).length
  const parts: Array<string> = []
  const records = count("record") + count("record-3.0")
  if (records > 0) parts.push(plural(records, "record"))
  if (count("metadata") > 0) parts.push(`${count("metadata")} metadata`)
  if (count("raw") > 0) parts.push(plural(count("raw"), "raw result"))
  if (count("unreadable") > 0) parts.push(`${count("unreadable")} unreadable`)
  const expired = report.entries.filter((e) => e.expired).length
  const skipped = report.skipped > 0 ? `, ${plural(report.skipped, "temp file")} skipped` : ""
  return `${report.path}: ${plural(report.entries.length, "file")}${parts.length > 0 ? ` — ${parts.join(", ")}` : ""}${
    expired > 0 ? ` (${expired} expired)` : ""
  }${skipped}`
}

/**
 * A report as text: the summary, then one line per file with key, kind,
 * serializer, expiration (`(expired)` when past) and the value — or the note
 * or error that stands for it.
 *
 * @category formatting
 * @since 0.1.0
 */
export const formatInspect = (report: InspectReport, options?: { readonly width?: number | undefined }): string => {
  const lines = [summary(report)]
  if (report.entries.length === 0) return lines[0]!
  const keyWidth = Math.min(48, Math.max(3, ...report.entries.map((e) => e.file.length)))
  const expirationOf = (e: Inspect.Entry) =>
    e.kind === "unreadable" || e.kind === "raw" ? "" : `${e.expiration ?? "never"}${e.expired ? " (expired)" : ""}`
  const expirationWidth = Math.max(10, ...report.entries.map((e) => expirationOf(e).length))
  const head = `${pad("KEY", keyWidth)}  ${pad("KIND", 10)}  ${pad("SERIALIZER", 15)}  ${
    pad("EXPIRATION", expirationWidth)
  }  VALUE`
  lines.push(head)
  const valueWidth = Math.max(20, (options?.width ?? 160) - head.length + 5)
  for (const e of report.entries) {
    const value = e.error !== undefined
      ? `error: ${e.error}`
      : e.note !== undefined
      ? e.note
      : e.decoded
      ? preview(e.value, valueWidth)
      : ""
    lines.push(
      `${pad(e.file, keyWidth)}  ${pad(kindLabel[e.kind], 10)}  ${pad(e.serializer ?? "", 15)}  ${
        pad(expirationOf(e), expirationWidth)
      }  ${value}`.trimEnd()
    )
  }
  return lines.join("\n")
}

/**
 * A report as the JSON `runstate inspect --json` prints: `path`, `total`,
 * `skipped`, `counts` by kind, `expired`, and `entries` (a decoded value in
 * `value`, otherwise `note` or `error`).
 *
 * @category formatting
 * @since 0.1.0
 */
export const inspectJson = (report: InspectReport): unknown => {
  const counts: Record<string, number> = { record: 0, "record-3.0": 0, metadata: 0, raw: 0, unreadable: 0 }
  for (const e of report.entries) counts[e.kind] = (counts[e.kind] ?? 0) + 1
  return {
    path: report.path,
    total: report.entries.length,
    skipped: report.skipped,
    counts,
    expired: report.entries.filter((e) => e.expired).length,
    entries: report.entries
  }
}

// -----------------------------------------------------------------------------
// state
// -----------------------------------------------------------------------------

/**
 * Decodes a Prefect state JSON document — the server's shape (`id, type,
 * name, timestamp, message, data, state_details`), the client's model dump
 * (with `created`/`updated`), a `StateCreate` proposal, or a `set_state`
 * answer whose `state` holds one — with `Wire.decodeStateResponse`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { State } from "@runstate/core"
 * import * as Cli from "@runstate/node/Cli"
 *
 * const text = Effect.map(
 *   Cli.decodeStateDocument(`{"type": "SCHEDULED", "name": "AwaitingRetry"}`),
 *   State.format
 * ) // "AwaitingRetry(type=SCHEDULED)"
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeStateDocument = (text: string): Effect.Effect<State.State<unknown>, string> =>
  Effect.gen(function*() {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (cause) {
      return yield* Effect.fail(`not JSON: ${cause instanceof Error ? cause.message : String(cause)}`)
    }
    const unwrapped = typeof json === "object" && json !== null && !Array.isArray(json) && !("type" in json) &&
        "state" in json && typeof json.state === "object" && json.state !== null
      ? json.state
      : json
    return yield* Effect.mapError(
      Wire.decodeStateResponse(unwrapped),
      (error) => `not a Prefect state: ${error.message}`
    )
  })

const isDefault = (value: unknown): boolean =>
  value === null || value === false || (typeof value === "object" && value !== null && Object.keys(value).length === 0)

const describeData = (data: unknown): string => {
  if (data === null || data === undefined) return "none"
  if (typeof data === "object" && "storageKey" in data) {
    const m = data as {
      readonly storageKey: string | null
      readonly serializer: { readonly type: string }
      readonly expiration: { readonly toJSON?: () => unknown } | null
    }
    const expiration = m.expiration === null ? "never" : String(m.expiration.toJSON?.() ?? m.expiration)
    return `result metadata — storage key ${
      m.storageKey ?? "(none)"
    }, serializer ${m.serializer.type}, expiration ${expiration}`
  }
  return preview(data, 100)
}

/**
 * A decoded state as text: `State.format` (Prefect's `str`), then its
 * type, name, id, timestamp, message, data (result metadata or value) and
 * every state detail that is set (Prefect's snake_case names).
 *
 * @category formatting
 * @since 0.1.0
 */
export const formatState = (state: State.State<unknown>): Effect.Effect<string, string> =>
  Effect.gen(function*() {
    const details = yield* Effect.mapError(Wire.encodeStateDetails(state.stateDetails), (e) => e.message)
    const set = Object.entries(details).filter(([, value]) => !isDefault(value))
    const lines = [
      State.format(state),
      `  type       ${state.type}`,
      `  name       ${state.name}`,
      `  id         ${state.id}`,
      `  timestamp  ${String(state.timestamp.toJSON())}`,
      `  message    ${state.message ?? "none"}`,
      `  data       ${describeData(state.data)}`
    ]
    if (set.length === 0) lines.push("  details    none set")
    else {
      lines.push("  details")
      const width = Math.max(...set.map(([key]) => key.length))
      for (const [key, value] of set) {
        lines.push(`    ${pad(key, width)}  ${typeof value === "string" ? value : JSON.stringify(value)}`)
      }
    }
    return lines.join("\n")
  })

/**
 * A decoded state as the JSON `runstate state --json` prints: `format`
 * (Prefect's `str`), `inspect` (Prefect's `repr`) and `state` (the server's
 * JSON shape, `Wire.encodeStateResponse`).
 *
 * @category formatting
 * @since 0.1.0
 */
export const stateJson = (state: State.State<unknown>): Effect.Effect<unknown, string> =>
  Effect.map(
    Effect.mapError(Wire.encodeStateResponse(state), (e) => e.message),
    (encoded) => ({ format: State.format(state), inspect: State.inspect(state), state: encoded })
  )

// -----------------------------------------------------------------------------
// commands
// -----------------------------------------------------------------------------

const write = (text: string) => Stdio.Stdio.use((stdio) => Stream.run(Stream.succeed(text), stdio.stdout()))

const writeTo = (stdio: Stdio.Stdio, text: string) => Stream.run(Stream.succeed(text), stdio.stderr())

const ignore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.ignore(effect)

/** Files above which progress is shown even when stderr is not a terminal. */
const progressThreshold = 1000

const inspectCommand = Command.make(
  "inspect",
  {
    path: Argument.String("path").pipe(Argument.withDescription("a result-storage directory, or one file")),
    json: Flag.Boolean("json").pipe(Flag.withDescription("print JSON"), Flag.withDefault(false))
  },
  ({ json, path }) =>
    Effect.gen(function*() {
      const stdio = yield* Stdio.Stdio
      const tty = yield* stdio.stderrIsTerminal
      let enabled = false
      const report = yield* Inspect.inspect(path, {
        onListed: (total) =>
          Effect.sync(() => {
            enabled = total > progressThreshold || (tty && total > 0)
          }),
        onProgress: (done, total) => {
          if (!enabled) return Effect.void
          if (tty) return ignore(writeTo(stdio, `\rinspecting ${done}/${total} files`))
          return done % progressThreshold === 0 || done === total
            ? ignore(writeTo(stdio, `inspecting ${done}/${total} files\n`))
            : Effect.void
        }
      }).pipe(Effect.mapError(userError))
      if (enabled && tty) yield* ignore(writeTo(stdio, "\r\u001b[K"))
      const out = json ? JSON.stringify(inspectJson(report), null, 2) : formatInspect(report)
      yield* ignore(write(`${out}\n`))
    })
).pipe(
  Command.withDescription(
    "List the result records of a storage directory (runstate's file store or Prefect's ~/.prefect/storage)"
  )
)

const readText = (file: string): Effect.Effect<string, string, Stdio.Stdio> =>
  file === "-"
    ? Stdio.Stdio.use((stdio) =>
      Stream.mkString(Stream.decodeText(stdio.stdin)).pipe(
        Effect.mapError((e) => `cannot read standard input: ${e.message}`)
      )
    )
    : Effect.tryPromise({
      try: () => fs.readFile(file, "utf8"),
      catch: (cause) => `cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}`
    })

const stateCommand = Command.make(
  "state",
  {
    file: Argument.String("file").pipe(Argument.withDescription("a Prefect state JSON document, or - for stdin")),
    json: Flag.Boolean("json").pipe(Flag.withDescription("print JSON"), Flag.withDefault(false))
  },
  ({ file, json }) =>
    Effect.gen(function*() {
      const text = yield* readText(file)
      const state = yield* decodeStateDocument(text).pipe(Effect.mapError((message) => `${file}: ${message}`))
      const out = json ? JSON.stringify(yield* stateJson(state), null, 2) : yield* formatState(state)
      yield* ignore(write(`${out}\n`))
    }).pipe(Effect.mapError(userError))
).pipe(Command.withDescription("Decode a Prefect state JSON document and print it as Prefect does"))

/**
 * The `runstate` command with its subcommands `inspect` and `state`.
 *
 * @category commands
 * @since 0.1.0
 */
export const command = Command.make("runstate").pipe(
  Command.withDescription("Inspect runstate and Prefect result storage and state documents"),
  Command.withSubcommands([inspectCommand, stateCommand])
)

/**
 * Runs the `runstate` command on `args` (without the program name), e.g.
 * `run(["inspect", "/root/.prefect/storage", "--json"])`. Output goes to the
 * `Stdio` service; provide `NodeServices.layer` (as the `runstate` bin does)
 * or test layers.
 *
 * @example
 * ```ts
 * import { NodeRuntime, NodeServices } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import * as Cli from "@runstate/node/Cli"
 *
 * Cli.run(["state", "state.json"]).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const run: (
  args: ReadonlyArray<string>
) => Effect.Effect<void, CliError.CliError | CliError.UserError, Command.Environment> = Command.runWith(command, {
  version: "0.1.0"
})
