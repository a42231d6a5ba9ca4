import { Effect, Logger } from "effect"
import { ResultStore, Task } from "@runstate/core"

export const program = Effect.gen(function*() {
  let runs = 0
  const report = yield* Task.make(
    { name: "report", cacheKey: (day: string) => `report-${day}`, cacheExpiration: "1 day" },
    (day: string) => Effect.sync(() => ({ day, rows: ++runs }))
  )
  const first = yield* Task.run(report, "2026-11-30")
  const second = yield* Task.run(report, "2026-11-30") // the body does not run
  const otherDay = yield* Task.run(report, "2026-12-01")
  return { names: [first.name, second.name, otherDay.name], runs }
}).pipe(Effect.provide([ResultStore.layerMemory, Logger.layer([])]))
// { names: ["Completed", "Cached", "Completed"], runs: 2 }
