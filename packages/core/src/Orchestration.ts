/**
 * Prefect's server-side transition rules as data: given a run's current state,
 * a proposed state and what the server knows about the run (its counters, its
 * retry settings, its enclosing flow run, cache entries, concurrency limits),
 * {@link taskPolicy} and {@link flowPolicy} answer what Prefect's
 * `CoreTaskPolicy` and `CoreFlowPolicy` answer — ACCEPT (with the state that is
 * written, possibly renamed or completed), REJECT (with the state to use
 * instead, or none to keep the current one), WAIT or ABORT — with Prefect's
 * reason text, character for character, and the run's bookkeeping after the
 * transition (`run_count`, start and end time, run time, the flow's pause and
 * retry policy). The functions are pure: time and randomness come in through
 * the context.
 *
 * Reference: Prefect's orchestration rules,
 * https://docs.prefect.io/v3/concepts/states#state-transitions and the
 * `prefect.server.orchestration.core_policy` module of Prefect's source.
 *
 * @since 0.2.0
 */
import * as DateTime from "effect/DateTime"
import * as State from "./State.ts"
import * as StateDetails from "./StateDetails.ts"
import * as StateType from "./StateType.ts"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * The response status of a proposal, as Prefect names it.
 *
 * @category models
 * @since 0.2.0
 */
export type Status = "ACCEPT" | "REJECT" | "WAIT" | "ABORT"

/**
 * The proposal was accepted: `state` is the state written (the proposed one,
 * possibly renamed, e.g. `Retrying`, or with details the rules filled in, and
 * with the run ids stamped when the context names them).
 *
 * @category models
 * @since 0.2.0
 */
export interface Accept<R> {
  readonly status: "ACCEPT"
  readonly state: State.State<unknown>
  /** The run's bookkeeping after the transition. */
  readonly run: R
}

/**
 * The proposal was rejected. With a `state`, that state is written instead
 * (e.g. `AwaitingRetry` for a FAILED proposal with retries left, `Cached` for
 * a RUNNING proposal with a cache hit); without one the run keeps its current
 * state and nothing is written.
 *
 * @category models
 * @since 0.2.0
 */
export interface Reject<R> {
  readonly status: "REJECT"
  readonly state: State.State<unknown> | undefined
  readonly reason: string
  readonly run: R
}

/**
 * The proposal must be retried after `delaySeconds`; nothing is written.
 *
 * @category models
 * @since 0.2.0
 */
export interface Wait<R> {
  readonly status: "WAIT"
  readonly delaySeconds: number
  readonly reason: string
  readonly run: R
}

/**
 * The proposal was refused outright; nothing is written.
 *
 * @category models
 * @since 0.2.0
 */
export interface Abort<R> {
  readonly status: "ABORT"
  readonly reason: string
  readonly run: R
}

/**
 * What a policy decides about one proposal.
 *
 * @category models
 * @since 0.2.0
 */
export type Outcome<R> = Accept<R> | Reject<R> | Wait<R> | Abort<R>

/**
 * The bookkeeping Prefect keeps on every run and that decides later outcomes.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunCounters {
  /** Prefect's `run_count`: how many times the run entered RUNNING (reset when a task leaves a final state). */
  readonly runCount: number
  /** When the run first entered RUNNING. */
  readonly startTime: DateTime.Utc | null
  /** When the run entered a final state (cleared when it leaves one). */
  readonly endTime: DateTime.Utc | null
  /** Time spent in RUNNING, in milliseconds, added each time the run leaves RUNNING. */
  readonly totalRunTimeMillis: number
  /** The first state's scheduled time (SCHEDULED) or timestamp. */
  readonly expectedStartTime: DateTime.Utc | null
  /** The scheduled time of the current SCHEDULED state; `null` outside SCHEDULED. */
  readonly nextScheduledStartTime: DateTime.Utc | null
}

/**
 * A task run as the task policy sees it: its counters and its retry settings
 * (Prefect's task run `empirical_policy`).
 *
 * @category models
 * @since 0.2.0
 */
export interface TaskRun extends RunCounters {
  /** The task run id, stamped on written states as `taskRunId` when set. */
  readonly id: string | null
  /** The enclosing flow run's id, stamped on written states as `flowRunId` when set. */
  readonly flowRunId: string | null
  /** The enclosing flow run's `run_count` when this task last entered RUNNING. */
  readonly flowRunRunCount: number
  readonly retries: number | null
  /** Seconds; a list gives one delay per retry, its last element repeated. */
  readonly retryDelay: number | ReadonlyArray<number> | null
  readonly retryJitterFactor: number | null
}

/**
 * A flow run as the flow policy sees it: its counters, its retry settings and
 * its `empirical_policy` (pause keys, resuming, retry type), plus what the
 * rules read about its deployment and infrastructure.
 *
 * @category models
 * @since 0.2.0
 */
export interface FlowRun extends RunCounters {
  /** The flow run id, stamped on written states as `flowRunId` when set. */
  readonly id: string | null
  readonly retries: number | null
  /** Seconds. */
  readonly retryDelay: number | null
  readonly resuming: boolean
  readonly pauseKeys: ReadonlyArray<string>
  readonly retryType: "in_process" | "reschedule" | null
  readonly deploymentId: string | null
  readonly infrastructurePid: string | null
  /** Set for a subflow: the parent task run's id. */
  readonly parentTaskRunId: string | null
}

const emptyCounters: RunCounters = {
  runCount: 0,
  startTime: null,
  endTime: null,
  totalRunTimeMillis: 0,
  expectedStartTime: null,
  nextScheduledStartTime: null
}

