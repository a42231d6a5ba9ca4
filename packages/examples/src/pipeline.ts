/**
 * The demo pipeline: a flow of eight tasks written with `Task` and `Flow` —
 * Prefect's task and flow lifecycles as Effect combinators — that requires a
 * `ResultStore` and a `RunLog` and nothing else, so any storage layer runs it.
 *
 * - `extract-orders`, `validate-orders`, `fetch-prices` and `compute-totals`
 *   cache their results (key `demo/<task>`, one hour): a second run of the
 *   demo on the same store finds them and ends them `Cached` without running;
 * - `fetch-prices` fails twice and is retried after 20 ms, then 40 ms
 *   (AwaitingRetry → Retrying → … → Completed);
 * - `enrich-customers` exceeds its timeout (FAILED, named `TimedOut`);
 * - `legacy-export` returns a `Cancelled` state by hand;
 * - `fetch-prices` and `enrich-customers` run concurrently, as do the last three.
 *
 * The flow returns the eight task states, so its final state is their
 * aggregate (`Cancelled('1/8 states cancelled.')`). Every transition of every
 * run lands in the `RunLog`, which the timeline is read from.
 */
import { Effect, Ref } from "effect"
import { Flow, type ResultStore, RunLog, State, Task } from "@runstate/core"

/** One state a task went through, as the timeline shows it. */
export interface TimelineEntry {
  readonly task: string
  readonly state: State.State<unknown>
  /** Milliseconds since the flow started. */
  readonly at: number
  /** Milliseconds since the task run started (on a task run's final state only). */
  readonly duration?: number | undefined
}

/** What a flow run leaves behind. */
export interface FlowRun {
  /** Each task run's history, task run after task run, read back from the `RunLog`. */
  readonly timeline: ReadonlyArray<TimelineEntry>
  readonly tasks: ReadonlyArray<{ readonly name: string; readonly state: State.State<unknown> }>
  readonly flow: State.State<unknown>
}

/** Storage keys of the demo: `demo/<task>` and `demo/flow`. */
export const keyOf = (task: string): string => `demo/${task}`

class UpstreamUnavailable extends Error {
  override readonly name = "UpstreamUnavailable"
}

/** Options of the demo's tasks (shorter waits make the tests faster). */
export interface PipelineOptions {
  readonly timeoutSeconds?: number | undefined
  readonly retryDelaySeconds?: ReadonlyArray<number> | undefined
}

const orders = [
  { id: 1, customer: "ada", sku: "tea", quantity: 3 },
  { id: 2, customer: "grace", sku: "coffee", quantity: 1 },
  { id: 3, customer: "ada", sku: "coffee", quantity: 2 }
]
const prices: Record<string, number> = { tea: 4.5, coffee: 3.25 }

/** Cached for an hour under `demo/<task>`; the result is written there. */
const cached = (name: string) => ({ name, cacheKey: keyOf(name), cacheExpiration: "1 hour" }) as const

/** Not cached; the result is written under `demo/<task>`. */
const plain = (name: string) => ({ name, resultStorageKey: keyOf(name), persistResult: true }) as const

/**
 * The flow's program: the eight tasks, run in order with two concurrent
 * pairs. Succeeds with their final states (the flow aggregates them).
 */
export const program = (options?: PipelineOptions) =>
  Effect.gen(function*() {
    const flakyCalls = yield* Ref.make(0)
    const extract = yield* Task.make(cached("extract-orders"), () => Effect.succeed(orders))
    const validate = yield* Task.make(cached("validate-orders"), () =>
      Effect.succeed({ valid: orders.length, rejected: 0 }))
    const fetchPrices = yield* Task.make({
      ...cached("fetch-prices"),
      retries: 3,
      retryDelaySeconds: options?.retryDelaySeconds ?? [0.02, 0.04]
    }, () =>
      Effect.gen(function*() {
        const call = yield* Ref.updateAndGet(flakyCalls, (n) =>
          n + 1)
        if (call <= 2) return yield* Effect.fail(new UpstreamUnavailable(`price service answered 503 (call ${call})`))
        return prices
      }))
    const enrich = yield* Task.make({
      ...plain("enrich-customers"),
      timeoutSeconds: options?.timeoutSeconds ?? 0.06
    }, () => Effect.as(Effect.sleep("10 seconds"), { enriched: orders.length }))
    const totals = yield* Task.make(cached("compute-totals"), () =>
      Effect.succeed(orders.reduce((total, order) =>
        total + order.quantity * (prices[order.sku] ?? 0), 0)))
    const legacyExport = yield* Task.make(plain("legacy-export"), () =>
      Effect.succeed(State.Cancelled({ message: "Export skipped: the legacy endpoint is switched off." })))
    const report = yield* Task.make(plain("write-report"), () =>
      Effect.succeed({ report: "daily-orders", lines: orders.length }))
    const notify = yield* Task.make(plain("notify"), () =>
      Effect.succeed("sent to #orders"))

    const first = [yield* Task.run(extract), yield* Task.run(validate)]
    const [pricesState, enrichState] = yield* Effect.all([Task.run(fetchPrices), Task.run(enrich)], {
      concurrency: 2
    })
    const totalsState = yield* Task.run(totals)
    const last = yield* Effect.all([Task.run(legacyExport), Task.run(report), Task.run(notify)], {
      concurrency: "unbounded"
    })
    return [...first, pricesState, enrichState, totalsState, ...last]
  })

/** The task name of a task run name (`fetch-prices-0` → `fetch-prices`). */
const taskName = (runName: string): string => runName.replace(/-\d+$/, "")

/**
 * Runs the pipeline as the flow `daily-orders` (its result written at
 * `demo/flow`) and reads every run's history back from the `RunLog`.
 */
export const pipeline = (
  options?: PipelineOptions
): Effect.Effect<FlowRun, never, ResultStore.ResultStore | RunLog.RunLog> =>
  Effect.gen(function*() {
    const flow = yield* program(options).pipe(
      Flow.run({ name: "daily-orders", persistResult: true, resultKey: keyOf("flow") }),
      Effect.orDie
    )
    const log = yield* RunLog.RunLog
    const start = (yield* log.history(flow.stateDetails.flowRunId!))[0]!.to.timestamp.epochMilliseconds
    const runs = yield* Effect.orDie(log.runs({ flowRunId: flow.stateDetails.flowRunId! }))
    const timeline: Array<TimelineEntry> = []
    const tasks: Array<{ name: string; state: State.State<unknown> }> = []
    for (const run of runs) {
      const history = yield* Effect.orDie(log.history(run.runId))
      const started = history[0]!.to.timestamp.epochMilliseconds
      history.forEach((t, i) => {
        const ms = t.to.timestamp.epochMilliseconds
        timeline.push({
          task: taskName(run.name),
          state: t.to,
          at: ms - start,
          duration: i === history.length - 1 ? ms - started : undefined
        })
      })
      tasks.push({ name: taskName(run.name), state: run.state })
    }
    return { timeline, tasks, flow }
  }).pipe(Effect.orDie)
