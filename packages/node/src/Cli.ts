/**
 * The `runstate` command-line tool (built on `effect/cli`): `runstate inspect
 * PATH` lists the result records of a storage directory — runstate's file
 * store or Prefect's `~/.prefect/storage` — or of a Redis or SQL store named
 * by URL, with key, serializer, expiration and decoded value (each value kind
 * shown faithfully; `--json` is lossless) — and, with `--runs` / `--run ID`,
 * the flow and task runs of the run history kept with the results and one
 * run's transitions; `runstate state FILE` decodes a
 * Prefect state JSON document and prints it as Prefect does. Unreadable or
 * corrupt files are reported, never fatal; only regular files inside the
 * inspected directory are read, and only up to a size limit; errors print as
 * one line on stderr.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs/promises"
import * as ResultRecord from "@runstate/core/ResultRecord"
import type * as RunLog from "@runstate/core/RunLog"
import * as State from "@runstate/core/State"
import * as Wire from "@runstate/core/Wire"
import * as Argument from "effect/cli/Argument"
import * as CliError from "effect/cli/CliError"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stdio from "effect/Stdio"
import * as Stream from "effect/Stream"
import * as Inspect from "./internal/cliInspect.ts"
import * as Text from "./internal/cliText.ts"

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
 * Options of {@link inspect}: `maxBytes` (the most bytes read from one file
 * and decompressed from one record; default 64 MiB), `allowOutside` (read a
 * split-layout result that lies outside the inspected directory; default
 * `false`), `prefix` (a Redis store's key prefix, default `runstate:`),
 * `table` (a SQL store's table, default `effect_key_value_store`),
 * `concurrency` (default 4), and the progress callbacks.
 *
 * @category models
 * @since 0.2.0
 */
export type InspectOptions = Inspect.Options

/**
 * Inspects a storage directory (recursively), a single file, or a store
 * named by a `redis://` or `postgres://` URL (through the library's own
 * layers: `NodeRedisResultStore.layerRedisKeyValueStore`, `KeyValueStore.layerSql`).
 * Every file becomes an entry — files that cannot be read or decoded carry an
 * `error` — so this fails only when the target itself cannot be read.
 *
 * Only regular files are read (FIFOs, sockets and devices are reported, never
 * opened, so nothing blocks), at most `maxBytes` of each; symbolic links are
 * followed only to regular files inside the directory; a split-layout
 * metadata file's result is read only inside the directory unless
 * `allowOutside`. `onProgress` is called every 100 files; `onListed` with the
 * number of files before any is read.
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
export const inspect = (path: string, options?: InspectOptions): Effect.Effect<InspectReport, string> =>
  Inspect.inspect(path, options)

const kindLabel: Record<Inspect.EntryKind, string> = {
  record: "record",
  "record-3.0": "record 3.0",
  metadata: "metadata",
  raw: "raw",
  unreadable: "unreadable"
}

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
  const history = report.history !== undefined && report.history > 0 ? "; run history kept (--runs lists it)" : ""
  return `${Text.oneLine(report.path)}: ${plural(report.entries.length, "file")}${
    parts.length > 0 ? ` — ${parts.join(", ")}` : ""
  }${expired > 0 ? ` (${expired} expired)` : ""}${skipped}${history}`
}

/**
 * A decoded value as one line of text, faithful to its kind: compact JSON for
 * JSON values; `NaN`, `Infinity`, `-Infinity`, `-0.0`; big integers in full;
 * sets as `{1, 2}` (`set()` when empty); bytes as Python's `b'…'`; an
 * exception as `ValueError: message` (inside a container
 * `ValueError('message')`); datetimes in ISO form. Cut to `width` display
 * columns (East Asian wide characters count two; surrogate pairs are never
 * split), ending in `…` when cut.
 *
 * @category formatting
 * @since 0.2.0
 */
export const formatValue = (value: unknown, width = 100): string => {
  try {
    return Text.truncate(Text.oneLine(Text.preview(value, Math.max(width, 16) * 4)), width)
  } catch (cause) {
    return `<cannot display value: ${Text.oneLine(cause instanceof Error ? cause.message : String(cause))}>`
  }
}

/** Keys longer than this many columns are shown by their end, `…` first. */
const maxKeyWidth = 48