/**
 * A task run with no history yet; fields not given take Prefect's defaults.
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeTaskRun = (fields?: Partial<TaskRun>): TaskRun => ({
  ...emptyCounters,
  id: null,
  flowRunId: null,
  flowRunRunCount: 0,
  retries: null,
  retryDelay: null,
  retryJitterFactor: null,
  ...fields
})

/**
 * A flow run with no history yet; fields not given take Prefect's defaults.
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeFlowRun = (fields?: Partial<FlowRun>): FlowRun => ({
  ...emptyCounters,
  id: null,
  retries: null,
  retryDelay: null,
  resuming: false,
  pauseKeys: [],
  retryType: null,
  deploymentId: null,
  infrastructurePid: null,
  parentTaskRunId: null,
  ...fields
})

/**
 * One row of Prefect's task cache table: a COMPLETED state stored under a
 * cache key, with its expiration.
 *
 * @category models
 * @since 0.2.0
 */
export interface CacheEntry {
  readonly cacheKey: string
  readonly expiration: DateTime.Utc | null
  readonly state: State.State<unknown>
}

/**
 * A tag concurrency limit that applies to the task run. Version 2 limits are
 * Prefect's global concurrency limits named `tag:{tag}`; version 1 limits are
 * the older per-tag limits (ignored for a tag that also has an active
 * version 2 limit).
 *
 * @category models
 * @since 0.2.0
 */
export interface TagLimit {
  readonly tag: string
  readonly limit: number
  /** How many slots are taken by other runs. */
  readonly activeSlots: number
  readonly version: 1 | 2
  /** Version 2 only: an inactive limit is ignored. Default `true`. */
  readonly active?: boolean | undefined
  /**
   * Version 2 only: how long a slot of this limit is held on average, in
   * seconds; the WAIT delay is a draw around the busiest limit's value, capped
   * at the slot wait setting. Default: the slot wait setting.
   */
  readonly averageSlotOccupancySeconds?: number | undefined
}

/**
 * What the task policy reads besides the two states.
 *
 * @category models
 * @since 0.2.0
 */
export interface TaskContext {
  /** The server's clock. */
  readonly now: DateTime.Utc
  readonly run: TaskRun
  /** The enclosing flow run, when the task belongs to one: its id, current state and `run_count`. */
  readonly flowRun?: {
    readonly id: string
    readonly state: State.State<unknown> | undefined
    readonly runCount: number
  } | undefined
  /** The cache table, oldest entry first (the newest unexpired match wins). */
  readonly cache?: ReadonlyArray<CacheEntry> | undefined
  readonly tagLimits?: ReadonlyArray<TagLimit> | undefined
  /** Prefect's `tag_concurrency_slot_wait_seconds`. Default 10. */
  readonly tagConcurrencySlotWaitSeconds?: number | undefined
  /** Prefect's `max_cache_key_length`. Default 2000. */
  readonly maxCacheKeyLength?: number | undefined
  /** A uniform draw in [0, 1) for the jittered delays. Default: always 0.5 (the median). */
  readonly random?: (() => number) | undefined
}

/**
 * The deployment of a flow run, as the concurrency rules see it.
 *
 * @category models
 * @since 0.2.0
 */
export interface Deployment {
  /** The deployment's concurrency limit; `null` for none. */
  readonly concurrencyLimit: number | null
  /** Whether a concurrency slot can be taken now. */
  readonly slotAvailable: boolean
  /** Default `"ENQUEUE"`. */
  readonly collisionStrategy?: "ENQUEUE" | "CANCEL_NEW" | undefined
  /** The lease id the server creates when a slot is taken. */
  readonly leaseId?: string | undefined
  /** Whether the run's current lease can still be renewed. Default `true`. */
  readonly leaseRenewable?: boolean | undefined
}

/**
 * What the flow policy reads besides the two states.
 *
 * @category models
 * @since 0.2.0
 */
export interface FlowContext {
  readonly now: DateTime.Utc
  readonly run: FlowRun
  /** The run's deployment; `"missing"` when `deploymentId` names one that does not exist. */
  readonly deployment?: Deployment | "missing" | undefined
  /** Prefect's `deployments.concurrency_slot_wait_seconds`. Default 30. */
  readonly concurrencySlotWaitSeconds?: number | undefined
  /** Used when a PAUSED proposal has no `pauseKey` (Prefect draws a UUID). */
  readonly newPauseKey?: (() => string) | undefined
}

// -----------------------------------------------------------------------------
// shared helpers
// -----------------------------------------------------------------------------

const ms = (dt: DateTime.Utc): number => dt.epochMilliseconds
/** The largest instant a date can hold, in milliseconds from the epoch (either side). */
const maxMillis = 8.64e15
/** An instant; times beyond the representable range are clamped to its ends. */
const utc = (millis: number): DateTime.Utc =>
  DateTime.makeUnsafe(Math.max(-maxMillis, Math.min(maxMillis, millis))) as DateTime.Utc

const withDetails = <S extends State.State<unknown>>(self: S, patch: StateDetails.Input): S =>
  State.update(self, { stateDetails: StateDetails.make({ ...self.stateDetails, ...patch }) }) as unknown as S

/**
 * Prefect's `WaitForScheduledTime` rounding: the whole seconds until
 * `scheduled`, plus one when the remaining fraction is more than a half
 * (Python's `round`, which rounds an exact half to even, i.e. down here).
 */
const waitSeconds = (scheduled: DateTime.Utc, now: DateTime.Utc): number => {
  const delta = ms(scheduled) - ms(now)
  const whole = Math.floor(delta / 1000)
  const fraction = (delta - whole * 1000) / 1000
  return whole + (fraction > 0.5 ? 1 : 0)
}

/**
 * Prefect's `clamped_poisson_interval`: a draw from an exponential
 * distribution with mean `average`, clamped to
 * `[average × c, average × (1 + factor)]` where `c` makes the mass below and
 * above the median equal. `u` is a uniform draw in [0, 1).
 *
 * @category utils
 * @since 0.2.0
 */
export const clampedPoissonInterval = (average: number, factor: number, u: number): number => {
  const upperMultiple = 1 + factor
  const upperBound = average * upperMultiple
  const lowerMultiple = upperMultiple >= 50
    ? 0
    : Math.log2(Math.max(2 ** upperMultiple / (2 ** upperMultiple - 1), 1e-10))
  const lowerBound = Math.max(0, average * lowerMultiple)
  const cdf = (x: number) => 1 - Math.exp(-x / average)
  const lower = cdf(lowerBound)
  const upper = cdf(upperBound)
  const draw = lower + (upper - lower) * u
  return -Math.log(Math.max(1 - draw, 1e-10)) * average
}

