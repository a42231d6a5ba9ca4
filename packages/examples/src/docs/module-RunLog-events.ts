import { Effect } from "effect"
import { State, Wire } from "@runstate/core"

export const program = Effect.gen(function*() {
  const failed = State.Failed({ message: "Task run encountered an exception ValueError: boom" })
  const event = yield* Wire.encodeTaskRunEvent(
    { runId: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70", name: "fetch-0", runCount: 1, from: State.Running(), to: failed },
    { tags: ["etl"] }
  )
  return {
    event: event.event,
    resource: event.resource["prefect.resource.id"],
    intended: event.payload.intended,
    related: event.related
  }
  // { event: "prefect.task-run.Failed",
  //   resource: "prefect.task-run.0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70",
  //   intended: { from: "RUNNING", to: "FAILED" },
  //   related: [{ "prefect.resource.id": "prefect.tag.etl", "prefect.resource.role": "tag" }] }
})
