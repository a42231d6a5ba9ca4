/**
 * Text rendering of a flow run: the timeline (one line per state a task went
 * through), with ANSI colour only when asked (the demo asks when stdout is a
 * TTY and `NO_COLOR` is unset).
 */
import { State, type StateType } from "@runstate/core"
import type { FlowRun } from "./pipeline.ts"

/** Whether to colour output written to `stream`: a TTY, and `NO_COLOR` unset or empty. */
export const useColor = (stream: { readonly isTTY?: boolean | undefined }, env = process.env): boolean =>
  stream.isTTY === true && (env["NO_COLOR"] === undefined || env["NO_COLOR"] === "")

const codes: Record<StateType.StateType, string> = {
  SCHEDULED: "36", // cyan
  PENDING: "36",
  RUNNING: "34", // blue
  COMPLETED: "32", // green
  FAILED: "31", // red
  CRASHED: "31;1",
  CANCELLED: "33", // yellow
  CANCELLING: "33",
  PAUSED: "35" // magenta
}

/** Paints `text` in the colour of a state type (or returns it unchanged). */
export const paint = (text: string, type: StateType.StateType, color: boolean): string =>
  color ? `\u001b[${codes[type]}m${text}\u001b[0m` : text

/** Dims `text` (or returns it unchanged). */
export const dim = (text: string, color: boolean): string => color ? `\u001b[2m${text}\u001b[0m` : text

/** Bold `text` (or returns it unchanged). */
export const bold = (text: string, color: boolean): string => color ? `\u001b[1m${text}\u001b[0m` : text

const pad = (text: string, width: number): string =>
  text.length >= width ? text : text + " ".repeat(width - text.length)

/** `1234` → `"1.234s"`, `12` → `"12ms"`. */
export const formatMillis = (ms: number): string => ms >= 1000 ? `${(ms / 1000).toFixed(3)}s` : `${ms}ms`

/**
 * The timeline as lines: time since the flow started, task, state name, state
 * type, message, and — on each task's final state — how long the task took.
 */
export const renderTimeline = (run: FlowRun, options: { readonly color: boolean }): Array<string> => {
  const { color } = options
  const taskWidth = Math.max(4, ...run.timeline.map((e) => e.task.length))
  const nameWidth = Math.max(5, ...run.timeline.map((e) => e.state.name.length))
  const header = `${pad("at", 8)}  ${pad("task", taskWidth)}  ${pad("state", nameWidth)}  ${pad("type", 10)}  ${
    pad("took", 8)
  }  message`
  const lines = [bold(header, color)]
  let previous: string | undefined
  for (const entry of run.timeline) {
    const task = entry.task === previous ? pad("", taskWidth) : pad(entry.task, taskWidth)
    previous = entry.task
    const took = entry.duration === undefined ? "" : formatMillis(entry.duration)
    lines.push(
      [
        dim(pad(`+${formatMillis(entry.at)}`, 8), color),
        task,
        paint(pad(entry.state.name, nameWidth), entry.state.type, color),
        paint(pad(entry.state.type, 10), entry.state.type, color),
        pad(took, 8),
        entry.state.message ?? ""
      ].join("  ").trimEnd()
    )
  }
  return lines
}

/** The flow's final state as Prefect prints it (`State.format`), coloured by its type. */
export const renderFlowState = (run: FlowRun, options: { readonly color: boolean }): string =>
  paint(State.format(run.flow), run.flow.type, options.color)