/**
 * The delay before a task's next retry, in seconds, as Prefect's
 * `RetryFailedTasks` computes it: a list's element at `min(runCount − 1,
 * length − 1)`, a number as is, `null` as 0; with a jitter factor and a base
 * delay above 0, a draw from {@link clampedPoissonInterval}. A delay that is
 * not a finite, non-negative number counts as 0.
 *
 * @category utils
 * @since 0.2.0
 */
export const retryDelaySeconds = (
  run: Pick<TaskRun, "runCount" | "retryDelay" | "retryJitterFactor">,
  u = 0.5
): number => {
  const delay = run.retryDelay
  const base = Array.isArray(delay)
    ? (delay.length === 0 ? 0 : (delay[Math.max(0, Math.min(run.runCount - 1, delay.length - 1))] ?? 0))
    : ((delay as number | null) ?? 0)
  const delay_ = run.retryJitterFactor && base > 0 ? clampedPoissonInterval(base, run.retryJitterFactor, u) : base
  // Prefect validates its settings; here a delay that is not a finite, non-negative number counts as 0.
  return Number.isFinite(delay_) && delay_ > 0 ? delay_ : 0
}

/** What Python answers for `type(value).__name__`, for the rule-error message. */
const pythonTypeName = (u: unknown): string => {
  if (typeof u === "string") return "str"
  if (typeof u === "boolean") return "bool"
  if (typeof u === "number") return Number.isInteger(u) ? "int" : "float"
  if (typeof u === "bigint") return "int"
  if (Array.isArray(u)) return "list"
  return "object"
}

const isDict = (u: unknown): u is { readonly [k: string]: unknown } =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** Python truthiness of JSON-like data. */
const truthy = (u: unknown): boolean => {
  if (u === null || u === undefined || u === false || u === 0 || u === "") return false
  if (Array.isArray(u)) return u.length > 0
  if (isDict(u) && Object.getPrototypeOf(u) === Object.prototype) return Object.keys(u).length > 0
  return true
}

/** State data that is persisted-result metadata or a plain object other than `{"type": "unpersisted"}`. */
const isPersisted = (data: unknown): boolean => isDict(data) && data.type !== "unpersisted"

const ruleError = (rule: string, data: unknown): string =>
  `Aborting orchestration due to error in <class 'prefect.server.orchestration.core_policy.${rule}'>: !AttributeError("'${
    pythonTypeName(data)
  }' object has no attribute 'get'")`

/**
 * The global bookkeeping transforms every written state goes through:
 * start, end and run time, expected and next scheduled start time.
 */
const bookkeeping = <R extends RunCounters>(
  run: R,
  initial: State.State<unknown> | undefined,
  validated: State.State<unknown>
): R => {
  const ts = validated.timestamp
  let startTime = run.startTime
  let endTime = run.endTime
  let total = run.totalRunTimeMillis
  if (validated.type === "RUNNING" && startTime === null) startTime = ts
  if (initial !== undefined && StateType.isTerminal(initial.type) && !StateType.isTerminal(validated.type)) {
    endTime = null
  }
  if (StateType.isTerminal(validated.type) && endTime === null) {
    endTime = ts
    if (startTime === null) startTime = ts
  }
  if (initial?.type === "RUNNING") total += Math.max(0, ms(ts) - ms(initial.timestamp))
  const expectedStartTime = initial === undefined && run.expectedStartTime === null
    ? (validated.type === "SCHEDULED" ? (validated.stateDetails.scheduledTime ?? ts) : ts)
    : run.expectedStartTime
  const nextScheduledStartTime = validated.type === "SCHEDULED"
    ? validated.stateDetails.scheduledTime
    : (initial?.type === "SCHEDULED" ? null : run.nextScheduledStartTime)
  return { ...run, startTime, endTime, totalRunTimeMillis: total, expectedStartTime, nextScheduledStartTime }
}

// -----------------------------------------------------------------------------
// task policy
// -----------------------------------------------------------------------------

/**
 * Prefect's WaitForScheduledTime, shared by the task and flow policies: a
 * SCHEDULED or PENDING run proposed RUNNING before its scheduled time waits
 * that many seconds; 0 when it need not wait.
 */
const scheduledWait = (
  initial: State.State<unknown> | undefined,
  from: StateType.StateType | undefined,
  to: StateType.StateType,
  now: DateTime.Utc
): number => {
  if (initial === undefined || (from !== "SCHEDULED" && from !== "PENDING") || to !== "RUNNING") return 0
  const scheduled = initial.stateDetails.scheduledTime
  return scheduled === null ? 0 : waitSeconds(scheduled, now)
}

