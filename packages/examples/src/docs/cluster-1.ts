import { Effect, Layer, Schema } from "effect"
import { State, Task } from "@runstate/core"
import { ClusterLayer, DurableFlow } from "@runstate/cluster"

// A flow whose tasks are durable: each task run is one workflow activity.
export const Report = DurableFlow.make("report", {
  name: "report",
  parameters: { days: Schema.Number },
  run: ({ days }) =>
    Effect.gen(function*() {
      const fetch = yield* Task.make({ name: "fetch", retries: 2 }, (day: number) => Effect.succeed(day * 10))
      return yield* Effect.forEach(
        Array.from({ length: days }, (_, day) => day),
        (day) => DurableFlow.task(fetch, day, { key: `day-${day}` }),
        { concurrency: 4 }
      )
    })
})

// The embedded default: the in-process engine, memory storage, no servers.
export const program = Effect.gen(function*() {
  const final = yield* Report.run({ days: 3 }, { key: "report-2026-11-30" })
  return State.format(final) // "Completed('All states completed.')"
}).pipe(Effect.provide(Report.layer.pipe(Layer.provideMerge(ClusterLayer.layerInProcess))))

if (import.meta.main) Effect.runPromise(program).then(console.log)
