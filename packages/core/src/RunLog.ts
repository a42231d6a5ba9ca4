/**
 * The run history: a service that receives every state transition of every
 * task run and flow run, in order, and answers what a run went through. Tasks
 * and flows write to it; `runstate inspect` and the timeline read from it.
 * The memory layer is the embedded default; other layers persist the history
 * so that it outlives the process.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { StorageError } from "./RunError.ts"
import type * as State from "./State.ts"

/**
 * Whether a run is a task run or a flow run.
 *
 * @category models
 * @since 0.2.0
 */
export type RunKind = "task" | "flow"

/**
 * One state transition of one run: the run it belongs to, the state it left
 * (`undefined` for the run's first state) and the state it entered. A run's
 * transitions, in the order they were recorded, are its history; the `to` of
 * the last one is the run's current state.
 *
 * @category models
 * @since 0.2.0
 */
export interface Transition {
  /** The task run id or flow run id (a UUID). */
  readonly runId: string
  /** Whether `runId` names a task run or a flow run. */
  readonly kind: RunKind
  /** The run's name (Prefect's task run name, e.g. `"fetch-0"`, or flow run name). */
  readonly name: string
  /** For a task run inside a flow: the flow run's id. */
  readonly flowRunId?: string | undefined
  /** Prefect's `run_count` after this transition (1 on the first RUNNING, +1 per retry). */
  readonly runCount: number
  /** The state the run left; `undefined` for its first state. */
  readonly from: State.State<unknown> | undefined
  /** The state the run entered. */
  readonly to: State.State<unknown>
}

/**
 * A run known to the history, without its transitions.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunSummary {
  readonly runId: string
  readonly kind: RunKind
  readonly name: string
  readonly flowRunId?: string | undefined
  /** The state of the run's last recorded transition. */
  readonly state: State.State<unknown>
  /** How many transitions were recorded. */
  readonly transitions: number
}

/**
 * Which runs {@link RunLogShape.runs} lists: all of them, those of one kind,
 * or the task runs of one flow run.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunFilter {
  readonly kind?: RunKind | undefined
  readonly flowRunId?: string | undefined
}

/**
 * The run history's operations.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunLogShape {
  /** Appends one transition to its run's history. */
  readonly record: (transition: Transition) => Effect.Effect<void, StorageError>
  /** A run's transitions in the order they were recorded; empty for an unknown run. */
  readonly history: (runId: string) => Effect.Effect<ReadonlyArray<Transition>, StorageError>
  /** The runs the history knows, in the order their first transition was recorded. */
  readonly runs: (filter?: RunFilter) => Effect.Effect<ReadonlyArray<RunSummary>, StorageError>
}

/**
 * The `RunLog` service.
 *
 * @category services
 * @since 0.2.0
 */
export class RunLog extends Context.Service<RunLog, RunLogShape>()("@runstate/core/RunLog") {}

const matches = (summary: RunSummary, filter: RunFilter | undefined): boolean =>
  (filter?.kind === undefined || summary.kind === filter.kind) &&
  (filter?.flowRunId === undefined || summary.flowRunId === filter.flowRunId)

/**
 * A history kept in this process's memory: each call makes a new, empty one.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RunLog, State } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const log = yield* RunLog.makeMemory
 *   const to = State.Pending()
 *   yield* log.record({ runId: "r", kind: "task", name: "t", runCount: 0, from: undefined, to })
 *   return (yield* log.history("r")).length // 1
 * })
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeMemory: Effect.Effect<RunLogShape> = Effect.sync(() => {
  const byRun = new Map<string, Array<Transition>>()
  const record: RunLogShape["record"] = (transition) =>
    Effect.sync(() => {
      const list = byRun.get(transition.runId)
      if (list === undefined) byRun.set(transition.runId, [transition])
      else list.push(transition)
    })
  const history: RunLogShape["history"] = (runId) => Effect.sync(() => byRun.get(runId)?.slice() ?? [])
  const runs: RunLogShape["runs"] = (filter) =>
    Effect.sync(() => {
      const out: Array<RunSummary> = []
      for (const list of byRun.values()) {
        const first = list[0]!
        const summary: RunSummary = {
          runId: first.runId,
          kind: first.kind,
          name: first.name,
          flowRunId: first.flowRunId,
          state: list[list.length - 1]!.to,
          transitions: list.length
        }
        if (matches(summary, filter)) out.push(summary)
      }
      return out
    })
  return { record, history, runs }
})

/**
 * A layer with a fresh in-memory history (see {@link makeMemory}); the
 * embedded default.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerMemory: Layer.Layer<RunLog> = Layer.effect(RunLog, makeMemory)