/**
 * Prefect's `CoreTaskPolicy` followed by its global task transforms, for one
 * proposal: `initial` is the task run's current state (`undefined` when it
 * has none), `proposed` the state proposed for it.
 *
 * The rules, in Prefect's order: a RUNNING proposal with an unexpired cache
 * entry for its `cacheKey` becomes `Cached` (`Retrieved state from cache`);
 * a final run cannot become CANCELLING, PAUSED or CRASHED (`Run is already
 * COMPLETED.`), nor leave COMPLETED with a persisted result (`This run is
 * already completed.`); leaving a final state for a non-final one resets
 * `run_count`; a task in a flow run only starts while the flow runs
 * (`The enclosing flow must be running to begin task execution.`); tag
 * concurrency limits abort (limit 0) or wait; SCHEDULED → PENDING copies the
 * scheduled time; a start before the scheduled time waits (`Scheduled time is
 * in the future`); RUNNING → FAILED with retries left becomes `AwaitingRetry`
 * (`Retrying`) unless the proposal says `retriable: false`; a rerun is named
 * `Retrying` after `AwaitingRetry`, `Rerunning` otherwise; a cache key longer
 * than the limit is reported but the state is still written. Then the run's
 * counters: `run_count` + 1 on entering RUNNING, start, end and run time.
 *
 * When COMPLETED data is neither an object nor empty (a string, a number, a
 * list), Prefect's terminal rule fails on it; the outcome is the ABORT the
 * server records (`Aborting orchestration due to error in …`), which the
 * server then reports as an HTTP error.
 *
 * @example
 * ```ts
 * import { DateTime } from "effect"
 * import { Orchestration, State } from "@runstate/core"
 *
 * const now = DateTime.makeUnsafe("2026-01-01T00:00:00Z")
 * const outcome = Orchestration.taskPolicy(State.Running({ timestamp: now }), State.Failed({ timestamp: now }), {
 *   now,
 *   run: Orchestration.makeTaskRun({ runCount: 1, retries: 2, retryDelay: 10 })
 * })
 * outcome.status // "REJECT", with an AwaitingRetry state and the reason "Retrying"
 * ```
 *
 * @category policies
 * @since 0.2.0
 */
export const taskPolicy = (
  initial: State.State<unknown> | undefined,
  proposed: State.State<unknown>,
  context: TaskContext
): Outcome<TaskRun> => taskRules(initial, proposed, context, false)

/**
 * Prefect's `BackgroundTaskPolicy`, used for deferred (background) task runs —
 * every proposal whose details say `deferred: true`, forced or not. It is
 * {@link taskPolicy} without the enclosing-flow and tag-concurrency rules, with
 * PENDING refused after PENDING, RUNNING, CANCELLING or CANCELLED (`This run is
 * in a RUNNING state and cannot transition to a PENDING state.`, a PENDING
 * sub-state rename excepted) and the stored parameters' id
 * (`taskParametersId`) copied from SCHEDULED or PENDING to the next PENDING or
 * RUNNING state that lacks one.
 *
 * @category policies
 * @since 0.2.0
 */
export const backgroundTaskPolicy = (
  initial: State.State<unknown> | undefined,
  proposed: State.State<unknown>,
  context: TaskContext
): Outcome<TaskRun> => taskRules(initial, proposed, context, true)

/**
 * Which task policy Prefect's API applies to a proposal: the background
 * policy when its details say `deferred: true` (even when forced), the
 * minimal one when forced, the core one otherwise.
 *
 * @category policies
 * @since 0.2.0
 */
export const taskPolicyFor = (
  proposed: State.State<unknown>,
  options?: { readonly force?: boolean | undefined }
): typeof taskPolicy =>
  proposed.stateDetails.deferred === true
    ? backgroundTaskPolicy
    : options?.force === true
    ? minimalTaskPolicy
    : taskPolicy

