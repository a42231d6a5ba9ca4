/**
 * A cluster runner for the example flows: `node worker.ts` with
 * `RUNSTATE_PG_URL` (PostgreSQL) and `RUNSTATE_RUNNER_PORT` (the port other
 * runners reach this one at). Start as many as you like, on as many machines
 * as you like; they share the work through PostgreSQL, and when one dies the
 * others take its flows over.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import { ClusterLayer } from "@runstate/cluster"
import { Ingest } from "./flows.ts"

const url = process.env.RUNSTATE_PG_URL
const port = Number(process.env.RUNSTATE_RUNNER_PORT)
if (url === undefined || !Number.isInteger(port)) {
  process.stderr.write("runstate worker: set RUNSTATE_PG_URL and RUNSTATE_RUNNER_PORT\n")
  process.exit(2)
}

const runner = ClusterLayer.layerRunner({
  url,
  port,
  host: process.env.RUNSTATE_RUNNER_HOST ?? "127.0.0.1",
  taskSlots: process.env.RUNSTATE_TASK_SLOTS === undefined ? undefined : Number(process.env.RUNSTATE_TASK_SLOTS),
  shardLockExpiration: `${Number(process.env.RUNSTATE_SHARD_LOCK_SECONDS ?? 10)} seconds`
})

Layer.launch(Ingest.layer.pipe(Layer.provide(runner))).pipe(NodeRuntime.runMain)
