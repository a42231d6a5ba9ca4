import { Effect } from "effect"
import { KeyValueStore } from "effect/persistence"
import { RunLog, State } from "@runstate/core"

const runId = "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"
const pending = State.Pending()
const running = State.Running()
const completed = State.Completed({ data: { rows: 42 } })
const base = { runId, kind: "task", name: "fetch-0" } as const

export const program = Effect.gen(function*() {
  // The history of one task run, written through the store's KeyValueStore ...
  const writer = yield* RunLog.makeKeyValueStore()
  yield* writer.record({ ...base, runCount: 0, from: undefined, to: pending })
  yield* writer.record({ ...base, runCount: 1, from: pending, to: running })
  yield* writer.record({ ...base, runCount: 1, from: running, to: completed })
  // ... read back by another handle on the same storage (as another process would).
  const reader = yield* RunLog.makeKeyValueStore()
  const history = yield* reader.history(runId)
  const [run] = yield* reader.runs({ kind: "task" })
  return {
    history: history.map((t) => `${t.from?.name ?? "-"} → ${t.to.name}`),
    last: run?.state.data,
    transitions: run?.transitions
  }
  // { history: ["- → Pending", "Pending → Running", "Running → Completed"], last: { rows: 42 }, transitions: 3 }
}).pipe(Effect.provide(KeyValueStore.layerMemory))