const taskRules = (
  initial: State.State<unknown> | undefined,
  proposed: State.State<unknown>,
  context: TaskContext,
  background: boolean
): Outcome<TaskRun> => {
  const { now } = context
  const original = context.run
  let run = original
  let state = proposed
  const from = initial?.type
  const to = proposed.type
  // Set when a rule rejects with a state of another type: later rules do not fire.
  let rejected: { readonly state: State.State<unknown> | undefined; readonly reason: string } | undefined
  let sameTypeReason: string | undefined
  let terminalReset = false

  const finish = (): Outcome<TaskRun> => {
    if (rejected !== undefined && rejected.state === undefined) {
      return { status: "REJECT", state: undefined, reason: rejected.reason, run: original }
    }
    let validated = rejected?.state ?? state
    // A rule that reset run_count fizzles (its reset is undone) when a later rule changed the type.
    if (terminalReset && rejected !== undefined && rejected.state!.type !== to) {
      // The terminal rule itself never rejects with a state, so any such reject restores the count.
      run = { ...run, runCount: original.runCount }
    }
    // UpdateStateDetails: the server stamps the run ids on every written state.
    const ids: StateDetails.Input = {
      ...(run.flowRunId !== null ? { flowRunId: run.flowRunId } : {}),
      ...(run.id !== null ? { taskRunId: run.id } : {})
    }
    if (Object.keys(ids).length > 0) validated = withDetails(validated, ids)
    // IncrementTaskRunCount; UpdateFlowRunTrackerOnTasks.
    if (validated.type === "RUNNING") {
      run = {
        ...run,
        runCount: run.runCount + 1,
        flowRunRunCount: context.flowRun !== undefined ? context.flowRun.runCount : run.flowRunRunCount
      }
    }
    run = bookkeeping(run, initial, validated)
    if (rejected !== undefined) return { status: "REJECT", state: validated, reason: rejected.reason, run }
    if (sameTypeReason !== undefined) return { status: "REJECT", state: validated, reason: sameTypeReason, run }
    return { status: "ACCEPT", state: validated, run }
  }

  // PreventPendingTransitions (background tasks)
  if (
    background && initial !== undefined && to === "PENDING" &&
    (from === "PENDING" || from === "RUNNING" || from === "CANCELLING" || from === "CANCELLED")
  ) {
    if (from === "PENDING" && initial.name !== proposed.name && proposed.name !== "Pending") {
      state = withDetails(state, {
        scheduledTime: initial.stateDetails.scheduledTime,
        deploymentConcurrencyLeaseId: initial.stateDetails.deploymentConcurrencyLeaseId
      })
    } else {
      return {
        status: "ABORT",
        reason: `This run is in a ${from} state and cannot transition to a PENDING state.`,
        run: original
      }
    }
  }

  // CacheRetrieval
  if (to === "RUNNING") {
    const key = proposed.stateDetails.cacheKey
    if (key && proposed.stateDetails.refreshCache !== true && context.cache !== undefined) {
      for (let i = context.cache.length - 1; i >= 0; i--) {
        const entry = context.cache[i]!
        if (entry.cacheKey === key && (entry.expiration === null || ms(entry.expiration) > ms(now))) {
          rejected = {
            state: State.freshCopy(entry.state, { name: "Cached", timestamp: now }),
            reason: "Retrieved state from cache"
          }
          return finish()
        }
      }
    }
  }

  // HandleTaskTerminalStateTransitions
  if (initial !== undefined && from !== undefined && StateType.isTerminal(from)) {
    if (to === "CANCELLING" || to === "PAUSED" || to === "CRASHED") {
      return { status: "ABORT", reason: `Run is already ${from}.`, run: original }
    }
    if (from === "COMPLETED" && truthy(initial.data)) {
      if (!isDict(initial.data)) {
        return { status: "ABORT", reason: ruleError("HandleTaskTerminalStateTransitions", initial.data), run: original }
      }
      if (isPersisted(initial.data)) {
        return { status: "REJECT", state: undefined, reason: "This run is already completed.", run: original }
      }
    }
    if (!StateType.isTerminal(to)) {
      run = { ...run, runCount: 0 }
      terminalReset = true
    }
    if (to === "RUNNING" && context.flowRun !== undefined && run.flowRunRunCount < context.flowRun.runCount) {
      state = State.update(state, { name: "Retrying" })
    }
  }

  if (to === "RUNNING" && !background) {
    // PreventRunningTasksFromStoppedFlows
    const flow = context.flowRun
    if (flow !== undefined) {
      if (flow.state === undefined) {
        return {
          status: "ABORT",
          reason: "The enclosing flow must be running to begin task execution.",
          run: original
        }
      }
      if (flow.state.type === "PAUSED") {
        rejected = {
          state: State.Paused({
            name: "NotReady",
            timestamp: now,
            pauseExpirationTime: flow.state.stateDetails.pauseTimeout,
            reschedule: flow.state.stateDetails.pauseReschedule
          } as State.PausedOptions<null>),
          reason: `The flow is paused, new tasks can execute after resuming flow run: ${flow.id}.`
        }
        return finish()
      }
      if (flow.state.type !== "RUNNING") {
        return {
          status: "ABORT",
          reason: "The enclosing flow must be running to begin task execution.",
          run: original
        }
      }
    }
    // SecureTaskConcurrencySlots
    const limits = context.tagLimits ?? []
    const v2 = limits.filter((l) => l.version === 2 && l.active !== false)
    const wait = context.tagConcurrencySlotWaitSeconds ?? 10
    for (const l of v2) {
      if (l.limit === 0) {
        return {
          status: "ABORT",
          reason: `The concurrency limit on tag "${l.tag}" is 0 and will deadlock if the task tries to run again.`,
          run: original
        }
      }
    }
    const positive = v2.filter((l) => l.limit > 0)
    if (positive.some((l) => l.activeSlots >= l.limit)) {
      const u = context.random?.() ?? 0.5
      const busiest = Math.max(...positive.map((l) => l.averageSlotOccupancySeconds ?? wait))
      return {
        status: "WAIT",
        delaySeconds: Math.min(wait, pythonRound(busiest > 0 ? clampedPoissonInterval(busiest, 0.3, u) : 0)),
        reason: `Concurrency limit reached for tags: ${positive.map((l) => l.tag).join(", ")}`,
        run: original
      }
    }
    const v2Tags = new Set(v2.map((l) => l.tag))
    for (const l of limits) {
      if (l.version !== 1 || v2Tags.has(l.tag)) continue
      if (l.limit === 0) {
        return {
          status: "ABORT",
          reason: `The concurrency limit on tag "${l.tag}" is 0 and will deadlock if the task tries to run again.`,
          run: original
        }
      }
      if (l.activeSlots >= l.limit) {
        return {
          status: "WAIT",
          delaySeconds: Math.trunc(wait),
          reason: `Concurrency limit for the ${l.tag} tag has been reached`,
          run: original
        }
      }
    }
  }

  // CopyScheduledTime
  if (initial !== undefined && from === "SCHEDULED" && to === "PENDING" && state.stateDetails.scheduledTime === null) {
    state = withDetails(state, { scheduledTime: initial.stateDetails.scheduledTime })
  }

  // CopyTaskParametersID (background tasks)
  if (
    background && initial !== undefined && (from === "SCHEDULED" || from === "PENDING") &&
    (to === "PENDING" || to === "RUNNING") && !state.stateDetails.taskParametersId
  ) {
    state = withDetails(state, { taskParametersId: initial.stateDetails.taskParametersId })
  }

  // WaitForScheduledTime
  const wait = scheduledWait(initial, from, to, now)
  if (wait > 0) return { status: "WAIT", delaySeconds: wait, reason: "Scheduled time is in the future", run: original }

  // RetryFailedTasks
  if (initial !== undefined && from === "RUNNING" && to === "FAILED") {
    if (proposed.stateDetails.retriable !== false && run.retries !== null && run.runCount <= run.retries) {
      const delay = retryDelaySeconds(run, context.random?.() ?? 0.5)
      rejected = {
        state: State.AwaitingRetry({
          timestamp: now,
          scheduledTime: utc(ms(now) + Math.round(delay * 1000)),
          message: proposed.message,
          data: proposed.data
        }),
        reason: "Retrying"
      }
      return finish()
    }
  }

  // RenameReruns
  if (initial !== undefined && to === "RUNNING" && run.runCount > 0) {
    state = State.update(state, { name: initial.name === "AwaitingRetry" ? "Retrying" : "Rerunning" })
  }

  // CacheInsertion
  if (to === "COMPLETED") {
    const max = context.maxCacheKeyLength ?? 2000
    const key = state.stateDetails.cacheKey
    if (key && [...key].length > max) {
      sameTypeReason = `Cache key exceeded maximum allowed length of ${max} characters.`
    }
  }

  return finish()
}

/** Python's `round` on a float: halves go to the even neighbour. */
const pythonRound = (x: number): number => {
  const floor = Math.floor(x)
  const diff = x - floor
  if (diff > 0.5) return floor + 1
  if (diff < 0.5) return floor
  return floor % 2 === 0 ? floor : floor + 1
}

