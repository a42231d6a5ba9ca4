/**
 * The durable flows the cluster example runs: `ingest` processes `n` items as
 * task runs, some slow, some failing on their first attempt (and retried), so
 * that a flow takes a while and exercises Prefect's retry states. Each task
 * body prints one JSON line when it starts and one when it finishes, which the
 * cluster tests read to tell which runner ran what.
 */
import { Effect, Schema } from "effect"
import { Task } from "@runstate/core"
import { DurableFlow } from "@runstate/cluster"

const say = (event: string, key: number) =>
  Effect.sync(() => process.stdout.write(`${JSON.stringify({ event, key, pid: process.pid })}\n`))

export const Ingest = DurableFlow.make("ingest", {
  name: "ingest",
  parameters: {
    n: Schema.Number,
    slowEvery: Schema.Number,
    failEvery: Schema.Number,
    millis: Schema.Number
  },
  run: ({ failEvery, millis, n, slowEvery }) =>
    Effect.gen(function*() {
      // Attempts per item, for this execution of the flow's program only.
      const attempts = new Map<number, number>()
      const ingest = yield* Task.make(
        { name: "ingest", retries: 2, retryDelaySeconds: 0.05 },
        (i: number) =>
          Effect.gen(function*() {
            const attempt = (attempts.get(i) ?? 0) + 1
            attempts.set(i, attempt)
            yield* say("start", i)
            yield* Effect.sleep(i % slowEvery === 0 ? millis * 5 : millis)
            if (i % failEvery === 0 && attempt === 1) return yield* Effect.fail(new Error(`item ${i} is not ready`))
            yield* say("done", i)
            return { item: i, square: i * i }
          })
      )
      return yield* Effect.forEach(
        Array.from({ length: n }, (_, i) => i),
        (i) => DurableFlow.task(ingest, i, { key: String(i) }),
        { concurrency: 4 }
      )
    })
})
