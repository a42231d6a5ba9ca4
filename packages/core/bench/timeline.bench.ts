/**
 * `timeline.render`: render the timeline page of a flow run with 10,000 task
 * runs (pending → running → completed, every 50th retried once) against
 * serializing the same history with `JSON.stringify`; goal: ratio ≤ 5, and the
 * render under a second. `floorRatio` is the work any page of this history
 * must do — escaping every run name and message and formatting every
 * timestamp once — against the same baseline.
 */
import * as DateTime from "effect/DateTime"
import * as State from "../src/State.ts"
import * as Timeline from "../src/Timeline.ts"
import { type Benchmark, compare, round } from "../../../scripts/benchmark.ts"

const N = 10_000
const t0 = Date.UTC(2026, 10, 30)
const at = (ms: number) => new Date(t0 + ms)

const history = (i: number): Timeline.RunHistory => {
  const states: Array<State.State<unknown>> = [
    State.Pending({ timestamp: at(i) }),
    State.Running({ timestamp: at(i + 2) })
  ]
  if (i % 50 === 0) {
    states.push(
      State.AwaitingRetry({ timestamp: at(i + 20), scheduledTime: at(i + 40), message: "Retry 1/1" }),
      State.Retrying({ timestamp: at(i + 40) })
    )
  }
  states.push(State.Completed({ timestamp: at(i + 60), message: i % 7 === 0 ? "done <fast> & \"well\"" : null }))
  const runId = `task-run-${i}`
  const name = `process-${i}`
  return {
    runId,
    name,
    transitions: states.map((to, k) => ({
      runId,
      kind: "task",
      name,
      flowRunId: "flow",
      runCount: 1,
      from: states[k - 1],
      to
    }))
  }
}

const input: Timeline.Input = { flow: undefined, tasks: Array.from({ length: N }, (_, i) => history(i)) }

const floor = (): number => {
  let n = 0
  for (const task of input.tasks) {
    n += Timeline.escapeHtml(task.name).length
    for (const t of task.transitions) {
      n += Timeline.escapeHtml(t.to.message ?? "").length + DateTime.formatIso(t.to.timestamp).length
    }
  }
  return n
}

const benchmarks: ReadonlyArray<Benchmark> = [
  {
    name: "timeline.render",
    goal: "ratio ≤ 5 against JSON.stringify of the same history, render < 1 s",
    run: async () => {
      const timing = await compare({
        subject: () => Timeline.render(input),
        baseline: () => JSON.stringify(input),
        rounds: 7
      })
      const floorTiming = await compare({ subject: floor, baseline: () => JSON.stringify(input), rounds: 7 })
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= 5 && timing.subjectMs < 1000,
        subjectMs: timing.subjectMs,
        baselineMs: timing.baselineMs,
        floorRatio: round(floorTiming.ratio),
        pageBytes: Timeline.render(input).length,
        taskRuns: N
      }
    }
  }
]

export default benchmarks