// -----------------------------------------------------------------------------
// flow policy
// -----------------------------------------------------------------------------

const enumText = (t: StateType.StateType): string => `StateType.${t}`

/**
 * Prefect's `CoreFlowPolicy` followed by its global flow transforms, for one
 * proposal (`initial` is `undefined` when the flow run has no state yet).
 *
 * The rules, in Prefect's order: a repeated `transitionId` is rejected
 * (`This run has already made this state transition.`); a final run cannot
 * become CANCELLING, PAUSED or CRASHED (`Run is already in terminal state
 * FAILED.`), leave COMPLETED with persisted data for a non-final state (`Run
 * is already COMPLETED.`), lose its persisted result to another COMPLETED, or
 * be rescheduled without a deployment; CANCELLING only leads to CANCELLED; a
 * scheduled run without infrastructure or a suspended one is cancelled
 * directly instead of CANCELLING; PENDING is refused after PENDING, RUNNING,
 * CANCELLING or CANCELLED (a PENDING sub-state rename excepted); the
 * deployment's concurrency limit is enforced at PENDING (and the lease
 * checked at RUNNING); only SCHEDULED runs can be marked `Late`, once;
 * pausing and resuming follow the run's pause keys, deployment and pause
 * timeout; SCHEDULED → PENDING copies the scheduled time; a start before the
 * scheduled time waits; RUNNING → FAILED with retries left becomes
 * `AwaitingRetry` (`Retrying`). Then the run's counters: `run_count` + 1 on
 * entering RUNNING unless resuming from a pause, start, end and run time.
 *
 * Messages that name a state type use Python 3.11's enum text
 * (`StateType.PENDING`), as Prefect servers on Python 3.11 and later print it.
 *
 * @example
 * ```ts
 * import { DateTime } from "effect"
 * import { Orchestration, State } from "@runstate/core"
 *
 * const now = DateTime.makeUnsafe("2026-01-01T00:00:00Z")
 * const outcome = Orchestration.flowPolicy(State.Failed({ timestamp: now }), State.Crashed({ timestamp: now }), {
 *   now,
 *   run: Orchestration.makeFlowRun()
 * })
 * outcome.status // "ABORT": "Run is already in terminal state FAILED."
 * ```
 *
 * @category policies
 * @since 0.2.0
 */
