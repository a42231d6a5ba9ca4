/**
 * A picture of a run: one flow run's recorded history drawn as a timeline, the
 * way Prefect's UI draws it — one row per task run, bars from RUNNING to the
 * state each attempt ended in, coloured by state type, waits between retries
 * and cache hits marked — as a single self-contained HTML page (inline SVG and
 * CSS, nothing fetched, readable printed and in dark mode), with the same data
 * in an accessible table below the chart.
 *
 * `layout` turns histories into rows of segments (pure data, easy to test);
 * `render` turns those into the page; `fromRunLog` reads a flow run and its
 * task runs from the {@link RunLog.RunLog} service.
 *
 * @since 0.2.0
 */
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type { StorageError } from "./RunError.ts"
import * as RunLog from "./RunLog.ts"
import * as State from "./State.ts"
import type * as StateType from "./StateType.ts"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * One run's recorded transitions, in the order they were recorded.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunHistory {
  readonly runId: string
  readonly name: string
  readonly transitions: ReadonlyArray<RunLog.Transition>
}

/**
 * What a timeline draws: a flow run (absent when the history holds task runs
 * only) and its task runs.
 *
 * @category models
 * @since 0.2.0
 */
export interface Input {
  readonly flow: RunHistory | undefined
  readonly tasks: ReadonlyArray<RunHistory>
  /** Where the history came from, shown in the page's header (a directory, a URL). */
  readonly source?: string | undefined
}

/**
 * What a segment of a row stands for.
 *
 * - `pending`: from PENDING (or SCHEDULED) until the run started;
 * - `running`: a RUNNING span (the first attempt, or a `Retrying` one), coloured by the state it ended in;
 * - `waiting`: an `AwaitingRetry` wait between attempts (or any other SCHEDULED/PAUSED wait after a start);
 * - `final`: a final state with no RUNNING before it (a `Cached` hit, a run cancelled or crashed before it started);
 * - `open`: the run's last state is not final: it is still going, or the process recording it died.
 *
 * @category models
 * @since 0.2.0
 */
export type SegmentKind = "pending" | "running" | "waiting" | "final" | "open"

/**
 * One segment of a row: a span of time in one state.
 *
 * @category models
 * @since 0.2.0
 */
export interface Segment {
  readonly kind: SegmentKind
  /** The state the span is in (for `running`: the RUNNING state, e.g. named `Retrying`). */
  readonly state: State.State<unknown>
  /** The state that ended the span, if one was recorded. */
  readonly endedIn: State.State<unknown> | undefined
  /** The state type that colours the span: the type it ended in for `running`, its own otherwise. */
  readonly colour: StateType.StateType
  /** Epoch milliseconds. */
  readonly start: number
  /** Epoch milliseconds; for `open`, the latest time in the whole history. */
  readonly end: number
}

/**
 * One row of the chart: a task run (or the flow run itself), or — past the
 * row limit — a group of consecutive task runs drawn as one aggregate bar.
 *
 * @category models
 * @since 0.2.0
 */
export type Row = RunRow | GroupRow

/**
 * A row for one run.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunRow {
  readonly _tag: "RunRow"
  readonly runId: string
  readonly name: string
  readonly segments: ReadonlyArray<Segment>
  /** The run's last recorded state, `undefined` for a run with no transitions. */
  readonly final: State.State<unknown> | undefined
  /** When its first state was recorded (epoch ms). */
  readonly start: number
  readonly end: number
  /** Anomalies found while reading its history, shown beside the row. */
  readonly notes: ReadonlyArray<string>
}

/**
 * A row standing for `runs` consecutive task runs (rows past the limit).
 *
 * @category models
 * @since 0.2.0
 */
export interface GroupRow {
  readonly _tag: "GroupRow"
  /** 1-based positions of the first and last task run in start order. */
  readonly first: number
  readonly last: number
  readonly start: number
  readonly end: number
  /** How many of the runs are in each final (or last) state type. */
  readonly counts: ReadonlyArray<readonly [StateType.StateType, number]>
}

/**
 * The computed picture: rows, the time range and axis ticks.
 *
 * @category models
 * @since 0.2.0
 */
