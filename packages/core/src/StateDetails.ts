/**
 * The details attached to a state: run ids, scheduling and pause information,
 * cache settings, the retry flag, the W3C trace context and the deployment
 * concurrency lease — Prefect's eighteen `StateDetails` fields in camelCase and
 * in Prefect's field order. Details are immutable plain values; states that
 * carry no details share the single {@link empty} value.
 *
 * @since 0.1.0
 */
import type * as DateTime from "effect/DateTime"
import { dual } from "effect/Function"

/**
 * Prefect's `StateDetails`. Every field is present; absent values are `null`
 * (Prefect's `None`), and the two boolean fields default to `false`.
 *
 * @category models
 * @since 0.1.0
 */
export interface StateDetails {
  readonly flowRunId: string | null
  readonly taskRunId: string | null
  readonly childFlowRunId: string | null
  readonly scheduledTime: DateTime.Utc | null
  readonly cacheKey: string | null
  readonly cacheExpiration: DateTime.Utc | null
  readonly deferred: boolean | null
  readonly untrackableResult: boolean
  readonly pauseTimeout: DateTime.Utc | null
  readonly pauseReschedule: boolean
  readonly pauseKey: string | null
  readonly runInputKeyset: { readonly [key: string]: string } | null
  readonly refreshCache: boolean | null
  readonly retriable: boolean | null
  readonly transitionId: string | null
  readonly taskParametersId: string | null
  readonly traceparent: string | null
  readonly deploymentConcurrencyLeaseId: string | null
}

/**
 * What a constructor accepts for details: any subset of the fields; missing
 * fields take their defaults.
 *
 * @category models
 * @since 0.1.0
 */
export type Input = { readonly [K in keyof StateDetails]?: StateDetails[K] | undefined }

/**
 * The field names, in Prefect's order (also the JSON key order on the wire).
 *
 * @category constructors
 * @since 0.1.0
 */
export const fields: ReadonlyArray<keyof StateDetails> = [
  "flowRunId",
  "taskRunId",
  "childFlowRunId",
  "scheduledTime",
  "cacheKey",
  "cacheExpiration",
  "deferred",
  "untrackableResult",
  "pauseTimeout",
  "pauseReschedule",
  "pauseKey",
  "runInputKeyset",
  "refreshCache",
  "retriable",
  "transitionId",
  "taskParametersId",
  "traceparent",
  "deploymentConcurrencyLeaseId"
]

/**
 * The empty details, shared by every state built without details (Prefect's
 * `StateDetails()`: all `null`, `untrackableResult` and `pauseReschedule` false).
 *
 * @category constructors
 * @since 0.1.0
 */
export const empty: StateDetails = Object.freeze({
  flowRunId: null,
  taskRunId: null,
  childFlowRunId: null,
  scheduledTime: null,
  cacheKey: null,
  cacheExpiration: null,
  deferred: null,
  untrackableResult: false,
  pauseTimeout: null,
  pauseReschedule: false,
  pauseKey: null,
  runInputKeyset: null,
  refreshCache: null,
  retriable: null,
  transitionId: null,
  taskParametersId: null,
  traceparent: null,
  deploymentConcurrencyLeaseId: null
})

/**
 * Builds details from any subset of the fields. Unknown keys are ignored (as
 * Prefect's `extra = ignore`), `undefined` means "use the default", and an
 * input that sets nothing returns the shared {@link empty} value.
 *
 * @example
 * ```ts
 * import { StateDetails } from "@runstate/core"
 *
 * const details = StateDetails.make({ flowRunId: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70" })
 * details.taskRunId // null
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (input?: Input | StateDetails): StateDetails => {
  if (input === undefined || input === empty) return empty
  // Details built here are frozen and complete: reuse them as they are.
  if (built.has(input)) return input as StateDetails
  // One fixed-shape literal (fast to allocate, one hidden class for all details).
  const out: StateDetails = {
    flowRunId: input.flowRunId ?? null,
    taskRunId: input.taskRunId ?? null,
    childFlowRunId: input.childFlowRunId ?? null,
    scheduledTime: input.scheduledTime ?? null,
    cacheKey: input.cacheKey ?? null,
    cacheExpiration: input.cacheExpiration ?? null,
    deferred: input.deferred ?? null,
    untrackableResult: input.untrackableResult ?? false,
    pauseTimeout: input.pauseTimeout ?? null,
    pauseReschedule: input.pauseReschedule ?? false,
    pauseKey: input.pauseKey ?? null,
    runInputKeyset: input.runInputKeyset ?? null,
    refreshCache: input.refreshCache ?? null,
    retriable: input.retriable ?? null,
    transitionId: input.transitionId ?? null,
    taskParametersId: input.taskParametersId ?? null,
    traceparent: input.traceparent ?? null,
    deploymentConcurrencyLeaseId: input.deploymentConcurrencyLeaseId ?? null
  }
  if (isDefault(out)) return empty
  Object.freeze(out)
  built.add(out)
  return out
}

const built = new WeakSet<object>()

const isDefault = (d: StateDetails): boolean =>
  d.flowRunId === null && d.taskRunId === null && d.childFlowRunId === null && d.scheduledTime === null &&
  d.cacheKey === null && d.cacheExpiration === null && d.deferred === null && d.untrackableResult === false &&
  d.pauseTimeout === null && d.pauseReschedule === false && d.pauseKey === null && d.runInputKeyset === null &&
  d.refreshCache === null && d.retriable === null && d.transitionId === null && d.taskParametersId === null &&
  d.traceparent === null && d.deploymentConcurrencyLeaseId === null

/**
 * Returns details with some fields replaced (a new value; the input is not touched).
 * Data-first (`update(details, patch)`) or data-last (`update(patch)`, as in
 * `pipe(details, StateDetails.update(patch))`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const update: {
  (patch: Input): (self: StateDetails) => StateDetails
  (self: StateDetails, patch: Input): StateDetails
} = dual(2, (self: StateDetails, patch: Input): StateDetails => {
  let changed = false
  for (const key in patch) {
    const value = (patch as Record<string, unknown>)[key]
    if (value !== undefined && (self as unknown as Record<string, unknown>)[key] !== value) {
      changed = true
      break
    }
  }
  if (!changed) return self
  return make({ ...self, ...stripUndefined(patch) })
})

const stripUndefined = (patch: Input): Input => {
  const out: Record<string, unknown> = {}
  for (const key in patch) {
    const value = (patch as Record<string, unknown>)[key]
    if (value !== undefined) out[key] = value
  }
  return out as Input
}

/**
 * Tells whether the details are all defaults.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isEmpty = (self: StateDetails): boolean => self === empty || make(self) === empty