export const flowPolicy = (
  initial: State.State<unknown> | undefined,
  proposed: State.State<unknown>,
  context: FlowContext
): Outcome<FlowRun> => {
  const { now } = context
  const original = context.run
  let run = original
  let state = proposed
  const from = initial?.type
  const to = proposed.type
  // Policy changes a rule makes that are undone when a later rule changes the proposed type.
  let revertible = false

  const abort = (reason: string): Outcome<FlowRun> => ({ status: "ABORT", reason, run: original })
  const keep = (reason: string): Outcome<FlowRun> => ({ status: "REJECT", state: undefined, reason, run: original })
  const finish = (
    rejected?: { readonly state: State.State<unknown>; readonly reason: string } | undefined
  ): Outcome<FlowRun> => {
    let validated = rejected?.state ?? state
    if (rejected !== undefined && rejected.state.type !== to && revertible) {
      run = {
        ...run,
        resuming: original.resuming,
        pauseKeys: original.pauseKeys,
        retryType: original.retryType
      }
    }
    if (run.id !== null) validated = withDetails(validated, { flowRunId: run.id })
    // IncrementFlowRunCount, RemoveResumingIndicator
    if (validated.type === "RUNNING") {
      run = { ...run, runCount: run.resuming ? run.runCount : run.runCount + 1, resuming: false }
    } else if (StateType.isTerminal(validated.type)) {
      run = { ...run, resuming: false }
    }
    run = bookkeeping(run, initial, validated)
    return rejected === undefined
      ? { status: "ACCEPT", state: validated, run }
      : { status: "REJECT", state: validated, reason: rejected.reason, run }
  }

  // PreventDuplicateTransitions
  if (
    initial !== undefined && initial.stateDetails.transitionId !== null &&
    initial.stateDetails.transitionId === proposed.stateDetails.transitionId
  ) {
    return keep("This run has already made this state transition.")
  }

  // HandleFlowTerminalStateTransitions
  if (initial !== undefined && from !== undefined && StateType.isTerminal(from)) {
    if (to === "CANCELLING" || to === "PAUSED" || to === "CRASHED") {
      return abort(`Run is already in terminal state ${from}.`)
    }
    if (from === "COMPLETED" && isPersisted(initial.data)) {
      if (!StateType.isTerminal(to)) return keep("Run is already COMPLETED.")
      if (to === "COMPLETED" && !isPersisted(proposed.data)) {
        return keep("Cannot overwrite a COMPLETED state that carries persisted result data with one that does not.")
      }
    }
    if (to === "SCHEDULED" && run.deploymentId === null) {
      return abort("Cannot reschedule a run without an associated deployment.")
    }
    if (!StateType.isTerminal(to)) {
      run = { ...run, resuming: false, pauseKeys: [], retryType: to === "SCHEDULED" ? "reschedule" : null }
      revertible = true
    }
  }

  // EnforceCancellingToCancelledTransition
  if (from === "CANCELLING" && to !== "CANCELLED") {
    return keep("Cannot transition flows that are cancelling to a state other than Cancelled.")
  }

  // BypassCancellingFlowRunsWithNoInfra
  if (initial !== undefined && (from === "SCHEDULED" || from === "PAUSED") && to === "CANCELLING") {
    if ((from === "SCHEDULED" && !run.infrastructurePid) || initial.name === "Resuming") {
      return finish({
        state: State.Cancelled({ timestamp: now }),
        reason: "Scheduled flow run has no infrastructure to terminate."
      })
    }
    if (from === "PAUSED" && initial.stateDetails.pauseReschedule) {
      return finish({
        state: State.Cancelled({ timestamp: now }),
        reason: "Suspended flow run has no infrastructure to terminate."
      })
    }
  }

  // PreventPendingTransitions
  if (
    initial !== undefined && to === "PENDING" &&
    (from === "PENDING" || from === "RUNNING" || from === "CANCELLING" || from === "CANCELLED")
  ) {
    if (from === "PENDING" && initial.name !== proposed.name && proposed.name !== "Pending") {
      state = withDetails(state, {
        scheduledTime: initial.stateDetails.scheduledTime,
        deploymentConcurrencyLeaseId: initial.stateDetails.deploymentConcurrencyLeaseId
      })
    } else {
      return abort(`This run is in a ${from} state and cannot transition to a PENDING state.`)
    }
  }

  const deployment = context.deployment
  // ValidateDeploymentConcurrencyAtRunning
  if (initial !== undefined && from === "PENDING" && to === "RUNNING") {
    const lease = initial.stateDetails.deploymentConcurrencyLeaseId
    state = withDetails(state, { deploymentConcurrencyLeaseId: lease })
    if (
      lease !== null && run.deploymentId !== null && deployment !== undefined && deployment !== "missing" &&
      deployment.concurrencyLimit !== null && deployment.leaseRenewable === false
    ) {
      if (deployment.slotAvailable) {
        state = withDetails(state, { deploymentConcurrencyLeaseId: deployment.leaseId ?? lease })
      } else {
        return finish({
          state: State.Cancelled({
            timestamp: now,
            message: "Deployment concurrency slot lost during provisioning - no slots available to continue execution"
          }),
          reason: "Deployment concurrency limit reached after lease expiry."
        })
      }
    }
  }

  // SecureFlowConcurrencySlots
  if (
    to === "PENDING" && from !== "PENDING" && from !== "RUNNING" && from !== "CANCELLING" && run.deploymentId !== null
  ) {
    if (deployment === "missing") return abort("Deployment not found.")
    if (deployment !== undefined && deployment.concurrencyLimit !== null) {
      if (deployment.concurrencyLimit === 0) {
        return abort("The deployment concurrency limit is 0. The flow will deadlock if submitted again.")
      }
      if (deployment.slotAvailable) {
        if (deployment.leaseId !== undefined) {
          state = withDetails(state, { deploymentConcurrencyLeaseId: deployment.leaseId })
        }
      } else if ((deployment.collisionStrategy ?? "ENQUEUE") === "ENQUEUE") {
        return finish({
          state: State.AwaitingConcurrencySlot({
            timestamp: now,
            scheduledTime: utc(ms(now) + (context.concurrencySlotWaitSeconds ?? 30) * 1000)
          }),
          reason: "Deployment concurrency limit reached."
        })
      } else {
        return finish({
          state: State.Cancelled({ timestamp: now, message: "Deployment concurrency limit reached." }),
          reason: "Deployment concurrency limit reached."
        })
      }
    }
  }

  // EnsureOnlyScheduledFlowsMarkedLate
  if (initial !== undefined && to === "SCHEDULED" && proposed.name === "Late") {
    if (from !== "SCHEDULED") return keep("Only scheduled flows can be marked late.")
    if (initial.name === "Late") return keep("This flow run is already marked late.")
  }

  // HandlePausingFlows
  let pauseKey: string | undefined
  if (to === "PAUSED") {
    const verb = proposed.name === "Suspended" ? "suspend" : "pause"
    if (initial === undefined) return abort(`Cannot ${verb} flows with no state.`)
    if (from !== "RUNNING") return keep(`Cannot ${verb} flows that are not currently running.`)
    pauseKey = proposed.stateDetails.pauseKey ?? context.newPauseKey?.() ?? undefined
    if (pauseKey !== undefined && run.pauseKeys.includes(pauseKey)) return keep(`This ${verb} has already fired.`)
    if (proposed.stateDetails.pauseReschedule) {
      if (run.parentTaskRunId !== null) return abort(`Cannot ${verb} subflows.`)
      if (run.deploymentId === null) return abort(`Cannot ${verb} flows without a deployment.`)
    }
  }

  // HandleResumingPausedFlows
  let resumed = false
  if (initial !== undefined && from === "PAUSED") {
    if (!(to === "RUNNING" || to === "SCHEDULED" || StateType.isTerminal(to))) {
      return keep(`This run cannot transition to the ${enumText(to)} state from the ${enumText(from)} state.`)
    }
    const verb = proposed.name === "Suspended" ? "suspend" : "pause"
    const display = (proposed.name || proposed.type).toLowerCase()
    if (initial.stateDetails.pauseReschedule && run.deploymentId === null) {
      return keep(`Cannot reschedule a ${display} flow run without a deployment.`)
    }
    const timeout = initial.stateDetails.pauseTimeout
    if (timeout !== null && ms(timeout) < ms(now)) {
      return finish({
        state: State.Failed({ timestamp: now, message: `The flow was ${display} and never resumed.` }),
        reason: `The flow run ${verb} has timed out and can no longer resume.`
      })
    }
    resumed = true
  }

  // CopyScheduledTime
  if (initial !== undefined && from === "SCHEDULED" && to === "PENDING" && state.stateDetails.scheduledTime === null) {
    state = withDetails(state, { scheduledTime: initial.stateDetails.scheduledTime })
  }

  // WaitForScheduledTime
  const wait = scheduledWait(initial, from, to, now)
  if (wait > 0) return { status: "WAIT", delaySeconds: wait, reason: "Scheduled time is in the future", run: original }

  // RetryFailedFlows
  if (initial !== undefined && from === "RUNNING" && to === "FAILED") {
    if (run.retries === null || run.runCount > run.retries) {
      run = { ...run, retryType: null }
    } else {
      run = { ...run, resuming: false, pauseKeys: [], retryType: "in_process" }
      return finish({
        state: State.AwaitingRetry({
          timestamp: now,
          scheduledTime: utc(
            ms(now) + (Number.isFinite(run.retryDelay) && run.retryDelay! > 0 ? run.retryDelay! : 0) * 1000
          ),
          message: proposed.message,
          data: proposed.data
        }),
        reason: "Retrying"
      })
    }
  }

  // After-transition effects of the rules that let the proposal through.
  if (pauseKey !== undefined) run = { ...run, pauseKeys: [...run.pauseKeys, pauseKey] }
  if (resumed) run = { ...run, resuming: true }
  return finish()
}

