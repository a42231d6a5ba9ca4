/**
 * The demo pipeline: a flow of eight tasks, each run with `Run.run`, whose
 * final states are aggregated into the flow's state with
 * `Aggregate.returnValueToState` — Prefect's flow semantics as one Effect that
 * requires a `ResultStore` and nothing else, so any storage layer runs it.
 *
 * - `fetch-prices` fails twice and is retried on a `Schedule`
 *   (AwaitingRetry → Retrying → … → Completed, every state in the timeline);
 * - `enrich-customers` exceeds its timeout (FAILED, named `TimedOut`);
 * - `legacy-export` returns a `Cancelled` state by hand;
 * - the other five complete.
 */
import { Clock, Duration, Effect, Ref, Schedule } from "effect"
import { Aggregate, type ResultStore, Run, State } from "@runstate/core"

/** One state a task went through, as the timeline shows it. */
export interface TimelineEntry {
  readonly task: string
  readonly state: State.State<unknown>
  /** Milliseconds since the flow started. */
  readonly at: number
  /** Milliseconds since the task started (on a task's final state only). */
  readonly duration?: number | undefined
}

/** A task of the flow: an effect, and optionally a timeout and a retry schedule. */
export interface Task {
  readonly name: string
  readonly effect: Effect.Effect<unknown, unknown>
  readonly timeout?: Duration.Input | undefined
  /** Stepped with the failed state; its output is the delay before the next attempt. */
  readonly retry?: Schedule.Schedule<Duration.Duration, State.State<unknown>> | undefined
}

/** What a flow run leaves behind. */
export interface FlowRun {
  readonly timeline: ReadonlyArray<TimelineEntry>
  readonly tasks: ReadonlyArray<{ readonly name: string; readonly state: State.State<unknown> }>
  readonly flow: State.State<unknown>
}

/** Storage keys of the demo: `demo/<task>` and `demo/flow`. */
export const keyOf = (task: string): string => `demo/${task}`

class UpstreamUnavailable extends Error {
  override readonly name = "UpstreamUnavailable"
}

/** The eight tasks. `failuresBeforeSuccess` of `fetch-prices` is per flow run. */
export const tasks = (options?: { readonly timeout?: Duration.Input; readonly retryBase?: Duration.Input }) =>
  Effect.gen(function*() {
    const flakyCalls = yield* Ref.make(0)
    const orders = [
      { id: 1, customer: "ada", sku: "tea", quantity: 3 },
      { id: 2, customer: "grace", sku: "coffee", quantity: 1 },
      { id: 3, customer: "ada", sku: "coffee", quantity: 2 }
    ]
    const prices: Record<string, number> = { tea: 4.5, coffee: 3.25 }
    const list: ReadonlyArray<Task> = [
      { name: "extract-orders", effect: Effect.succeed(orders) },
      { name: "validate-orders", effect: Effect.succeed({ valid: orders.length, rejected: 0 }) },
      {
        name: "fetch-prices",
        effect: Effect.gen(function*() {
          const call = yield* Ref.updateAndGet(flakyCalls, (n) => n + 1)
          if (call <= 2) return yield* Effect.fail(new UpstreamUnavailable(`price service answered 503 (call ${call})`))
          return prices
        }),
        retry: Schedule.exponential(options?.retryBase ?? "20 millis").pipe(Schedule.upTo({ times: 3 }))
      },
      {
        name: "enrich-customers",
        effect: Effect.as(Effect.sleep("10 seconds"), { enriched: orders.length }),
        timeout: options?.timeout ?? "60 millis"
      },
      {
        name: "compute-totals",
        effect: Effect.succeed(
          orders.reduce((total, order) => total + order.quantity * (prices[order.sku] ?? 0), 0)
        )
      },
      {
        name: "legacy-export",
        effect: Effect.succeed(State.Cancelled({ message: "Export skipped: the legacy endpoint is switched off." }))
      },
      { name: "write-report", effect: Effect.succeed({ report: "daily-orders", lines: orders.length }) },
      { name: "notify", effect: Effect.succeed("sent to #orders") }
    ]
    return list
  })

/**
 * Runs one task: Running, then attempts until it does not fail or its retry
 * schedule gives up; between attempts AwaitingRetry (with the failure's
 * message and the scheduled time) and Retrying. Every state is recorded.
 */
const runTask = (
  task: Task,
  record: (task: string, state: State.State<unknown>, started?: number) => Effect.Effect<void>
) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    yield* record(task.name, State.Running())
    const effect = task.timeout === undefined ? task.effect : Effect.timeout(task.effect, task.timeout)
    const attempt = Run.run(effect, { key: keyOf(task.name), writeResult: true })
    const step = task.retry === undefined ? undefined : yield* Schedule.toStep(task.retry)
    let state = yield* attempt
    while (step !== undefined && State.isFailed(state)) {
      const now = yield* Clock.currentTimeMillis
      const next = yield* Effect.option(step(now, state))
      if (next._tag === "None") break
      const delay = next.value[1]
      yield* record(
        task.name,
        State.AwaitingRetry({ message: state.message, scheduledTime: new Date(now + Duration.toMillis(delay)) })
      )
      yield* Effect.sleep(delay)
      yield* record(task.name, State.Retrying())
      state = yield* attempt
    }
    yield* record(task.name, state, started)
    return state
  })

/**
 * The flow: runs the tasks one after the other and aggregates their final
 * states into the flow's state (persisted at `demo/flow`).
 */
export const flow = (list: ReadonlyArray<Task>): Effect.Effect<FlowRun, never, ResultStore.ResultStore> =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const timeline: Array<TimelineEntry> = []
    const record = (task: string, state: State.State<unknown>, started?: number) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        timeline.push({ task, state, at: now - start, duration: started === undefined ? undefined : now - started })
      })
    const results: Array<{ name: string; state: State.State<unknown> }> = []
    for (const task of list) {
      results.push({ name: task.name, state: yield* runTask(task, record) })
    }
    const flowState = yield* Aggregate.returnValueToState(results.map((r) => r.state), {
      key: keyOf("flow"),
      writeResult: true
    })
    return { timeline, tasks: results, flow: flowState }
  })

/** The demo pipeline: the eight tasks, run as a flow. Requires only a `ResultStore`. */
export const pipeline: Effect.Effect<FlowRun, never, ResultStore.ResultStore> = Effect.flatMap(tasks(), flow)