/**
 * A report as text: the summary, then one line per file with key, kind,
 * serializer, expiration (`(expired)` when past) and the value ({@link
 * formatValue}) — or the note or error that stands for it. Columns are
 * measured in display columns; keys longer than 48 columns are shown by
 * their last 47 (after `…`).
 *
 * @category formatting
 * @since 0.1.0
 */
export const formatInspect = (report: InspectReport, options?: { readonly width?: number | undefined }): string => {
  const lines = [summary(report)]
  if (report.entries.length === 0) return lines[0]!
  const keys = report.entries.map((e) => Text.truncateStart(Text.oneLine(e.file), maxKeyWidth))
  const keyWidth = Math.max(3, ...keys.map(Text.displayWidth))
  const expirationOf = (e: Inspect.Entry) =>
    e.kind === "unreadable" || e.kind === "raw"
      ? ""
      : `${Text.oneLine(e.expiration ?? "never")}${e.expired ? " (expired)" : ""}`
  const expirationWidth = Math.max(10, ...report.entries.map((e) => Text.displayWidth(expirationOf(e))))
  const serializerOf = (e: Inspect.Entry) => Text.truncate(Text.oneLine(e.serializer ?? ""), 15)
  const head = `${Text.pad("KEY", keyWidth)}  ${Text.pad("KIND", 10)}  ${Text.pad("SERIALIZER", 15)}  ${
    Text.pad("EXPIRATION", expirationWidth)
  }  VALUE`
  lines.push(head)
  const valueWidth = Math.max(20, (options?.width ?? 160) - head.length + 5)
  report.entries.forEach((e, i) => {
    const value = e.error !== undefined
      ? Text.truncate(`error: ${Text.oneLine(e.error)}`, Math.max(valueWidth, 120))
      : e.note !== undefined
      ? Text.oneLine(e.note)
      : e.decoded
      ? formatValue(e.value, valueWidth)
      : ""
    lines.push(
      `${Text.pad(keys[i]!, keyWidth)}  ${Text.pad(kindLabel[e.kind], 10)}  ${Text.pad(serializerOf(e), 15)}  ${
        Text.pad(expirationOf(e), expirationWidth)
      }  ${value}`.trimEnd()
    )
  })
  return lines.join("\n")
}

const reportHeader = (report: InspectReport) => {
  const counts: Record<string, number> = { record: 0, "record-3.0": 0, metadata: 0, raw: 0, unreadable: 0 }
  for (const e of report.entries) counts[e.kind] = (counts[e.kind] ?? 0) + 1
  return {
    path: report.path,
    total: report.entries.length,
    skipped: report.skipped,
    ...(report.history !== undefined && report.history > 0 ? { history: report.history } : {}),
    counts,
    expired: report.entries.filter((e) => e.expired).length
  }
}

/**
 * A report as the JSON `runstate inspect --json` prints: `path`, `total`,
 * `skipped`, `counts` by kind, `expired`, and `entries` (a decoded value in
 * `value`, otherwise `note` or `error`). Values are in the lossless form of
 * {@link inspectJsonText}; parse that text to get them.
 *
 * @category formatting
 * @since 0.1.0
 */
export const inspectJson = (report: InspectReport): unknown => JSON.parse(inspectJsonText(report))

/**
 * The text `runstate inspect --json` prints: the report header, then one
 * entry per line. Values that JSON cannot hold are tagged so nothing is lost:
 * `{"$float": "NaN"}` (`"Infinity"`, `"-Infinity"`, `"-0.0"`),
 * `{"$int": "digits"}` for integers beyond 2^53, `{"$set": [...]}`,
 * `{"$bytes": "base64"}`, `{"$error": {"type", "message"}}`,
 * `{"$datetime": "ISO"}`, and `{"$object": {...}}` around a plain object whose
 * only key is one of these tags. Data of any depth is written (no recursion);
 * an entry whose value cannot be written carries an `error` instead.
 *
 * @category formatting
 * @since 0.2.0
 */