/**
 * Prefect's `MinimalFlowPolicy`, used for `force=true` proposals: only a
 * COMPLETED run with a persisted result is protected from a COMPLETED
 * proposal without one, and a scheduled run without infrastructure (or a
 * suspended one) is cancelled directly; everything else is accepted.
 *
 * @category policies
 * @since 0.2.0
 */
export const minimalFlowPolicy = (
  initial: State.State<unknown> | undefined,
  proposed: State.State<unknown>,
  context: FlowContext
): Outcome<FlowRun> => {
  const from = initial?.type
  if (
    initial !== undefined && from === "COMPLETED" && proposed.type === "COMPLETED" &&
    isPersisted(initial.data) && !isPersisted(proposed.data)
  ) {
    return {
      status: "REJECT",
      state: undefined,
      reason: "Cannot overwrite a COMPLETED state that carries persisted result data with one that does not.",
      run: context.run
    }
  }
  if (initial !== undefined && (from === "SCHEDULED" || from === "PAUSED") && proposed.type === "CANCELLING") {
    const bypass = (from === "SCHEDULED" && !context.run.infrastructurePid) || initial.name === "Resuming"
      ? "Scheduled flow run has no infrastructure to terminate."
      : from === "PAUSED" && initial.stateDetails.pauseReschedule
      ? "Suspended flow run has no infrastructure to terminate."
      : undefined
    if (bypass !== undefined) return rejectWith(State.Cancelled({ timestamp: context.now }), bypass, context, initial)
  }
  return acceptForced(initial, proposed, context)
}

/**
 * Prefect's `MarkLateRunsPolicy`, the policy of the service that marks
 * overdue scheduled runs `Late`: only SCHEDULED runs can be marked late, and
 * a run whose deployment has a full concurrency limit with the `CANCEL_NEW`
 * strategy is cancelled instead (`Deployment concurrency limit is full and
 * uses the CANCEL_NEW strategy.`).
 *
 * @category policies
 * @since 0.2.0
 */
export const markLateRunsPolicy = (
  initial: State.State<unknown> | undefined,
  proposed: State.State<unknown>,
  context: FlowContext
): Outcome<FlowRun> => {
  const late = proposed.type === "SCHEDULED" && proposed.name === "Late"
  if (initial !== undefined && late && initial.type !== "SCHEDULED") {
    return { status: "REJECT", state: undefined, reason: "Only scheduled flows can be marked late.", run: context.run }
  }
  const deployment = context.deployment
  if (
    initial?.type === "SCHEDULED" && late && context.run.deploymentId !== null && deployment !== undefined &&
    deployment !== "missing" && deployment.concurrencyLimit !== null && !deployment.slotAvailable &&
    deployment.collisionStrategy === "CANCEL_NEW"
  ) {
    return rejectWith(
      State.Cancelled({ timestamp: context.now, message: "Deployment concurrency limit reached." }),
      "Deployment concurrency limit is full and uses the CANCEL_NEW strategy.",
      context,
      initial
    )
  }
  return acceptForced(initial, proposed, context)
}

/**
 * Which flow policy Prefect's API applies to a proposal: the minimal one when
 * forced, the core one otherwise.
 *
 * @category policies
 * @since 0.2.0
 */
export const flowPolicyFor = (options?: { readonly force?: boolean | undefined }): typeof flowPolicy =>
  options?.force === true ? minimalFlowPolicy : flowPolicy

const rejectWith = (
  state: State.State<unknown>,
  reason: string,
  context: FlowContext,
  initial: State.State<unknown> | undefined
): Outcome<FlowRun> => {
  const accepted = acceptForced(initial, state, context) as Accept<FlowRun>
  return { status: "REJECT", state: accepted.state, reason, run: accepted.run }
}

const acceptForced = (
  initial: State.State<unknown> | undefined,
  proposed: State.State<unknown>,
  context: FlowContext
): Outcome<FlowRun> => {
  let run = context.run
  const validated = run.id !== null ? withDetails(proposed, { flowRunId: run.id }) : proposed
  if (validated.type === "RUNNING") {
    run = { ...run, runCount: run.resuming ? run.runCount : run.runCount + 1, resuming: false }
  } else if (StateType.isTerminal(validated.type)) {
    run = { ...run, resuming: false }
  }
  return { status: "ACCEPT", state: validated, run: bookkeeping(run, initial, validated) }
}

/**
 * Prefect's `MinimalTaskPolicy`, used for `force=true` task proposals (the
 * client engine forces its retry states): everything is accepted and only the
 * bookkeeping runs.
 *
 * @category policies
 * @since 0.2.0
 */
export const minimalTaskPolicy = (
  initial: State.State<unknown> | undefined,
  proposed: State.State<unknown>,
  context: TaskContext
): Outcome<TaskRun> => {
  let run = context.run
  const ids: StateDetails.Input = {
    ...(run.flowRunId !== null ? { flowRunId: run.flowRunId } : {}),
    ...(run.id !== null ? { taskRunId: run.id } : {})
  }
  const validated = Object.keys(ids).length > 0 ? withDetails(proposed, ids) : proposed
  if (validated.type === "RUNNING") run = { ...run, runCount: run.runCount + 1 }
  return { status: "ACCEPT", state: validated, run: bookkeeping(run, initial, validated) }
}

// -----------------------------------------------------------------------------
// guards
// -----------------------------------------------------------------------------

/**
 * Whether the outcome writes a state (ACCEPT, or REJECT with a state).
 *
 * @category guards
 * @since 0.2.0
 */
export const isWritten = <R>(self: Outcome<R>): self is Accept<R> | (Reject<R> & { state: State.State<unknown> }) =>
  self.status === "ACCEPT" || (self.status === "REJECT" && self.state !== undefined)