export interface Layout {
  readonly flow: RunRow | undefined
  readonly rows: ReadonlyArray<Row>
  /** Every task run's row, in start order, whether or not the chart groups them (for the table). */
  readonly taskRows: ReadonlyArray<RunRow>
  readonly start: number
  readonly end: number
  readonly ticks: ReadonlyArray<Tick>
  /** Anomalies about the history as a whole. */
  readonly notes: ReadonlyArray<string>
}

/**
 * An axis tick: its time and its label (an offset from the run's start).
 *
 * @category models
 * @since 0.2.0
 */
export interface Tick {
  readonly at: number
  readonly label: string
}

/**
 * Options of {@link layout} and {@link render}.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /** Past this many task runs, consecutive runs are drawn as aggregate rows (default 200). */
  readonly maxRows?: number | undefined
  /** The page's title (default: the flow run's name, or "runstate timeline"). */
  readonly title?: string | undefined
}

/**
 * Fails {@link fromRunLog}: the requested flow run is not in the history.
 *
 * @category errors
 * @since 0.2.0
 */
export class RunNotFound extends Data.TaggedError("RunNotFound")<{
  readonly runId: string
  readonly message: string
}> {}

// -----------------------------------------------------------------------------
// layout
// -----------------------------------------------------------------------------

const millis = (state: State.State<unknown>): number => DateTime.toEpochMillis(state.timestamp)

const isWait = (state: State.State<unknown>): boolean => state.type === "SCHEDULED" || state.type === "PAUSED"

/** The states of a history as recorded, with notes on what does not fit. */
const statesOf = (history: RunHistory): { states: Array<State.State<unknown>>; notes: Array<string> } => {
  const notes: Array<string> = []
  const states = history.transitions.map((t) => t.to)
  for (let i = 1; i < states.length; i++) {
    if (millis(states[i]!) < millis(states[i - 1]!)) {
      notes.push("states recorded out of time order: drawn in time order")
      states.sort((a, b) => millis(a) - millis(b))
      break
    }
  }
  return { states, notes }
}

const runRow = (history: RunHistory, horizon: number): RunRow => {
  const { notes, states } = statesOf(history)
  const segments: Array<Segment> = []
  let started = false
  for (let i = 0; i < states.length; i++) {
    const state = states[i]!
    const next = states[i + 1]
    const start = millis(state)
    if (next === undefined) {
      if (State.isFinal(state)) {
        if (!segments.some((s) => s.kind === "running")) {
          segments.push({ kind: "final", state, endedIn: undefined, colour: state.type, start, end: start })
        }
      } else {
        segments.push({
          kind: "open",
          state,
          endedIn: undefined,
          colour: state.type,
          start,
          end: Math.max(start, horizon)
        })
        notes.push(
          `no final state recorded: the run is still going, or the process recording it stopped (last: ${state.name})`
        )
      }
      break
    }
    const end = millis(next)
    if (state.type === "RUNNING") {
      started = true
      segments.push({
        kind: "running",
        state,
        endedIn: next,
        colour: next.type === "RUNNING" ? "RUNNING" : next.type,
        start,
        end
      })
    } else if (State.isFinal(state)) {
      notes.push(`a state follows the final state ${state.name}`)
    } else {
      const kind: SegmentKind = started && isWait(state) ? "waiting" : "pending"
      segments.push({ kind, state, endedIn: next, colour: state.type, start, end })
    }
  }
  const first = states[0]
  const last = states[states.length - 1]
  if (first === undefined) notes.push("no states recorded")
  return {
    _tag: "RunRow",
    runId: history.runId,
    name: history.name,
    segments,
    final: last,
    start: first === undefined ? horizon : millis(first),
    end: segments.length === 0 ? horizon : Math.max(...segments.map((s) => s.end)),
    notes
  }
}

const units: ReadonlyArray<readonly [number, string]> = [[3_600_000, "h"], [60_000, "min"], [1000, "s"], [1, "ms"]]

/**
 * A duration as a short text: `0 ms`, `250 ms`, `1.5 s`, `2 min`, `1 h 30 min`.
 *
 * @category formatting
 * @since 0.2.0
 */
