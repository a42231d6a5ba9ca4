/**
 * What a task run learns from the flow run it is part of: the flow run's id
 * and a per-flow-run counter of task run names (Prefect names task runs
 * `{task name}-{n}` within a flow run). Set by `Flow.run` for the fibers of its
 * program, forked fibers included; absent outside a flow.
 *
 * @internal
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Random from "effect/Random"

/** The enclosing flow run. */
export interface FlowRunContext {
  readonly flowRunId: string
  readonly flowName: string
  /** Next index per task name, for task run names; belongs to this one flow run. */
  readonly taskRunCounts: Map<string, number>
}

/** The current flow run, or `undefined` outside a flow. */
export const CurrentFlowRun: Context.Reference<FlowRunContext | undefined> = Context.Reference<
  FlowRunContext | undefined
>("@runstate/core/internal/CurrentFlowRun", { defaultValue: () => undefined })

/** The next task run name for `taskName` in `flow`: `{taskName}-{n}`, counting from 0. */
export const nextTaskRunName = (flow: FlowRunContext, taskName: string): string => {
  const n = flow.taskRunCounts.get(taskName) ?? 0
  flow.taskRunCounts.set(taskName, n + 1)
  return `${taskName}-${n}`
}

const hex: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** Formats 16 random bytes as a hyphenated UUIDv4 (Prefect's run ids). */
export const uuid4FromBytes = (bytes: ArrayLike<number>): string => {
  let out = ""
  for (let i = 0; i < 16; i++) {
    let b = bytes[i]! & 0xff
    if (i === 6) b = 0x40 | (b & 0x0f)
    if (i === 8) b = 0x80 | (b & 0x3f)
    if (i === 4 || i === 6 || i === 8 || i === 10) out += "-"
    out += hex[b]
  }
  return out
}

/** A random hyphenated UUIDv4 drawn from `random` (Effect's `Random`, seedable in tests). */
export const randomIdFrom = (random: Random.Random): string => {
  // The same 16 draws, in the same order, as `uuid4FromBytes` of an array of
  // them (so a seeded `Random` gives the same id), without the array.
  let out = ""
  for (let i = 0; i < 16; i++) {
    let b = Math.floor(random.nextDoubleUnsafe() * 256) & 0xff
    if (i === 6) b = 0x40 | (b & 0x0f)
    else if (i === 8) b = 0x80 | (b & 0x3f)
    if (i === 4 || i === 6 || i === 8 || i === 10) out += "-"
    out += hex[b]
  }
  return out
}

/** A random hyphenated UUIDv4 from Effect's `Random` (seedable in tests). */
export const randomId: Effect.Effect<string> = Random.Random.useSync(randomIdFrom)