export const inspectJsonText = (report: InspectReport): string => {
  const header = JSON.stringify(reportHeader(report), null, 2)
  const entries = report.entries.map((e) => {
    const { value, ...rest } = e
    try {
      const head = JSON.stringify(rest)
      return "value" in e ? `${head.slice(0, -1)},"value":${Text.losslessJson(value)}}` : head
    } catch (cause) {
      return JSON.stringify({
        ...rest,
        decoded: false,
        error: `cannot write value: ${cause instanceof Error ? cause.message : String(cause)}`
      })
    }
  })
  return `${header.slice(0, -2)},\n  "entries": [${
    entries.length === 0 ? "]" : `\n    ${entries.join(",\n    ")}\n  ]`
  }\n}`
}

// -----------------------------------------------------------------------------
// run history
// -----------------------------------------------------------------------------

/**
 * The runs a storage's history holds: its path and one summary per run
 * (id, kind, name, flow run, last state, number of transitions), in the
 * order the runs started.
 *
 * @category models
 * @since 0.2.0
 */
export type RunsReport = Inspect.RunsReport

/**
 * One run's history: its path, the run id and its transitions, oldest first.
 *
 * @category models
 * @since 0.2.0
 */
export type RunReport = Inspect.RunReport

/**
 * Reads the runs of the history kept beside the results of a storage
 * directory, or of a `redis://` or `postgres://` store — where
 * `RunLog.layerKeyValueStore()` writes it, under `runstate-history/` in the
 * results' `KeyValueStore`. A storage without a history has no runs. Fails
 * only when the target cannot be read.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Cli from "@runstate/node/Cli"
 *
 * const failed = Effect.map(Cli.runs(".runstate"), (report) =>
 *   report.runs.filter((run) => run.state.type === "FAILED").map((run) => run.name))
 * ```
 *
 * @category inspecting
 * @since 0.2.0
 */
export const runs = (path: string, options?: InspectOptions): Effect.Effect<RunsReport, string> =>
  Inspect.runs(path, options)

/**
 * Reads one run's transitions from the history of a storage (see
 * {@link runs}); fails when the history has no such run.
 *
 * @category inspecting
 * @since 0.2.0
 */
export const runHistory = (path: string, runId: string, options?: InspectOptions): Effect.Effect<RunReport, string> =>
  Inspect.runHistory(path, runId, options)

/**
 * The timeline page of a flow run recorded in a storage's history — a
 * directory, a `redis://` or a `postgres://` URL, as for {@link inspect} —
 * drawn by `Timeline.render`: the run given by `runId`, or else the latest
 * flow run. Fails with one line when the storage cannot be read or holds no
 * flow run with that id.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Cli from "@runstate/node/Cli"
 *
 * const page = Effect.map(Cli.timeline(".runstate"), (report) => report.html)
 * ```
 *
 * @category inspecting
 * @since 0.2.0
 */
export const timeline = (
  path: string,
  options?: InspectOptions & { readonly runId?: string | undefined }
): Effect.Effect<TimelineReport, string> => Inspect.timeline(path, options?.runId, options)

/**
 * A flow run's timeline page and where it came from (see {@link timeline}).
 *
 * @category models
 * @since 0.2.0
 */
export type TimelineReport = Inspect.TimelineReport

/** `Retrying (RUNNING)`, `Completed`: a state's name, and its type when the name does not say it. */
const stateLabel = (state: State.State<unknown>): string =>
  state.name.toUpperCase() === state.type ? Text.oneLine(state.name) : `${Text.oneLine(state.name)} (${state.type})`

const isoOf = (state: State.State<unknown>): string => safely(() => DateTime.formatIso(state.timestamp))

/**
 * The runs of a history as text: a summary line, then one line per run with
 * its id, kind, name, number of transitions and last state (as Prefect
 * prints a state), e.g.
 * `0190c6a4-…  task  fetch-1  4  Completed()`.
 *
 * @category formatting
 * @since 0.2.0
 */