export const formatDuration = (ms: number): string => {
  if (ms < 1000) return `${Math.round(ms * 1000) / 1000} ms`
  if (ms < 60_000) return `${Math.round(ms / 10) / 100} s`
  const parts: Array<string> = []
  let rest = Math.round(ms / 1000) * 1000
  for (const [size, unit] of units) {
    if (size < 1000) break
    const n = Math.floor(rest / size)
    if (n > 0) parts.push(`${n} ${unit}`)
    rest -= n * size
    if (parts.length === 2) break
  }
  return parts.join(" ")
}

const steps: ReadonlyArray<number> = (() => {
  const out: Array<number> = []
  for (let exp = -3; exp <= 3; exp++) for (const m of [1, 2, 5]) out.push(m * 10 ** exp)
  for (const s of [1, 2, 5, 10, 15, 30]) out.push(s * 1000)
  for (const m of [1, 2, 5, 10, 15, 30]) out.push(m * 60_000)
  for (const h of [1, 2, 3, 6, 12, 24, 48]) out.push(h * 3_600_000)
  return [...new Set(out)].sort((a, b) => a - b)
})()

/**
 * Axis ticks for a time range: a "nice" step (1, 2 or 5 × a power of ten below
 * a second; seconds, minutes and hours above) giving at most `max` ticks,
 * labelled by their offset from `start`.
 *
 * @category getters
 * @since 0.2.0
 */
export const ticks = (start: number, end: number, max = 8): ReadonlyArray<Tick> => {
  const span = Math.max(end - start, 0)
  if (span === 0) return [{ at: start, label: formatDuration(0) }]
  const step = steps.find((s) => span / s <= max) ?? Math.ceil(span / max / 3_600_000) * 3_600_000
  const out: Array<Tick> = []
  for (let k = 0; k * step <= span + 1e-9; k++) out.push({ at: start + k * step, label: formatDuration(k * step) })
  return out
}

/**
 * Lays a flow run and its task runs out as rows of segments: task rows in
 * start order, consecutive task runs grouped into aggregate rows when there
 * are more than `maxRows`. Never fails: anomalies (no states, states out of
 * order, a missing final state) become notes.
 *
 * @category constructors
 * @since 0.2.0
 */
export const layout = (input: Input, options?: Options): Layout => {
  let horizon = -Infinity
  let earliest = Infinity
  const all = input.flow === undefined ? input.tasks : [input.flow, ...input.tasks]
  for (const run of all) {
    for (const t of run.transitions) {
      const at = millis(t.to)
      if (at > horizon) horizon = at
      if (at < earliest) earliest = at
    }
  }
  if (horizon === -Infinity) horizon = earliest = 0
  const flow = input.flow === undefined ? undefined : runRow(input.flow, horizon)
  const taskRows = input.tasks.map((t) => runRow(t, horizon)).sort((a, b) => a.start - b.start)
  const maxRows = Math.max(1, Math.floor(options?.maxRows ?? 200))
  const rows: Array<Row> = []
  if (taskRows.length <= maxRows) {
    rows.push(...taskRows)
  } else {
    const size = Math.ceil(taskRows.length / maxRows)
    for (let i = 0; i < taskRows.length; i += size) {
      const group = taskRows.slice(i, i + size)
      const counts = new Map<StateType.StateType, number>()
      for (const row of group) {
        if (row.final !== undefined) counts.set(row.final.type, (counts.get(row.final.type) ?? 0) + 1)
      }
      rows.push({
        _tag: "GroupRow",
        first: i + 1,
        last: i + group.length,
        start: Math.min(...group.map((r) => r.start)),
        end: Math.max(...group.map((r) => r.end)),
        counts: [...counts]
      })
    }
  }
  const notes: Array<string> = []
  if (input.flow === undefined) notes.push("no flow run recorded: showing task runs only")
  if (input.tasks.length === 0) notes.push("no task runs recorded for this flow run")
  if (taskRows.length > maxRows) {
    notes.push(
      `${taskRows.length} task runs: each chart row stands for up to ${
        Math.ceil(taskRows.length / maxRows)
      } consecutive runs; the table lists every run`
    )
  }
  return { flow, rows, taskRows, start: earliest, end: horizon, ticks: ticks(earliest, horizon), notes }
}

