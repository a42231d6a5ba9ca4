import { Effect } from "effect"
import { RunLog, State, Timeline } from "@runstate/core"

// A history as tasks and flows record it: one flow run and one task run that retried once.
const t0 = Date.UTC(2026, 0, 1)
const at = (ms: number) => new Date(t0 + ms)
const flow = [
  State.Pending({ timestamp: at(0) }),
  State.Running({ timestamp: at(1) }),
  State.Completed({ timestamp: at(400) })
]
const task = [
  State.Pending({ timestamp: at(2) }),
  State.Running({ timestamp: at(3) }),
  State.AwaitingRetry({ timestamp: at(100), scheduledTime: at(200) }),
  State.Retrying({ timestamp: at(200) }),
  State.Completed({ timestamp: at(390) })
]

export const program = Effect.gen(function*() {
  const log = yield* RunLog.RunLog
  for (const [i, to] of flow.entries()) {
    yield* log.record({ runId: "f1", kind: "flow", name: "nightly", runCount: 1, from: flow[i - 1], to })
  }
  for (const [i, to] of task.entries()) {
    yield* log.record({ runId: "t1", kind: "task", name: "fetch", flowRunId: "f1", runCount: 1, from: task[i - 1], to })
  }
  const input = yield* Timeline.fromRunLog() // the latest flow run and its task runs
  const html = Timeline.render(input) // one self-contained HTML page
  const rows = Timeline.layout(input).rows.length
  return { rows, segments: html.match(/<rect class="seg/g)?.length }
}).pipe(Effect.provide(RunLog.layerMemory))

if (import.meta.main) Effect.runPromise(program).then(console.log)