export const formatRuns = (report: RunsReport, options?: { readonly width?: number | undefined }): string => {
  const shown = Text.oneLine(report.path)
  if (report.runs.length === 0) return `${shown}: no run history`
  const flows = report.runs.filter((r) => r.kind === "flow").length
  const tasks = report.runs.length - flows
  const parts = [...(flows > 0 ? [plural(flows, "flow run")] : []), ...(tasks > 0 ? [plural(tasks, "task run")] : [])]
  const lines = [`${shown}: ${plural(report.runs.length, "run")} — ${parts.join(", ")}`]
  const ids = report.runs.map((r) => Text.truncate(Text.oneLine(r.runId), 36))
  const names = report.runs.map((r) => Text.truncate(Text.oneLine(r.name), 40))
  const idWidth = Math.max(6, ...ids.map(Text.displayWidth))
  const nameWidth = Math.max(4, ...names.map(Text.displayWidth))
  const head = `${Text.pad("RUN ID", idWidth)}  KIND  ${Text.pad("NAME", nameWidth)}  TRANSITIONS  FINAL STATE`
  lines.push(head)
  const stateWidth = Math.max(30, (options?.width ?? 160) - head.length + 11)
  report.runs.forEach((r, i) => {
    lines.push(
      `${Text.pad(ids[i]!, idWidth)}  ${Text.pad(r.kind, 4)}  ${Text.pad(names[i]!, nameWidth)}  ${
        Text.pad(String(r.transitions), 11)
      }  ${Text.truncate(Text.oneLine(safely(() => State.format(r.state))), stateWidth)}`.trimEnd()
    )
  })
  return lines.join("\n")
}

/**
 * One run's history as text: a line naming the run (kind, name, id, flow
 * run), then one line per transition — timestamp, `from → to` (a state's
 * name, with its type when the name does not say it; `∅` before the first
 * state) and the message.
 *
 * @category formatting
 * @since 0.2.0
 */
export const formatRun = (report: RunReport, options?: { readonly width?: number | undefined }): string => {
  const first = report.transitions[0]
  const last = report.transitions[report.transitions.length - 1]
  if (first === undefined || last === undefined) return `${Text.oneLine(report.path)}: no run ${report.runId}`
  const flow = first.flowRunId === undefined ? "" : `, flow run ${Text.oneLine(first.flowRunId)}`
  const lines = [
    `${first.kind} run ${Text.oneLine(first.name)} (${Text.oneLine(report.runId)}${flow}): ${
      plural(report.transitions.length, "transition")
    }, now ${stateLabel(last.to)}`
  ]
  const steps = report.transitions.map((t) =>
    `${t.from === undefined ? "∅" : stateLabel(t.from)} → ${stateLabel(t.to)}`
  )
  const times = report.transitions.map((t) => isoOf(t.to))
  const timeWidth = Math.max(9, ...times.map(Text.displayWidth))
  const stepWidth = Math.max(11, ...steps.map(Text.displayWidth))
  const head = `${Text.pad("TIMESTAMP", timeWidth)}  ${Text.pad("FROM → TO", stepWidth)}  MESSAGE`
  lines.push(head)
  const messageWidth = Math.max(30, (options?.width ?? 160) - head.length + 7)
  report.transitions.forEach((t, i) => {
    lines.push(
      `${Text.pad(times[i]!, timeWidth)}  ${Text.pad(steps[i]!, stepWidth)}  ${
        Text.truncate(Text.oneLine(t.to.message ?? ""), messageWidth)
      }`.trimEnd()
    )
  })
  return lines.join("\n")
}

const stateSummaryJson = (state: State.State<unknown>) => ({
  type: state.type,
  name: state.name,
  message: state.message,
  timestamp: isoOf(state)
})

/**
 * The runs of a history as the JSON `runstate inspect PATH --runs --json`
 * prints: `path` and `runs`, each with `run_id`, `kind`, `name`,
 * `flow_run_id`, `transitions` (a count) and its last `state` (`type`,
 * `name`, `message`, `timestamp`).
 *
 * @category formatting
 * @since 0.2.0
 */
export const runsJson = (report: RunsReport): unknown => ({
  path: report.path,
  runs: report.runs.map((r: RunLog.RunSummary) => ({
    run_id: r.runId,
    kind: r.kind,
    name: r.name,
    flow_run_id: r.flowRunId ?? null,
    transitions: r.transitions,
    state: stateSummaryJson(r.state)
  }))
})

/**
 * One run's history as the JSON `runstate inspect PATH --run ID --json`
 * prints: `path`, `run_id`, `kind`, `name`, `flow_run_id` and
 * `transitions`, each with `run_count`, `from` (`type` and `name`, or
 * `null`) and `to` (`type`, `name`, `message`, `timestamp`).
 *
 * @category formatting
 * @since 0.2.0
 */