// -----------------------------------------------------------------------------
// render
// -----------------------------------------------------------------------------

/**
 * Prefect's UI colours per state type (light and dark schemes).
 *
 * @category constants
 * @since 0.2.0
 */
export const colours: Readonly<Record<StateType.StateType, { readonly light: string; readonly dark: string }>> = {
  SCHEDULED: { light: "#e08504", dark: "#e6d7a8" },
  PENDING: { light: "#554b58", dark: "#e0dee3" },
  RUNNING: { light: "#09439b", dark: "#a8bde6" },
  COMPLETED: { light: "#219d4b", dark: "#85d6a9" },
  FAILED: { light: "#de0529", dark: "#e3abab" },
  CANCELLED: { light: "#333333", dark: "#adadad" },
  CRASHED: { light: "#ea580c", dark: "#dea57c" },
  PAUSED: { light: "#554b58", dark: "#e0dee3" },
  CANCELLING: { light: "#334863", dark: "#99aac2" }
}

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }

/**
 * Escapes a text for HTML and SVG (element content and quoted attributes).
 *
 * @category getters
 * @since 0.2.0
 */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => escapes[c]!)

const MAX_MESSAGE = 500
const clip = (text: string): string =>
  text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}… (${text.length - MAX_MESSAGE} more characters)`

const iso = (ms: number): string => {
  if (!Number.isFinite(ms)) return "?"
  return new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC")
}

const segmentLabel = (segment: Segment): string => {
  switch (segment.kind) {
    case "running":
      return segment.endedIn === undefined ? segment.state.name : `${segment.state.name} → ${segment.endedIn.name}`
    case "open":
      return `${segment.state.name} (no final state recorded)`
    default:
      return segment.state.name
  }
}

const segmentMessage = (segment: Segment): string => {
  const state = segment.kind === "running" && segment.endedIn !== undefined ? segment.endedIn : segment.state
  return state.message === null || state.message === "" ? "" : clip(state.message)
}

const hoverText = (row: RunRow, segment: Segment): string => {
  const message = segmentMessage(segment)
  return `${row.name} · ${segmentLabel(segment)} · ${iso(segment.start)} – ${iso(segment.end)} (${
    formatDuration(segment.end - segment.start)
  })${message === "" ? "" : ` · ${message}`}`
}

const style = (): string => {
  const light = Object.entries(colours).map(([t, c]) => `--s-${t.toLowerCase()}:${c.light};`).join("")
  const dark = Object.entries(colours).map(([t, c]) => `--s-${t.toLowerCase()}:${c.dark};`).join("")
  const fills = Object.keys(colours).map((t) => `.s-${t.toLowerCase()}{fill:var(--s-${t.toLowerCase()})}`).join("")
  return `:root{color-scheme:light dark;--bg:#fff;--fg:#17181c;--muted:#6b6f7a;--grid:#d9dbe0;${light}}
@media (prefers-color-scheme:dark){:root{--bg:#25272b;--fg:#f2f2f3;--muted:#a9acb4;--grid:#3d4047;${dark}}}
@media print{:root{--bg:#fff;--fg:#000;--muted:#444;--grid:#bbb;${light}}details{display:block}details>*{display:block}tr{break-inside:avoid}}
body{margin:1.5rem;background:var(--bg);color:var(--fg);font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif}
h1{font-size:1.3rem;margin:0 0 .25rem}.meta{color:var(--muted);margin:0 0 1rem}.notes{color:var(--s-crashed)}
svg{display:block;max-width:100%;height:auto}text{fill:var(--fg);font-size:12px}.axis text{fill:var(--muted);font-size:11px}
.grid{stroke:var(--grid);stroke-width:1}.waiting{opacity:.45}.pending{opacity:.35}.retry{stroke:var(--fg);stroke-width:1;stroke-dasharray:3 2}
.open{opacity:.6}.crashed-row{font-weight:700;fill:var(--s-crashed)}${fills}
.legend{display:flex;flex-wrap:wrap;gap:.4rem;margin:.5rem 0 0;padding:0;list-style:none}td.time{white-space:nowrap}
table{border-collapse:collapse;margin-top:1rem;font-size:13px}th,td{border-bottom:1px solid var(--grid);padding:.2rem .6rem;text-align:left;vertical-align:top}
.badge{display:inline-block;padding:0 .4rem;border-radius:.6rem;color:#fff;font-size:12px}
@media (prefers-color-scheme:dark){.badge{color:#17181c}}`
}

const LABEL_WIDTH = 220
const CHART_WIDTH = 760
const ROW_HEIGHT = 22
const BAR_HEIGHT = 14
const AXIS_HEIGHT = 28

const finalText = (state: State.State<unknown> | undefined): string =>
  state === undefined ? "no states" : State.isFinal(state) ? state.name : `${state.name} (not final)`

const markerFor = (state: State.State<unknown> | undefined): string => {
  if (state === undefined) return ""
  if (state.name === "Cached") return "Cached"
  if (state.name === "TimedOut") return "TimedOut"
  if (state.type === "CRASHED") return "CRASHED"
  return ""
}

const drawRunRow = (row: RunRow, y: number, x: (t: number) => number, out: Array<string>): void => {
  const label = escapeHtml(row.name)
  const crashed = row.final?.type === "CRASHED"
  out.push(
    `<g class="row" data-run-id="${escapeHtml(row.runId)}" data-final="${escapeHtml(row.final?.type ?? "")}">`,
    `<text x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT - 2}" text-anchor="end"${
      crashed ? " class=\"crashed-row\"" : ""
    }>${label}</text>`
  )
  for (const segment of row.segments) {
    const x0 = x(segment.start)
    const w = Math.max(x(segment.end) - x0, segment.kind === "final" ? 0 : 1.5)
    const title = `<title>${escapeHtml(hoverText(row, segment))}</title>`
    const cls = `seg ${segment.kind} s-${segment.colour.toLowerCase()}${
      segment.state.name === "Retrying" ? " retry" : ""
    }`
    const data = `data-kind="${segment.kind}" data-state="${
      escapeHtml(segment.state.name)
    }" data-colour="${segment.colour}"`
    if (segment.kind === "final") {
      const cx = x0
      const cy = y + BAR_HEIGHT / 2
      out.push(
        `<path class="${cls}" ${data} d="M${cx - 6} ${cy}L${cx} ${cy - 6}L${cx + 6} ${cy}L${cx} ${
          cy + 6
        }Z">${title}</path>`
      )
    } else {
      out.push(
        `<rect class="${cls}" ${data} x="${x0.toFixed(2)}" y="${y}" width="${
          w.toFixed(2)
        }" height="${BAR_HEIGHT}" rx="2">${title}</rect>`
      )
    }
  }
  const marker = markerFor(row.final)
  if (marker !== "") {
    out.push(
      `<text class="marker s-${row.final!.type.toLowerCase()}" x="${(x(row.end) + 8).toFixed(2)}" y="${
        y + BAR_HEIGHT - 2
      }">${marker}</text>`
    )
  }
  if (row.notes.length > 0) {
    out.push(`<title>${escapeHtml(row.notes.join("; "))}</title>`)
  }
  out.push("</g>")
}

const drawGroupRow = (row: GroupRow, y: number, x: (t: number) => number, out: Array<string>): void => {
  const total = row.counts.reduce((n, [, c]) => n + c, 0)
  const x0 = x(row.start)
  const width = Math.max(x(row.end) - x0, 1.5)
  const summary = row.counts.map(([t, c]) => `${c} ${t}`).join(", ")
  out.push(
    `<g class="group" data-first="${row.first}" data-last="${row.last}">`,
    `<text x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT - 2}" text-anchor="end">task runs ${row.first}–${row.last}</text>`
  )
  let offset = x0
  for (const [type, count] of row.counts) {
    const w = total === 0 ? 0 : (width * count) / total
    out.push(
      `<rect class="seg group-seg s-${type.toLowerCase()}" data-colour="${type}" x="${
        offset.toFixed(2)
      }" y="${y}" width="${w.toFixed(2)}" height="${BAR_HEIGHT}"><title>${
        escapeHtml(`task runs ${row.first}–${row.last}: ${summary} · ${iso(row.start)} – ${iso(row.end)}`)
      }</title></rect>`
    )
    offset += w
  }
  out.push("</g>")
}

const chart = (l: Layout): string => {
  const rows: Array<RunRow | GroupRow> = l.flow === undefined ? [...l.rows] : [l.flow, ...l.rows]
  const height = AXIS_HEIGHT + rows.length * ROW_HEIGHT + 8
  const width = LABEL_WIDTH + CHART_WIDTH + 90
  const span = Math.max(l.end - l.start, 1)
  const x = (t: number): number => LABEL_WIDTH + ((t - l.start) / span) * CHART_WIDTH
  const out: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-title" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`,
    `<title id="chart-title">Timeline of ${rows.length} rows</title>`,
    "<g class=\"axis\">"
  ]
  for (const tick of l.ticks) {
    const tx = x(tick.at).toFixed(2)
    out.push(
      `<line class="grid" x1="${tx}" x2="${tx}" y1="${AXIS_HEIGHT - 6}" y2="${height}"/>`,
      `<text x="${tx}" y="${AXIS_HEIGHT - 10}" text-anchor="middle">${escapeHtml(tick.label)}</text>`
    )
  }
  out.push("</g>")
  rows.forEach((row, i) => {
    const y = AXIS_HEIGHT + i * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2
    if (row._tag === "RunRow") drawRunRow(row, y, x, out)
    else drawGroupRow(row, y, x, out)
  })
  out.push("</svg>")
  return out.join("\n")
}

const legend = (l: Layout): string => {
  const used = new Set<StateType.StateType>()
  for (const row of l.flow === undefined ? l.rows : [l.flow, ...l.rows]) {
    if (row._tag === "RunRow") { for (const segment of row.segments) used.add(segment.colour) }
    else for (const [type] of row.counts) used.add(type)
  }
  const items = (Object.keys(colours) as Array<StateType.StateType>).filter((t) => used.has(t))
  return `<ul class="legend" aria-label="colours">${
    items.map((t) => `<li><span class="badge" style="background:var(--s-${t.toLowerCase()})">${t}</span></li>`).join("")
  }</ul>`
}

const table = (l: Layout): string => {
  const rows = l.flow === undefined ? l.taskRows : [l.flow, ...l.taskRows]
  const out: Array<string> = [
    "<table id=\"segments\"><caption>Every recorded state span</caption>",
    "<thead><tr><th scope=\"col\">run</th><th scope=\"col\">state</th><th scope=\"col\">start (UTC)</th><th scope=\"col\">end (UTC)</th><th scope=\"col\">duration</th><th scope=\"col\">message</th></tr></thead><tbody>"
  ]
  for (const row of rows) {
    const name = escapeHtml(row.name)
    if (row.segments.length === 0) {
      out.push(`<tr><th scope="row">${name}</th><td colspan="5">${escapeHtml(row.notes.join("; "))}</td></tr>`)
      continue
    }
    for (const segment of row.segments) {
      out.push(
        `<tr data-run-id="${
          escapeHtml(row.runId)
        }"><th scope="row">${name}</th><td><span class="badge" style="background:var(--s-${segment.colour.toLowerCase()})">${
          escapeHtml(segmentLabel(segment))
        }</span></td><td>${iso(segment.start)}</td><td>${iso(segment.end)}</td><td>${
          formatDuration(segment.end - segment.start)
        }</td><td>${escapeHtml(segmentMessage(segment))}</td></tr>`
      )
    }
  }
  out.push("</tbody></table>")
  return out.join("\n")
}

/**
 * Renders a timeline as one self-contained HTML page: a header (the flow's
 * name, final state and duration), an inline SVG chart whose segments carry
 * their state, times and message in an SVG `<title>` (shown on hover), and a
 * table with the same data for screen readers and text search. Every text
 * from the history is escaped; the page loads nothing from anywhere and runs
 * no script.
 *
 * @example
 * ```ts
 * import { State, Timeline } from "@runstate/core"
 *
 * const t0 = Date.UTC(2026, 0, 1)
 * const at = (ms: number) => new Date(t0 + ms)
 * const step = (from: State.State | undefined, to: State.State) =>
 *   ({ runId: "t1", kind: "task" as const, name: "fetch", runCount: 1, from, to })
 * const pending = State.Pending({ timestamp: at(0) })
 * const running = State.Running({ timestamp: at(5) })
 * const done = State.Completed({ timestamp: at(120) })
 * const html = Timeline.render({
 *   flow: undefined,
 *   tasks: [{ runId: "t1", name: "fetch", transitions: [step(undefined, pending), step(pending, running), step(running, done)] }]
 * })
 * html.startsWith("<!doctype html>") // true
 * ```
 *
 * @category rendering
 * @since 0.2.0
 */
export const render = (input: Input, options?: Options): string => {
  const l = layout(input, options)
  const flowFinal = l.flow?.final
  const title = options?.title ?? input.flow?.name ?? "runstate timeline"
  const duration = formatDuration(Math.max(l.end - l.start, 0))
  const headline = l.flow === undefined
    ? `${input.tasks.length} task runs`
    : `${finalText(flowFinal)}${flowFinal?.message ? ` — ${clip(flowFinal.message)}` : ""}`
  const notes = [...l.notes, ...(l.flow?.notes ?? [])]
  const empty = input.flow === undefined && input.tasks.length === 0
  return [
    "<!doctype html>",
    "<html lang=\"en\"><head><meta charset=\"utf-8\">",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
    `<title>${escapeHtml(title)}</title><style>${style()}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta"><span id="final" data-type="${escapeHtml(flowFinal?.type ?? "")}">${
      escapeHtml(headline)
    }</span> · <span id="duration">${duration}</span>${
      input.source === undefined ? "" : ` · ${escapeHtml(input.source)}`
    }${l.flow === undefined ? "" : ` · flow run <code>${escapeHtml(l.flow.runId)}</code>`}</p>`,
    notes.length === 0 ? "" : `<ul class="notes">${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`,
    empty ? "<p id=\"empty\">No runs were found in this history.</p>" : chart(l) + legend(l),
    empty ? "" : l.taskRows.length > (options?.maxRows ?? 200)
      ? `<details><summary>All ${l.taskRows.length} task runs</summary>${table(l)}</details>`
      : table(l),
    "</body></html>",
    ""
  ].join("\n")
}

// -----------------------------------------------------------------------------
// reading the history
// -----------------------------------------------------------------------------

/**
 * Reads one flow run and its task runs from the {@link RunLog.RunLog}: the run
 * named by `runId`, or else the flow run whose history was recorded last. With
 * no flow run in the history, the task runs recorded without a flow make up
 * the input (an empty history gives an empty input, which renders as a page
 * saying so). An unknown `runId` fails with {@link RunNotFound}.
 *
 * @category constructors
 * @since 0.2.0
 */
export const fromRunLog = (
  options?: { readonly runId?: string | undefined; readonly source?: string | undefined }
): Effect.Effect<Input, StorageError | RunNotFound, RunLog.RunLog> =>
  Effect.gen(function*() {
    const log = yield* RunLog.RunLog
    const flows = yield* log.runs({ kind: "flow" })
    const wanted = options?.runId
    const flow = wanted === undefined ? flows[flows.length - 1] : flows.find((f) => f.runId === wanted)
    if (wanted !== undefined && flow === undefined) {
      return yield* new RunNotFound({
        runId: wanted,
        message: `No flow run with id ${wanted} in the history${
          flows.length === 0
            ? " (it holds no flow runs)"
            : ` (it holds ${flows.length}; the latest is ${flows[flows.length - 1]!.runId})`
        }`
      })
    }
    const taskSummaries = flow === undefined
      ? (yield* log.runs({ kind: "task" })).filter((t) => t.flowRunId === undefined)
      : yield* log.runs({ kind: "task", flowRunId: flow.runId })
    const historyOf = (summary: RunLog.RunSummary) =>
      Effect.map(log.history(summary.runId), (transitions): RunHistory => ({
        runId: summary.runId,
        name: summary.name,
        transitions
      }))
    const tasks = yield* Effect.forEach(taskSummaries, historyOf, { concurrency: 16 })
    return {
      flow: flow === undefined ? undefined : yield* historyOf(flow),
      tasks,
      source: options?.source
    }
  })
