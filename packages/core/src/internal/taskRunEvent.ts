/**
 * Encodes a task run's state transition as the event Prefect's client task
 * engine emits for it (`prefect.task-run.{state name}`): Prefect 3 does not
 * send task-run states to the API's `set_state`, it decides them in the client
 * and reports each validated state as an event, whose shape this module
 * reproduces key for key. Re-exported by `Wire`.
 *
 * @since 0.2.0
 */
import * as ResultRecord from "../ResultRecord.ts"
import type * as State from "../State.ts"
import * as StateDetails from "../StateDetails.ts"
import { normalizeUuid } from "./scalars.ts"

/**
 * The longest state message an event carries, in characters; longer ones are
 * shortened to their first and last half with
 * `...{n} additional characters...` between (Prefect's `truncated_to`).
 *
 * @category constants
 * @since 0.2.0
 */
export const stateMessageTruncationLength = 100_000

/**
 * Prefect's `truncated_to(length, value)`: `""` for a missing or empty
 * value, the value itself when it has at most `length` characters, else
 * `{first length/2}...{n} additional characters...{last length/2}` — when that
 * is actually shorter. Characters are Unicode code points, as Python counts.
 *
 * @example
 * ```ts
 * import { Wire } from "@runstate/core"
 *
 * Wire.truncateMessage(100_000, "x".repeat(100_001))
 * // 50 000 × "x", then "...1 additional characters...", then 50 000 × "x"
 * Wire.truncateMessage(100_000, null) // ""
 * ```
 *
 * @category encoding
 * @since 0.2.0
 */
export const truncateMessage = (length: number, value: string | null | undefined): string => {
  if (!value) return ""
  // A string of at most `length` UTF-16 units has at most `length` code points.
  if (value.length <= length) return value
  const points = Array.from(value)
  if (points.length <= length) return value
  const half = Math.floor(length / 2)
  // Python's value[-0:] is the whole value, so with half = 0 the shortened form is never shorter.
  if (half === 0) return value
  const beginning = points.slice(0, half)
  const end = points.slice(-half)
  const omitted = points.length - (beginning.length + end.length)
  const proposed = `${beginning.join("")}...${omitted} additional characters...${end.join("")}`
  return Array.from(proposed).length < points.length ? proposed : value
}

/**
 * The transition an event reports (a `RunLog.Transition` fits): the task
 * run's id (a UUID) and name, its `run_count`, and the states it left and
 * entered.
 *
 * @category models
 * @since 0.2.0
 */
export interface TaskRunEventInput {
  readonly runId: string
  readonly kind?: "task" | "flow" | undefined
  readonly name: string
  readonly runCount: number
  readonly from: State.State<unknown> | undefined
  readonly to: State.State<unknown>
}

/**
 * What an event says beyond the transition.
 *
 * @category models
 * @since 0.2.0
 */
export interface TaskRunEventOptions {
  /** The task run's tags: one related resource each, sorted. */
  readonly tags?: ReadonlyArray<string> | undefined
  /**
   * Prefect's `should_persist_result()` when the event is emitted: the
   * validated state's result-record metadata is sent only when it is true.
   * Default: whether the state's result record is persisted.
   */
  readonly persistResult?: boolean | undefined
  /**
   * Further fields of the task run for `payload.task_run`, in Prefect's JSON
   * (snake_case, e.g. `task_key`, `dynamic_key`, `empirical_policy`,
   * `start_time`). `null` values are left out, as are `id`, `created`,
   * `updated`, `flow_run_id`, the `state*` fields and the server's estimates.
   */
  readonly taskRun?: { readonly [key: string]: unknown } | undefined
  /** The id of the event this one follows (Prefect's `follows`). */
  readonly follows?: string | null | undefined
}

/**
 * A state inside an event's payload.
 *
 * @category models
 * @since 0.2.0
 */
export interface TaskRunEventState {
  readonly type: string
  readonly name: string
  readonly message: string
  readonly state_details: { readonly [key: string]: unknown }
}

/**
 * A task-run state event as JSON, keys in Prefect's order.
 *
 * @category models
 * @since 0.2.0
 */
export interface TaskRunEventEncoded {
  readonly occurred: string
  readonly event: string
  readonly resource: { readonly [label: string]: string }
  readonly related: ReadonlyArray<{ readonly [label: string]: string }>
  readonly payload: {
    readonly intended: { readonly from: string | null; readonly to: string }
    readonly initial_state: TaskRunEventState | null
    readonly validated_state: TaskRunEventState & { readonly data: unknown }
    readonly task_run: { readonly [key: string]: unknown }
  }
  readonly id: string
  readonly follows: string | null
}

const snakeCase = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

const isDateTime = (u: unknown): u is { readonly epochMilliseconds: number } =>
  typeof u === "object" && u !== null && typeof (u as { epochMilliseconds?: unknown }).epochMilliseconds === "number"