export const runJson = (report: RunReport): unknown => {
  const first = report.transitions[0]
  return {
    path: report.path,
    run_id: report.runId,
    kind: first?.kind ?? null,
    name: first?.name ?? null,
    flow_run_id: first?.flowRunId ?? null,
    transitions: report.transitions.map((t) => ({
      run_count: t.runCount,
      from: t.from === undefined ? null : { type: t.from.type, name: t.from.name },
      to: stateSummaryJson(t.to)
    }))
  }
}

// -----------------------------------------------------------------------------
// state
// -----------------------------------------------------------------------------

const messageOf = (u: unknown): string =>
  u instanceof Error ? u.message : typeof u === "object" && u !== null && "message" in u
    ? String((u as { readonly message: unknown }).message)
    : String(u)

/** `f()`, or a one-line note when it throws (e.g. data too deep for a recursive formatter). */
const safely = (f: () => string): string => {
  try {
    return f()
  } catch (cause) {
    return `<cannot display: ${Text.oneLine(messageOf(cause))}>`
  }
}

/** The state object of a document: the document itself, or the `state` of a `set_state` answer. */
const unwrapState = (json: unknown): unknown =>
  typeof json === "object" && json !== null && !Array.isArray(json) && !("type" in json) &&
    "state" in json && typeof json.state === "object" && json.state !== null
    ? json.state
    : json

/**
 * A decoded state document: the state, and which of `id` and `timestamp` the
 * document did not have (a `StateCreate` proposal has neither; the decoded
 * state then holds values the decoder made up, which the CLI does not show).
 *
 * @category models
 * @since 0.2.0
 */
export interface StateDocument {
  readonly state: State.State<unknown>
  readonly absent: ReadonlyArray<"id" | "timestamp">
}

/**
 * Like {@link decodeStateDocument}, also telling which of `id` and
 * `timestamp` the document lacks. Never throws: any input, however deep or
 * odd, is a state or a one-line error.
 *
 * @category decoding
 * @since 0.2.0
 */
export const readStateDocument = (text: string): Effect.Effect<StateDocument, string> =>
  Effect.gen(function*() {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (cause) {
      return yield* Effect.fail(`not JSON: ${Text.oneLine(messageOf(cause))}`)
    }
    const unwrapped = unwrapState(json)
    const state = yield* Effect.suspend(() => Wire.decodeStateResponse(unwrapped)).pipe(
      Effect.catchCause((cause) => Effect.fail(`not a Prefect state: ${Text.oneLine(messageOf(Cause.squash(cause)))}`))
    )
    const has = (key: string) =>
      typeof unwrapped === "object" && unwrapped !== null && Object.hasOwn(unwrapped, key) &&
      (unwrapped as Record<string, unknown>)[key] !== null
    const absent = (["id", "timestamp"] as const).filter((key) => !has(key))
    return { state, absent }
  })

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
  Effect.map(readStateDocument(text), (doc) => doc.state)

const isDefault = (value: unknown): boolean =>
  value === null || value === false || (typeof value === "object" && value !== null && Object.keys(value).length === 0)

const describeData = (data: unknown): string => {
  if (data === null || data === undefined) return "none"
  if (ResultRecord.isResultRecordMetadata(data)) {
    const expiration = data.expiration === null ? "never" : DateTime.formatIso(data.expiration)
    return Text.oneLine(
      `result metadata — storage key ${
        data.storageKey ?? "(none)"
      }, serializer ${data.serializer.type}, expiration ${expiration}`
    )
  }
  return formatValue(data, 100)
}

const absentNote = "absent (a StateCreate document has none)"

/**
 * A decoded state as text: `State.format` (Prefect's `str`), then its
 * type, name, id, timestamp, message, data (result metadata or value) and
 * every state detail that is set (Prefect's snake_case names). Fields named
 * in `absent` are printed as absent instead of the decoder's made-up values.
 *
 * @category formatting
 * @since 0.1.0
 */
