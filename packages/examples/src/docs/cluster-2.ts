import { Effect, Layer } from "effect"
import { RunLog, State } from "@runstate/core"
import { ClusterLayer } from "@runstate/cluster"
import { Report } from "./cluster-1.ts"

// The same flow on the cluster engine: only the layer changes. This process is
// a runner itself (it executes flows) and starts one; add runners with the
// same layer on other machines, or start flows from a `layerClient` process.
export const run = (url: string, port = 34127) =>
  Effect.gen(function*() {
    const final = yield* Report.run({ days: 3 })
    const log = yield* RunLog.RunLog
    const tasks = yield* log.runs({ kind: "task", flowRunId: final.stateDetails.flowRunId! })
    return { final: State.format(final), tasks: tasks.map((t) => `${t.name}: ${t.state.name}`).sort() }
  }).pipe(Effect.provide(Report.layer.pipe(Layer.provideMerge(ClusterLayer.layerRunner({ url, port })))))

if (import.meta.main) Effect.runPromise(run(process.argv[2]!)).then(console.log)