/**
 * Details as events carry them: Prefect dumps them without `None` values,
 * without fields never set and without `flow_run_id`/`task_run_id`. A runstate
 * state does not record which fields were set, so a field holding its default
 * (`null`, or `false` for `untrackable_result` and `pause_reschedule`) counts
 * as never set.
 */
const eventDetails = (details: StateDetails.StateDetails): { readonly [key: string]: unknown } => {
  const out: { [key: string]: unknown } = {}
  for (const field of StateDetails.fields) {
    if (field === "flowRunId" || field === "taskRunId") continue
    const value = details[field]
    if (value === null || value === StateDetails.empty[field]) continue
    out[snakeCase(field)] = isDateTime(value)
      ? ResultRecord.formatDateTime(value as Parameters<typeof ResultRecord.formatDateTime>[0])
      : value
  }
  return out
}

const pythonIsoformat = (dt: Parameters<typeof ResultRecord.formatDateTime>[0]): string =>
  ResultRecord.formatDateTime(dt).replace(/Z$/, "+00:00")

const excludedTaskRunKeys = new Set([
  "id",
  "created",
  "updated",
  "flow_run_id",
  "state_id",
  "state_type",
  "state_name",
  "state",
  "estimated_start_time_delta",
  "estimated_run_time"
])

/** `payload.task_run` keys in Prefect's `TaskRun` field order. */
const taskRunOrder = [
  "name",
  "task_key",
  "dynamic_key",
  "cache_key",
  "cache_expiration",
  "task_version",
  "empirical_policy",
  "tags",
  "labels",
  "task_inputs",
  "run_count",
  "flow_run_run_count",
  "expected_start_time",
  "next_scheduled_start_time",
  "start_time",
  "end_time",
  "total_run_time"
]

const taskRunDump = (
  input: TaskRunEventInput,
  options: TaskRunEventOptions | undefined
): { readonly [key: string]: unknown } => {
  const given: { [key: string]: unknown } = {
    ...options?.taskRun,
    name: input.name,
    run_count: input.runCount,
    ...(options?.tags !== undefined ? { tags: [...new Set(options.tags)] } : {})
  }
  const out: { [key: string]: unknown } = {}
  for (const key of [...taskRunOrder, ...Object.keys(given)]) {
    if (key in out || excludedTaskRunKeys.has(key) || !(key in given)) continue
    const value = given[key]
    if (value === null || value === undefined) continue
    out[key] = value
  }
  return out
}

const stateData = (state: State.State<unknown>, persist: boolean | undefined): unknown => {
  const data = state.data
  if (!ResultRecord.isResultRecord(data)) return null
  return (persist ?? data.persisted) ? ResultRecord.metadataToJson(data.metadata) : null
}

/**
 * The event Prefect's client task engine emits when `input.to` is validated
 * (its `emit_task_run_state_change_event`), or a message saying why the input
 * cannot be one (a flow run's transition, a task run id that is not a UUID).
 *
 * @category encoding
 * @since 0.2.0
 */
export const taskRunEventJson = (
  input: TaskRunEventInput,
  options?: TaskRunEventOptions
): TaskRunEventEncoded | string => {
  if (input.kind === "flow") {
    return "Flow-run states are not sent as events: Prefect proposes them to the API (set_state)"
  }
  if (normalizeUuid(input.runId) === undefined) {
    return `Expected the task run id to be a UUID, got ${JSON.stringify(input.runId)}`
  }
  const { from, to } = input
  const message = truncateMessage(stateMessageTruncationLength, to.message)
  const tags = [...new Set(options?.tags ?? [])].sort()
  return {
    occurred: ResultRecord.formatDateTime(to.timestamp),
    event: `prefect.task-run.${to.name}`,
    resource: {
      "prefect.resource.id": `prefect.task-run.${input.runId}`,
      "prefect.resource.name": input.name,
      "prefect.run-count": String(input.runCount),
      "prefect.state-message": message,
      "prefect.state-name": to.name || "",
      "prefect.state-timestamp": pythonIsoformat(to.timestamp),
      "prefect.state-type": to.type,
      "prefect.orchestration": "client"
    },
    related: tags.map((tag) => ({ "prefect.resource.id": `prefect.tag.${tag}`, "prefect.resource.role": "tag" })),
    payload: {
      intended: { from: from === undefined ? null : from.type, to: to.type },
      initial_state: from === undefined ? null : {
        type: from.type,
        name: from.name,
        message: truncateMessage(stateMessageTruncationLength, from.message),
        state_details: eventDetails(from.stateDetails)
      },
      validated_state: {
        type: to.type,
        name: to.name,
        message,
        state_details: eventDetails(to.stateDetails),
        data: stateData(to, options?.persistResult)
      },
      task_run: taskRunDump(input, options)
    },
    id: to.id,
    follows: options?.follows ?? null
  }
}