export const formatState = (
  state: State.State<unknown>,
  options?: { readonly absent?: ReadonlyArray<"id" | "timestamp"> | undefined }
): Effect.Effect<string, string> =>
  Effect.gen(function*() {
    const absent = options?.absent ?? []
    const details = yield* Effect.suspend(() => Wire.encodeStateDetails(state.stateDetails)).pipe(
      Effect.catchCause((cause) => Effect.fail(Text.oneLine(messageOf(Cause.squash(cause)))))
    )
    const set = Object.entries(details).filter(([, value]) => !isDefault(value))
    const lines = [
      safely(() => Text.oneLine(State.format(state))),
      `  type       ${state.type}`,
      `  name       ${Text.oneLine(state.name)}`,
      `  id         ${absent.includes("id") ? absentNote : state.id}`,
      `  timestamp  ${absent.includes("timestamp") ? absentNote : DateTime.formatIso(state.timestamp)}`,
      `  message    ${state.message === null ? "none" : Text.oneLine(state.message)}`,
      `  data       ${safely(() => describeData(state.data))}`
    ]
    if (set.length === 0) lines.push("  details    none set")
    else {
      lines.push("  details")
      const width = Math.max(...set.map(([key]) => key.length))
      for (const [key, value] of set) {
        lines.push(
          `    ${Text.pad(key, width)}  ${typeof value === "string" ? Text.oneLine(value) : formatValue(value)}`
        )
      }
    }
    return lines.join("\n")
  })

/**
 * A decoded state as the JSON `runstate state --json` prints: `format`
 * (Prefect's `str`), `inspect` (Prefect's `repr`), `absent` (which of `id`
 * and `timestamp` the document lacked; they are `null` in `state`) and
 * `state` (the server's JSON shape, `Wire.encodeStateResponse`).
 *
 * @category formatting
 * @since 0.1.0
 */
export const stateJson = (
  state: State.State<unknown>,
  options?: { readonly absent?: ReadonlyArray<"id" | "timestamp"> | undefined }
): Effect.Effect<unknown, string> => Effect.map(stateJsonText(state, options), (text) => JSON.parse(text))

/**
 * The text `runstate state --json` prints (see {@link stateJson}); data of
 * any depth is written, values JSON cannot hold in the lossless form of
 * {@link inspectJsonText}.
 *
 * @category formatting
 * @since 0.2.0
 */
export const stateJsonText = (
  state: State.State<unknown>,
  options?: { readonly absent?: ReadonlyArray<"id" | "timestamp"> | undefined }
): Effect.Effect<string, string> =>
  Effect.suspend(() => Wire.encodeStateResponse(state)).pipe(
    Effect.catchCause((cause) => Effect.fail(Text.oneLine(messageOf(Cause.squash(cause))))),
    Effect.map((encoded) => {
      const absent = options?.absent ?? []
      const shown: Record<string, unknown> = { ...encoded }
      for (const key of absent) shown[key] = null
      return `{\n  "format": ${JSON.stringify(safely(() => State.format(state)))},\n  "inspect": ${
        JSON.stringify(safely(() => State.inspect(state)))
      },\n  "absent": ${JSON.stringify(absent)},\n  "state": ${Text.losslessJson(shown)}\n}`
    })
  )

// -----------------------------------------------------------------------------
// commands
// -----------------------------------------------------------------------------

const write = (text: string) => Stdio.Stdio.use((stdio) => Stream.run(Stream.succeed(text), stdio.stdout()))

const writeTo = (stdio: Stdio.Stdio, text: string) => Stream.run(Stream.succeed(text), stdio.stderr())

const ignore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.ignore(effect)

/** Files above which progress is shown even when stderr is not a terminal. */
const progressThreshold = 1000

/** `--prefix` and `--table`: where a Redis or SQL store keeps its keys (the commands reading stores share them). */
const prefixFlag = Flag.String("prefix").pipe(
  Flag.withDescription("the key prefix of a Redis store (default runstate:)"),
  Flag.withDefault("runstate:")
)

const tableFlag = Flag.String("table").pipe(
  Flag.withDescription("the table of a SQL store (default effect_key_value_store)"),
  Flag.withDefault("effect_key_value_store")
)

const inspectCommand = Command.make(
  "inspect",
  {
    path: Argument.String("path").pipe(
      Argument.withDescription("a result-storage directory, one file, or a redis:// or postgres:// URL")
    ),
    json: Flag.Boolean("json").pipe(Flag.withDescription("print JSON"), Flag.withDefault(false)),
    maxSize: Flag.Int("max-size").pipe(
      Flag.withDescription("the most bytes read from one file and decompressed from one record (default 64 MiB)"),
      Flag.withDefault(Inspect.defaultMaxBytes)
    ),
    allowOutside: Flag.Boolean("allow-outside").pipe(
      Flag.withDescription("read split-layout results that lie outside the inspected directory"),
      Flag.withDefault(false)
    ),
    prefix: prefixFlag,
    table: tableFlag,
    runs: Flag.Boolean("runs").pipe(
      Flag.withDescription("list the flow and task runs of the run history kept with the results"),
      Flag.withDefault(false)
    ),
    run: Flag.String("run").pipe(
      Flag.withDescription("print the transitions of one run of the run history (its run id)"),
      Flag.optional
    )
  },
  ({ allowOutside, json, maxSize, path, prefix, run, runs: listRuns, table }) =>
    Effect.gen(function*() {
      if (!Number.isSafeInteger(maxSize) || maxSize < 1) {
        return yield* Effect.fail(userError(`--max-size must be a positive number of bytes, got ${maxSize}`))
      }
      if (listRuns && Option.isSome(run)) {
        return yield* Effect.fail(userError("--runs and --run ID cannot be used together"))
      }
      if (listRuns) {
        const report = yield* Inspect.runs(path, { prefix, table, maxBytes: maxSize }).pipe(Effect.mapError(userError))
        const out = json ? JSON.stringify(runsJson(report), null, 2) : formatRuns(report)
        return yield* ignore(write(`${out}\n`))
      }
      if (Option.isSome(run)) {
        const report = yield* Inspect.runHistory(path, run.value, { prefix, table, maxBytes: maxSize }).pipe(
          Effect.mapError(userError)
        )
        const out = json ? JSON.stringify(runJson(report), null, 2) : formatRun(report)
        return yield* ignore(write(`${out}\n`))
      }
      const stdio = yield* Stdio.Stdio
      const tty = yield* stdio.stderrIsTerminal
      let enabled = false
      const report = yield* Inspect.inspect(path, {
        maxBytes: maxSize,
        allowOutside,
        prefix,
        table,
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
      const out = json ? inspectJsonText(report) : formatInspect(report)
      yield* ignore(write(`${out}\n`))
    })
).pipe(
  Command.withDescription(
    "List the result records of a storage directory (runstate's file store or Prefect's ~/.prefect/storage), a Redis store or a SQL store; with --runs or --run ID, the run history kept with them"
  )
)

const timelineCommand = Command.make(
  "timeline",
  {
    path: Argument.String("storage").pipe(
      Argument.withDescription("a result-storage directory, or a redis:// or postgres:// URL, holding a run history")
    ),
    run: Flag.String("run").pipe(
      Flag.withDescription("the flow run to draw (default: the latest one)"),
      Flag.optional
    ),
    out: Flag.String("out").pipe(
      Flag.withDescription("the HTML file to write (default: timeline-<flow run id>.html here)"),
      Flag.optional
    ),
    maxSize: Flag.Int("max-size").pipe(
      Flag.withDescription("the most bytes read from one history file (default 64 MiB)"),
      Flag.withDefault(Inspect.defaultMaxBytes)
    ),
    prefix: prefixFlag,
    table: tableFlag
  },
  ({ maxSize, out, path, prefix, run, table }) =>
    Effect.gen(function*() {
      if (!Number.isSafeInteger(maxSize) || maxSize < 1) {
        return yield* Effect.fail(userError(`--max-size must be a positive number of bytes, got ${maxSize}`))
      }
      const report = yield* Inspect.timeline(path, Option.getOrUndefined(run), { maxBytes: maxSize, prefix, table })
        .pipe(Effect.mapError(userError))
      const file = Option.getOrElse(out, () => `timeline-${report.flowRunId ?? "empty"}.html`)
      yield* Effect.tryPromise({
        try: () => fs.writeFile(file, report.html),
        catch: (cause) => userError(`cannot write ${file}: ${Text.oneLine(messageOf(cause))}`)
      })
      const what = report.flowRunId === undefined
        ? "no flow run in the history"
        : `flow run ${report.flowRunId}, ${report.taskRuns} task run${report.taskRuns === 1 ? "" : "s"}`
      yield* ignore(write(`${file} (${what})\n`))
    })
).pipe(
  Command.withDescription(
    "Draw a flow run from a storage's run history as one self-contained HTML page (the latest, or --run ID)"
  )
)

/** State documents are small; more than this is refused. */
const maxStateDocument = 64 * 1024 * 1024

const readText = (file: string): Effect.Effect<string, string, Stdio.Stdio> =>
  file === "-"
    ? Stdio.Stdio.use((stdio) =>
      Stream.mkString(Stream.decodeText(stdio.stdin)).pipe(
        Effect.mapError((e) => `cannot read standard input: ${Text.oneLine(e.message)}`)
      )
    )
    : Effect.flatMap(
      Effect.promise(() => Inspect.readFile(file, maxStateDocument)),
      (read) =>
        "error" in read
          ? Effect.fail(`${file}: ${read.error}`)
          : Effect.succeed(new TextDecoder().decode(read.bytes))
    )

const stateCommand = Command.make(
  "state",
  {
    file: Argument.String("file").pipe(Argument.withDescription("a Prefect state JSON document, or - for stdin")),
    json: Flag.Boolean("json").pipe(Flag.withDescription("print JSON"), Flag.withDefault(false))
  },
  ({ file, json }) =>
    Effect.gen(function*() {
      const text = yield* readText(file)
      const doc = yield* readStateDocument(text).pipe(Effect.mapError((message) => `${file}: ${message}`))
      const out = json ? yield* stateJsonText(doc.state, doc) : yield* formatState(doc.state, doc)
      yield* ignore(write(`${out}\n`))
    }).pipe(Effect.mapError((message) => typeof message === "string" ? userError(message) : message))
).pipe(Command.withDescription("Decode a Prefect state JSON document and print it as Prefect does"))

/**
 * The `runstate` command with its subcommands `inspect`, `state` and `timeline`.
 *
 * @category commands
 * @since 0.1.0
 */
export const command = Command.make("runstate").pipe(
  Command.withDescription("Inspect runstate and Prefect result storage and state documents"),
  Command.withSubcommands([inspectCommand, stateCommand, timelineCommand])
)

/** The version of `@runstate/node`, read from its package.json (next to `src/` and `dist/`). */
const version: Effect.Effect<string> = Effect.promise(() =>
  fs.readFile(new URL("../package.json", import.meta.url), "utf8").then(
    (text) => {
      const v = (JSON.parse(text) as { readonly version?: unknown }).version
      return typeof v === "string" ? v : "unknown"
    },
    () => "unknown"
  )
)

/**
 * Runs the `runstate` command on `args` (without the program name), e.g.
 * `run(["inspect", "/root/.prefect/storage", "--json"])`. Output goes to the
 * `Stdio` service; provide `NodeServices.layer` (as the `runstate` bin does)
 * or test layers. Errors are not printed: the effect fails with them (see
 * {@link main}, which prints them).
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
export const run = (
  args: ReadonlyArray<string>
): Effect.Effect<void, CliError.CliError | CliError.UserError, Command.Environment> =>
  Effect.flatMap(version, (v) => Command.runWith(command, { version: v, renderErrors: false })(args))

/**
 * Runs the `runstate` command and answers its exit status: 0 on success;
 * 1 after printing one line `runstate: <message>` to stderr for an error (a
 * bad argument, an unreadable path, a document that is not a state, or an
 * unexpected failure — never a stack trace).
 *
 * @category running
 * @since 0.2.0
 */
export const main = (args: ReadonlyArray<string>): Effect.Effect<number, never, Command.Environment> =>
  run(args).pipe(
    Effect.as(0),
    Effect.catchCause((cause) =>
      Effect.gen(function*() {
        if (Cause.hasInterruptsOnly(cause)) return 130
        const error = Cause.squash(cause)
        const messages = CliError.isCliError(error) && error._tag === "ShowHelp"
          ? error.errors.map((e) => messageOf(e))
          : [
            CliError.isCliError(error) || (error as { readonly _tag?: unknown })?._tag === "UserError"
              ? (CliError.getUserMessage(error as object) ?? messageOf(error))
              : `unexpected error: ${messageOf(error)}`
          ]
        const stdio = yield* Stdio.Stdio
        for (const message of messages) yield* ignore(writeTo(stdio, `runstate: ${Text.oneLine(message)}\n`))
        return 1
      })
    )
  )
