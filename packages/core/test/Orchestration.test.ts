/**
 * Prefect's CoreTaskPolicy and CoreFlowPolicy, row by row of their transition
 * tables (outcome and reason text, character for character), their global
 * bookkeeping (run_count, start/end/run time), and two laws: no sequence the
 * real `Task` combinator records is ever rejected by the task policy, and none
 * `Flow.run` records by the flow policy. Replay a
 * failure with `FC_SEED=<printed seed> pnpm exec vitest run packages/core/test/Orchestration.test.ts`.
 */
import { assert, beforeAll, describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Fiber, Layer, Logger } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import {
  Flow,
  Orchestration,
  ResultRecord,
  ResultStore,
  RunLog,
  Serializer,
  State,
  StateType,
  Task
} from "@runstate/core"
import * as Arb from "./arbitraries.ts"

beforeAll(() => {
  console.log(`Orchestration.test.ts fast-check seed: ${Arb.seed} (replay with FC_SEED=${Arb.seed})`)
})

const base = Date.UTC(2026, 0, 1, 12)
const at = (offsetMs: number) => DateTime.makeUnsafe(base + offsetMs) as DateTime.Utc
const now = at(0)
const earlier = at(-60_000)

const persisted = ResultRecord.makeMetadata({ storageKey: "/tmp/key", serializer: Serializer.json })

const task = (
  initial: State.State<unknown> | undefined,
  proposed: State.State<unknown>,
  context: Partial<Omit<Orchestration.TaskContext, "run">> & { readonly run?: Partial<Orchestration.TaskRun> } = {}
) => Orchestration.taskPolicy(initial, proposed, { now, ...context, run: Orchestration.makeTaskRun(context.run) })

const flow = (
  initial: State.State<unknown> | undefined,
  proposed: State.State<unknown>,
  context: Partial<Omit<Orchestration.FlowContext, "run">> & { readonly run?: Partial<Orchestration.FlowRun> } = {}
) => Orchestration.flowPolicy(initial, proposed, { now, ...context, run: Orchestration.makeFlowRun(context.run) })

const reasonOf = (o: Orchestration.Outcome<unknown>) => o.status === "ACCEPT" ? undefined : o.reason

const running = (o?: State.Options<null>) => State.Running({ timestamp: earlier, ...o })
const terminalCtors = {
  COMPLETED: State.Completed,
  FAILED: State.Failed,
  CANCELLED: State.Cancelled,
  CRASHED: State.Crashed
} as const

describe("Orchestration.taskPolicy (CoreTaskPolicy)", () => {
  describe("CacheRetrieval", () => {
    const cached = State.Completed({ data: persisted, timestamp: at(-3_600_000), message: "done" })
    const proposal = State.Running({ timestamp: now, stateDetails: { cacheKey: "k" } })

    it("any → RUNNING with an unexpired cache entry: REJECT → a fresh copy named Cached", () => {
      const o = task(State.Pending({ timestamp: earlier }), proposal, {
        cache: [{ cacheKey: "k", expiration: at(1000), state: cached }]
      })
      assert.strictEqual(o.status, "REJECT")
      assert.strictEqual(reasonOf(o), "Retrieved state from cache")
      const s = (o as Orchestration.Reject<unknown>).state!
      assert.strictEqual(s.type, "COMPLETED")
      assert.strictEqual(s.name, "Cached")
      assert.strictEqual(s.message, "done")
      assert.strictEqual(s.data, persisted)
      assert.notStrictEqual(s.id, cached.id)
      assert.strictEqual(s.timestamp.epochMilliseconds, now.epochMilliseconds)
    })

    it("an entry without expiration matches; the newest unexpired entry wins", () => {
      const older = State.Completed({ message: "older", timestamp: earlier })
      const newer = State.Completed({ message: "newer", timestamp: earlier })
      const o = task(undefined, proposal, {
        cache: [
          { cacheKey: "k", expiration: null, state: older },
          { cacheKey: "k", expiration: null, state: newer },
          { cacheKey: "k", expiration: at(-1), state: State.Completed({ message: "expired" }) }
        ]
      })
      assert.strictEqual((o as Orchestration.Reject<unknown>).state?.message, "newer")
    })

    it("expired entries, other keys and refreshCache let the proposal through", () => {
      const entries = [
        { cacheKey: "k", expiration: at(0), state: cached },
        { cacheKey: "other", expiration: null, state: cached }
      ]
      assert.strictEqual(task(undefined, proposal, { cache: entries }).status, "ACCEPT")
      const refresh = State.Running({ stateDetails: { cacheKey: "k", refreshCache: true } })
      assert.strictEqual(
        task(undefined, refresh, { cache: [{ cacheKey: "k", expiration: null, state: cached }] }).status,
        "ACCEPT"
      )
    })
  })

  describe("HandleTaskTerminalStateTransitions", () => {
    for (const from of ["COMPLETED", "FAILED", "CANCELLED", "CRASHED"] as const) {
      for (const to of ["CANCELLING", "PAUSED", "CRASHED"] as const) {
        it(`${from} → ${to}: ABORT "Run is already ${from}."`, () => {
          const o = task(terminalCtors[from](), State.make({ type: to }))
          assert.strictEqual(o.status, "ABORT")
          assert.strictEqual(reasonOf(o), `Run is already ${from}.`)
        })
      }
    }

    it("COMPLETED with persisted data → any type, final or not: REJECT current", () => {
      for (const to of StateType.all.filter((t) => !["CANCELLING", "PAUSED", "CRASHED"].includes(t))) {
        const o = task(State.Completed({ data: persisted }), State.make({ type: to }))
        assert.deepStrictEqual([to, o.status, reasonOf(o)], [to, "REJECT", "This run is already completed."])
        assert.isUndefined((o as Orchestration.Reject<unknown>).state)
        assert.isFalse(Orchestration.isWritten(o))
      }
      const dict = task(State.Completed({ data: { storage_key: "k" } }), State.Failed())
      assert.strictEqual(reasonOf(dict), "This run is already completed.")
    })

    it("COMPLETED without data, with unpersisted or empty data: not blocked", () => {
      for (const data of [null, { type: "unpersisted" }, {}, "", 0]) {
        const o = task(State.Completed({ data }), State.Running({ timestamp: now }))
        assert.strictEqual(o.status, "ACCEPT", JSON.stringify(data))
      }
    })

    it("COMPLETED with non-dict data: the rule's error aborts the transition", () => {
      const o = task(State.Completed({ data: "x" }), State.Running())
      assert.strictEqual(o.status, "ABORT")
      assert.strictEqual(
        reasonOf(o),
        "Aborting orchestration due to error in <class 'prefect.server.orchestration.core_policy.HandleTaskTerminalStateTransitions'>: !AttributeError(\"'str' object has no attribute 'get'\")"
      )
      assert.include(reasonOf(task(State.Completed({ data: [1] }), State.Running()))!, "'list' object")
      assert.include(reasonOf(task(State.Completed({ data: 3 }), State.Running()))!, "'int' object")
    })

    it("terminal → non-final resets run_count (then RUNNING counts 1)", () => {
      const o = task(State.Failed({ timestamp: earlier }), State.Running({ timestamp: now }), { run: { runCount: 3 } })
      assert.strictEqual(o.status, "ACCEPT")
      assert.strictEqual(o.run.runCount, 1)
      assert.strictEqual((o as Orchestration.Accept<unknown>).state.name, "Running")
      const scheduled = task(State.Failed(), State.Scheduled({ timestamp: now }), { run: { runCount: 3 } })
      assert.strictEqual(scheduled.run.runCount, 0)
      const final = task(State.Failed(), State.Completed({ timestamp: now }), { run: { runCount: 3 } })
      assert.strictEqual(final.run.runCount, 3)
    })

    it("terminal → RUNNING inside a retried flow run is named Retrying", () => {
      const o = task(State.Failed(), State.Running({ timestamp: now }), {
        run: { runCount: 2, flowRunRunCount: 1 },
        flowRun: { id: "f", state: State.Running(), runCount: 2 }
      })
      assert.strictEqual((o as Orchestration.Accept<unknown>).state.name, "Retrying")
      assert.strictEqual(o.run.flowRunRunCount, 2)
      const same = task(State.Failed(), State.Running({ timestamp: now }), {
        run: { runCount: 2, flowRunRunCount: 2 },
        flowRun: { id: "f", state: State.Running(), runCount: 2 }
      })
      assert.strictEqual((same as Orchestration.Accept<unknown>).state.name, "Running")
    })

    it("the run_count reset is undone when a later rule rejects with another type", () => {
      const o = task(State.Failed(), State.Running({ timestamp: now }), {
        run: { runCount: 3 },
        flowRun: { id: "f", state: State.Paused(), runCount: 1 }
      })
      assert.strictEqual(o.status, "REJECT")
      assert.strictEqual(o.run.runCount, 3)
    })
  })

  describe("PreventRunningTasksFromStoppedFlows", () => {
    it("flow run without a state, or neither RUNNING nor PAUSED: ABORT", () => {
      for (const state of [undefined, State.Scheduled(), State.Completed(), State.Cancelling()]) {
        const o = task(State.Pending(), State.Running(), { flowRun: { id: "f", state, runCount: 1 } })
        assert.strictEqual(o.status, "ABORT")
        assert.strictEqual(reasonOf(o), "The enclosing flow must be running to begin task execution.")
      }
    })

    it("flow run PAUSED: REJECT → Paused named NotReady with the flow's pause timeout and reschedule", () => {
      const flowState = State.Paused({ pauseExpirationTime: at(5000), reschedule: true })
      const o = task(State.Pending(), State.Running(), {
        flowRun: { id: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70", state: flowState, runCount: 1 }
      })
      assert.strictEqual(o.status, "REJECT")
      assert.strictEqual(
        reasonOf(o),
        "The flow is paused, new tasks can execute after resuming flow run: 0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70."
      )
      const s = (o as Orchestration.Reject<unknown>).state!
      assert.deepStrictEqual([s.type, s.name], ["PAUSED", "NotReady"])
      assert.strictEqual(s.stateDetails.pauseTimeout?.epochMilliseconds, at(5000).epochMilliseconds)
      assert.isTrue(s.stateDetails.pauseReschedule)
    })

    it("a RUNNING flow run, or none at all: allowed", () => {
      assert.strictEqual(
        task(State.Pending(), State.Running(), { flowRun: { id: "f", state: State.Running(), runCount: 1 } }).status,
        "ACCEPT"
      )
      assert.strictEqual(task(State.Pending(), State.Running()).status, "ACCEPT")
    })
  })

  describe("SecureTaskConcurrencySlots", () => {
    it("a tag limit of 0 (either version): ABORT", () => {
      for (const version of [1, 2] as const) {
        const o = task(State.Pending(), State.Running(), {
          tagLimits: [{ tag: "db", limit: 0, activeSlots: 0, version }]
        })
        assert.strictEqual(o.status, "ABORT")
        assert.strictEqual(
          reasonOf(o),
          "The concurrency limit on tag \"db\" is 0 and will deadlock if the task tries to run again."
        )
      }
    })

    it("full v2 limits: WAIT, naming the tags, at most the slot wait", () => {
      const o = task(State.Pending(), State.Running(), {
        tagLimits: [
          { tag: "a", limit: 1, activeSlots: 1, version: 2 },
          { tag: "b", limit: 5, activeSlots: 0, version: 2 }
        ],
        random: () => 0.99
      })
      assert.strictEqual(o.status, "WAIT")
      assert.strictEqual(reasonOf(o), "Concurrency limit reached for tags: a, b")
      const delay = (o as Orchestration.Wait<unknown>).delaySeconds
      assert.isTrue(Number.isInteger(delay) && delay >= 1 && delay <= 10, String(delay))
      const quick = task(State.Pending(), State.Running(), {
        tagLimits: [
          { tag: "a", limit: 1, activeSlots: 1, version: 2, averageSlotOccupancySeconds: 2 },
          { tag: "b", limit: 1, activeSlots: 0, version: 2, averageSlotOccupancySeconds: 1 }
        ],
        random: () => 0
      })
      // The draw around the busiest limit's 2 s: its lower clamp, 2 × log2(2^1.3 / (2^1.3 − 1)) ≈ 1.5, rounds to 2.
      assert.strictEqual((quick as Orchestration.Wait<unknown>).delaySeconds, 2)
    })

    it("a full v1 limit: WAIT tag_concurrency_slot_wait_seconds", () => {
      const o = task(State.Pending(), State.Running(), {
        tagLimits: [{ tag: "db", limit: 2, activeSlots: 2, version: 1 }],
        tagConcurrencySlotWaitSeconds: 7
      })
      assert.deepStrictEqual(
        [o.status, (o as Orchestration.Wait<unknown>).delaySeconds, reasonOf(o)],
        ["WAIT", 7, "Concurrency limit for the db tag has been reached"]
      )
    })

    it("a v1 limit is ignored for a tag with an active v2 limit; free slots let it through", () => {
      const o = task(State.Pending(), State.Running(), {
        tagLimits: [
          { tag: "db", limit: 1, activeSlots: 1, version: 1 },
          { tag: "db", limit: 3, activeSlots: 1, version: 2 }
        ]
      })
      assert.strictEqual(o.status, "ACCEPT")
    })
  })

  it("CopyScheduledTime: SCHEDULED → PENDING without a scheduled time copies it", () => {
    const o = task(State.Scheduled({ scheduledTime: at(-5) }), State.Pending())
    assert.strictEqual(
      (o as Orchestration.Accept<unknown>).state.stateDetails.scheduledTime?.epochMilliseconds,
      at(-5).epochMilliseconds
    )
    const own = task(
      State.Scheduled({ scheduledTime: at(-5) }),
      State.Pending({ stateDetails: { scheduledTime: at(-9) } })
    )
    assert.strictEqual(
      (own as Orchestration.Accept<unknown>).state.stateDetails.scheduledTime?.epochMilliseconds,
      at(-9).epochMilliseconds
    )
  })

  describe("WaitForScheduledTime", () => {
    const cases: ReadonlyArray<readonly [number, number]> = [
      [400, 0],
      [500, 0],
      [600, 1],
      [1000, 1],
      [1500, 1],
      [1501, 2],
      [90_000, 90],
      [-3000, 0]
    ]
    for (const [ahead, seconds] of cases) {
      it(`scheduled ${ahead} ms ahead: ${seconds === 0 ? "ACCEPT" : `WAIT ${seconds}`}`, () => {
        for (
          const initial of [
            State.Scheduled({ scheduledTime: at(ahead) }),
            State.Pending({ stateDetails: { scheduledTime: at(ahead) } })
          ]
        ) {
          const o = task(initial, State.Running())
          if (seconds === 0) assert.strictEqual(o.status, "ACCEPT")
          else {
            assert.deepStrictEqual(
              [o.status, (o as Orchestration.Wait<unknown>).delaySeconds, reasonOf(o)],
              ["WAIT", seconds, "Scheduled time is in the future"]
            )
          }
        }
      })
    }
  })

  describe("RetryFailedTasks", () => {
    it("RUNNING → FAILED with retries left: REJECT → AwaitingRetry carrying the message and data", () => {
      const o = task(running(), State.Failed({ message: "boom", data: 42, timestamp: now }), {
        run: { runCount: 1, retries: 2, retryDelay: 10 }
      })
      assert.strictEqual(o.status, "REJECT")
      assert.strictEqual(reasonOf(o), "Retrying")
      const s = (o as Orchestration.Reject<unknown>).state!
      assert.deepStrictEqual([s.type, s.name, s.message, s.data], ["SCHEDULED", "AwaitingRetry", "boom", 42])
      assert.strictEqual(s.stateDetails.scheduledTime?.epochMilliseconds, at(10_000).epochMilliseconds)
      assert.strictEqual(o.run.runCount, 1)
    })

    it("the last retry (run_count = retries) still retries; one more does not", () => {
      assert.strictEqual(task(running(), State.Failed(), { run: { runCount: 2, retries: 2 } }).status, "REJECT")
      assert.strictEqual(task(running(), State.Failed(), { run: { runCount: 3, retries: 2 } }).status, "ACCEPT")
      assert.strictEqual(task(running(), State.Failed(), { run: { runCount: 1, retries: null } }).status, "ACCEPT")
    })

    it("retriable: false (client-built failures) is never retried", () => {
      const o = task(running(), State.Failed({ stateDetails: { retriable: false } }), {
        run: { runCount: 1, retries: 5 }
      })
      assert.strictEqual(o.status, "ACCEPT")
    })

    it("a list of delays: index min(run_count − 1, len − 1); null: 0", () => {
      const delayOf = (runCount: number, retryDelay: Orchestration.TaskRun["retryDelay"]) => {
        const o = task(running(), State.Failed(), { run: { runCount, retries: 9, retryDelay } })
        return ((o as Orchestration.Reject<unknown>).state!.stateDetails.scheduledTime!.epochMilliseconds - base) / 1000
      }
      assert.deepStrictEqual([1, 2, 3, 4].map((n) => delayOf(n, [1, 2, 5])), [1, 2, 5, 5])
      assert.strictEqual(delayOf(1, null), 0)
      assert.strictEqual(delayOf(1, 0.2), 0.2)
    })

    it("jitter: a clamped exponential draw within [c × base, base × (1 + factor)]; none for a 0 base", () => {
      fc.assert(
        fc.property(
          fc.double({ min: 0, max: 0.999999, noNaN: true }),
          fc.double({ min: 0.01, max: 3, noNaN: true }),
          (u, factor) => {
            const d = Orchestration.retryDelaySeconds({ runCount: 1, retryDelay: 10, retryJitterFactor: factor }, u)
            return d <= 10 * (1 + factor) + 1e-9 && d >= 0
          }
        ),
        { seed: Arb.seed }
      )
      assert.strictEqual(
        Orchestration.retryDelaySeconds({ runCount: 1, retryDelay: 0, retryJitterFactor: 0.5 }, 0.3),
        0
      )
      // The extremes of the draw are Prefect's clamps: c × base (c = log2(2^k / (2^k − 1)), k = 1 + factor) and k × base.
      assert.closeTo(Orchestration.clampedPoissonInterval(10, 0.3, 0), 10 * Math.log2(2 ** 1.3 / (2 ** 1.3 - 1)), 1e-9)
      assert.closeTo(Orchestration.clampedPoissonInterval(10, 0.3, 1 - 1e-12), 13, 1e-6)
    })
  })

  describe("RenameReruns", () => {
    it("RUNNING after AwaitingRetry with run_count > 0 is named Retrying, after anything else Rerunning", () => {
      const afterRetry = task(State.AwaitingRetry({ scheduledTime: at(-1) }), State.Running(), { run: { runCount: 1 } })
      assert.strictEqual((afterRetry as Orchestration.Accept<unknown>).state.name, "Retrying")
      const rerun = task(State.Running(), State.Running(), { run: { runCount: 1 } })
      assert.strictEqual((rerun as Orchestration.Accept<unknown>).state.name, "Rerunning")
      const first = task(State.Pending(), State.Running(), { run: { runCount: 0 } })
      assert.strictEqual((first as Orchestration.Accept<unknown>).state.name, "Running")
    })
  })

  describe("CacheInsertion", () => {
    it("a cache key longer than the limit: REJECT with the same state, still written", () => {
      const proposed = State.Completed({ stateDetails: { cacheKey: "x".repeat(2001) } })
      const o = task(running(), proposed)
      assert.strictEqual(o.status, "REJECT")
      assert.strictEqual(reasonOf(o), "Cache key exceeded maximum allowed length of 2000 characters.")
      assert.isTrue(Orchestration.isWritten(o))
      assert.strictEqual((o as Orchestration.Reject<unknown>).state?.type, "COMPLETED")
      const custom = task(running(), State.Completed({ stateDetails: { cacheKey: "abcd" } }), { maxCacheKeyLength: 3 })
      assert.strictEqual(reasonOf(custom), "Cache key exceeded maximum allowed length of 3 characters.")
    })

    it("a cache key within the limit: ACCEPT", () => {
      const o = task(running(), State.Completed({ stateDetails: { cacheKey: "x".repeat(2000) } }))
      assert.strictEqual(o.status, "ACCEPT")
    })
  })

  describe("global transforms", () => {
    it("stamp the run ids, count RUNNING entries, keep start, end and run time", () => {
      const run = Orchestration.makeTaskRun({ id: "t-1", flowRunId: "f-1" })
      const p = Orchestration.taskPolicy(undefined, State.Pending({ timestamp: at(0) }), { now: at(0), run })
      const r = Orchestration.taskPolicy(
        p.status === "ACCEPT" ? p.state : undefined,
        State.Running({ timestamp: at(10) }),
        {
          now: at(10),
          run: p.run
        }
      )
      const c = Orchestration.taskPolicy(
        r.status === "ACCEPT" ? r.state : undefined,
        State.Completed({ timestamp: at(250) }),
        {
          now: at(250),
          run: r.run
        }
      )
      assert.strictEqual(c.status, "ACCEPT")
      const s = (c as Orchestration.Accept<Orchestration.TaskRun>).state
      assert.deepStrictEqual([s.stateDetails.taskRunId, s.stateDetails.flowRunId], ["t-1", "f-1"])
      assert.strictEqual(c.run.runCount, 1)
      assert.strictEqual(c.run.startTime?.epochMilliseconds, at(10).epochMilliseconds)
      assert.strictEqual(c.run.endTime?.epochMilliseconds, at(250).epochMilliseconds)
      assert.strictEqual(c.run.totalRunTimeMillis, 240)
      assert.strictEqual(c.run.expectedStartTime?.epochMilliseconds, at(0).epochMilliseconds)
    })

    it("leave the counters alone on REJECT without a state, WAIT and ABORT", () => {
      const run = { runCount: 4 }
      for (
        const o of [
          task(State.Completed({ data: persisted }), State.Running(), { run }),
          task(State.Completed(), State.Crashed(), { run }),
          task(State.Scheduled({ scheduledTime: at(5000) }), State.Running(), { run })
        ]
      ) {
        assert.strictEqual(o.run.runCount, 4)
        assert.isNull(o.run.startTime)
      }
    })

    it("a final state entered without RUNNING sets both start and end time", () => {
      const o = task(State.Pending({ timestamp: earlier }), State.Cancelled({ timestamp: now }))
      assert.strictEqual(o.run.startTime?.epochMilliseconds, now.epochMilliseconds)
      assert.strictEqual(o.run.endTime?.epochMilliseconds, now.epochMilliseconds)
    })
  })

  it("minimalTaskPolicy (force) accepts anything and counts RUNNING", () => {
    const o = Orchestration.minimalTaskPolicy(State.Completed({ data: persisted }), State.Running(), {
      now,
      run: Orchestration.makeTaskRun({ runCount: 2 })
    })
    assert.deepStrictEqual([o.status, o.run.runCount], ["ACCEPT", 3])
  })
})

describe("Orchestration.backgroundTaskPolicy (BackgroundTaskPolicy)", () => {
  const background = (
    initial: State.State<unknown> | undefined,
    proposed: State.State<unknown>,
    context: Partial<Omit<Orchestration.TaskContext, "run">> & { readonly run?: Partial<Orchestration.TaskRun> } = {}
  ) =>
    Orchestration.backgroundTaskPolicy(initial, proposed, {
      now,
      ...context,
      run: Orchestration.makeTaskRun(context.run)
    })

  it("PENDING after PENDING, RUNNING, CANCELLING or CANCELLED: ABORT (a sub-state rename excepted)", () => {
    for (const from of ["PENDING", "RUNNING", "CANCELLING", "CANCELLED"] as const) {
      const o = background(State.make({ type: from }), State.Pending())
      assert.deepStrictEqual([o.status, reasonOf(o)], [
        "ABORT",
        `This run is in a ${from} state and cannot transition to a PENDING state.`
      ])
    }
    assert.strictEqual(background(State.Pending(), State.Submitting()).status, "ACCEPT")
    // The core task policy lets PENDING → PENDING through.
    assert.strictEqual(task(State.Pending(), State.Pending()).status, "ACCEPT")
  })

  it("copies the parameters id from SCHEDULED or PENDING to PENDING or RUNNING", () => {
    const id = "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f72"
    const o = background(
      State.Scheduled({ scheduledTime: at(-1), stateDetails: { taskParametersId: id } }),
      State.Pending()
    )
    assert.strictEqual((o as Orchestration.Accept<unknown>).state.stateDetails.taskParametersId, id)
    const r = background(State.Pending({ stateDetails: { taskParametersId: id } }), State.Running())
    assert.strictEqual((r as Orchestration.Accept<unknown>).state.stateDetails.taskParametersId, id)
    const core = task(State.Pending({ stateDetails: { taskParametersId: id } }), State.Running())
    assert.isNull((core as Orchestration.Accept<unknown>).state.stateDetails.taskParametersId)
  })

  it("ignores the enclosing flow run and tag limits, keeps the other task rules", () => {
    const o = background(State.Pending(), State.Running(), {
      flowRun: { id: "f", state: undefined, runCount: 1 },
      tagLimits: [{ tag: "db", limit: 0, activeSlots: 0, version: 1 }]
    })
    assert.strictEqual(o.status, "ACCEPT")
    const retry = background(running(), State.Failed(), { run: { runCount: 1, retries: 1 } })
    assert.deepStrictEqual([retry.status, reasonOf(retry)], ["REJECT", "Retrying"])
  })

  it("taskPolicyFor: deferred proposals get the background policy even when forced", () => {
    const deferred = State.Pending({ stateDetails: { deferred: true } })
    assert.strictEqual(Orchestration.taskPolicyFor(deferred, { force: true }), Orchestration.backgroundTaskPolicy)
    assert.strictEqual(Orchestration.taskPolicyFor(State.Pending(), { force: true }), Orchestration.minimalTaskPolicy)
    assert.strictEqual(Orchestration.taskPolicyFor(State.Pending()), Orchestration.taskPolicy)
  })
})

describe("Orchestration.flowPolicy (CoreFlowPolicy)", () => {
  it("a repeated transition id: REJECT current", () => {
    const id = "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"
    const o = flow(
      State.Running({ stateDetails: { transitionId: id } }),
      State.Completed({ stateDetails: { transitionId: id } })
    )
    assert.deepStrictEqual([o.status, reasonOf(o)], ["REJECT", "This run has already made this state transition."])
    assert.strictEqual(
      flow(
        State.Running({ stateDetails: { transitionId: id } }),
        State.Completed({ stateDetails: { transitionId: null } })
      )
        .status,
      "ACCEPT"
    )
  })

  describe("HandleFlowTerminalStateTransitions", () => {
    for (const from of ["COMPLETED", "FAILED", "CANCELLED", "CRASHED"] as const) {
      for (const to of ["CANCELLING", "PAUSED", "CRASHED"] as const) {
        it(`${from} → ${to}: ABORT "Run is already in terminal state ${from}."`, () => {
          const o = flow(terminalCtors[from](), State.make({ type: to }))
          assert.deepStrictEqual([o.status, reasonOf(o)], ["ABORT", `Run is already in terminal state ${from}.`])
        })
      }
    }

    it("COMPLETED with persisted data → non-final: REJECT current; → another final type: allowed", () => {
      for (const to of ["SCHEDULED", "PENDING", "RUNNING"] as const) {
        const o = flow(State.Completed({ data: persisted }), State.make({ type: to }), { run: { deploymentId: "d" } })
        assert.deepStrictEqual([o.status, reasonOf(o)], ["REJECT", "Run is already COMPLETED."])
      }
      assert.strictEqual(flow(State.Completed({ data: persisted }), State.Failed()).status, "ACCEPT")
      assert.strictEqual(flow(State.Completed({ data: { type: "unpersisted" } }), State.Running()).status, "ACCEPT")
    })

    it("COMPLETED with persisted data → COMPLETED without: REJECT current", () => {
      const reason = "Cannot overwrite a COMPLETED state that carries persisted result data with one that does not."
      for (const data of [null, "raw", { type: "unpersisted" }]) {
        const o = flow(State.Completed({ data: persisted }), State.Completed({ data }))
        assert.deepStrictEqual([o.status, reasonOf(o)], ["REJECT", reason])
      }
      assert.strictEqual(
        flow(State.Completed({ data: persisted }), State.Completed({ data: persisted })).status,
        "ACCEPT"
      )
    })

    it("terminal → SCHEDULED without a deployment: ABORT", () => {
      const o = flow(State.Failed(), State.Scheduled())
      assert.deepStrictEqual([o.status, reasonOf(o)], [
        "ABORT",
        "Cannot reschedule a run without an associated deployment."
      ])
    })

    it("terminal → non-final resets the pause and retry policy", () => {
      const o = flow(State.Failed(), State.Scheduled({ timestamp: now }), {
        run: { deploymentId: "d", resuming: true, pauseKeys: ["a"], retryType: "in_process" }
      })
      assert.strictEqual(o.status, "ACCEPT")
      assert.deepStrictEqual([o.run.resuming, o.run.pauseKeys, o.run.retryType], [false, [], "reschedule"])
      const r = flow(State.Failed(), State.Running({ timestamp: now }), {
        run: { pauseKeys: ["a"], retryType: "in_process" }
      })
      assert.deepStrictEqual([r.run.pauseKeys, r.run.retryType], [[], null])
    })

    it("the policy reset is reverted when a later rule rejects with another type", () => {
      const o = flow(State.Cancelled(), State.Pending(), {
        run: { deploymentId: "d", pauseKeys: ["a"] },
        deployment: { concurrencyLimit: 1, slotAvailable: false }
      })
      // CANCELLED → PENDING is aborted by PreventPendingTransitions; the policy is untouched.
      assert.deepStrictEqual([o.status, o.run.pauseKeys], ["ABORT", ["a"]])
      const enqueued = flow(State.Failed(), State.Pending(), {
        run: { deploymentId: "d", pauseKeys: ["a"] },
        deployment: { concurrencyLimit: 1, slotAvailable: false }
      })
      assert.deepStrictEqual([enqueued.status, enqueued.run.pauseKeys], ["REJECT", ["a"]])
    })
  })

  it("CANCELLING → anything but CANCELLED: REJECT current", () => {
    for (const to of StateType.all.filter((t) => t !== "CANCELLED")) {
      const o = flow(State.Cancelling(), State.make({ type: to }), { run: { infrastructurePid: "1" } })
      assert.deepStrictEqual([to, o.status, reasonOf(o)], [
        to,
        "REJECT",
        "Cannot transition flows that are cancelling to a state other than Cancelled."
      ])
    }
    assert.strictEqual(flow(State.Cancelling(), State.Cancelled()).status, "ACCEPT")
  })

  describe("BypassCancellingFlowRunsWithNoInfra", () => {
    it("SCHEDULED without infrastructure, or named Resuming → CANCELLING: REJECT → Cancelled()", () => {
      for (
        const [initial, pid] of [
          [State.Scheduled(), null],
          [State.make({ type: "SCHEDULED", name: "Resuming" }), "123"]
        ] as const
      ) {
        const o = flow(initial, State.Cancelling(), { run: { infrastructurePid: pid } })
        assert.deepStrictEqual([o.status, reasonOf(o)], [
          "REJECT",
          "Scheduled flow run has no infrastructure to terminate."
        ])
        const s = (o as Orchestration.Reject<unknown>).state!
        assert.deepStrictEqual([s.type, s.name, s.message], ["CANCELLED", "Cancelled", null])
      }
      assert.strictEqual(
        flow(State.Scheduled(), State.Cancelling(), { run: { infrastructurePid: "1" } }).status,
        "ACCEPT"
      )
    })

    it("suspended PAUSED → CANCELLING: REJECT → Cancelled()", () => {
      const o = flow(State.Suspended(), State.Cancelling())
      assert.deepStrictEqual([o.status, reasonOf(o)], [
        "REJECT",
        "Suspended flow run has no infrastructure to terminate."
      ])
    })
  })

  describe("PreventPendingTransitions", () => {
    for (const from of ["PENDING", "RUNNING", "CANCELLING", "CANCELLED"] as const) {
      it(`${from} → PENDING: ABORT`, () => {
        const o = flow(State.make({ type: from }), State.Pending(), { run: { infrastructurePid: "1" } })
        const expected = from === "CANCELLING"
          ? "Cannot transition flows that are cancelling to a state other than Cancelled."
          : `This run is in a ${from} state and cannot transition to a PENDING state.`
        assert.strictEqual(reasonOf(o), expected)
        assert.strictEqual(o.status, from === "CANCELLING" ? "REJECT" : "ABORT")
      })
    }

    it("PENDING → a renamed PENDING sub-state: ACCEPT, copying the scheduled time and lease", () => {
      const initial = State.Pending({ stateDetails: { scheduledTime: at(-10), deploymentConcurrencyLeaseId: "lease" } })
      const o = flow(initial, State.Submitting())
      assert.strictEqual(o.status, "ACCEPT")
      const s = (o as Orchestration.Accept<unknown>).state
      assert.deepStrictEqual([
        s.stateDetails.scheduledTime?.epochMilliseconds,
        s.stateDetails.deploymentConcurrencyLeaseId
      ], [
        at(-10).epochMilliseconds,
        "lease"
      ])
      assert.strictEqual(flow(State.Submitting(), State.Pending()).status, "ABORT")
      assert.strictEqual(flow(State.Submitting(), State.Submitting()).status, "ABORT")
    })
  })

  describe("deployment concurrency", () => {
    const pendingRun = { deploymentId: "d" }

    it("PENDING → RUNNING with a lost lease and no slot: REJECT → Cancelled", () => {
      const o = flow(State.Pending({ stateDetails: { deploymentConcurrencyLeaseId: "l" } }), State.Running(), {
        run: pendingRun,
        deployment: { concurrencyLimit: 1, slotAvailable: false, leaseRenewable: false }
      })
      assert.deepStrictEqual([o.status, reasonOf(o)], [
        "REJECT",
        "Deployment concurrency limit reached after lease expiry."
      ])
      assert.strictEqual(
        (o as Orchestration.Reject<unknown>).state?.message,
        "Deployment concurrency slot lost during provisioning - no slots available to continue execution"
      )
      const reacquired = flow(State.Pending({ stateDetails: { deploymentConcurrencyLeaseId: "l" } }), State.Running(), {
        run: pendingRun,
        deployment: { concurrencyLimit: 1, slotAvailable: true, leaseRenewable: false, leaseId: "l2" }
      })
      assert.strictEqual(
        (reacquired as Orchestration.Accept<unknown>).state.stateDetails.deploymentConcurrencyLeaseId,
        "l2"
      )
    })

    it("→ PENDING with a deployment: missing, limit 0, free slot, ENQUEUE, CANCEL_NEW", () => {
      const missing = flow(State.Scheduled(), State.Pending(), { run: pendingRun, deployment: "missing" })
      assert.deepStrictEqual([missing.status, reasonOf(missing)], ["ABORT", "Deployment not found."])
      const zero = flow(State.Scheduled(), State.Pending(), {
        run: pendingRun,
        deployment: { concurrencyLimit: 0, slotAvailable: false }
      })
      assert.deepStrictEqual([zero.status, reasonOf(zero)], [
        "ABORT",
        "The deployment concurrency limit is 0. The flow will deadlock if submitted again."
      ])
      const free = flow(undefined, State.Pending(), {
        run: pendingRun,
        deployment: { concurrencyLimit: 2, slotAvailable: true, leaseId: "lease-1" }
      })
      assert.strictEqual(
        (free as Orchestration.Accept<unknown>).state.stateDetails.deploymentConcurrencyLeaseId,
        "lease-1"
      )
      const enqueue = flow(State.Scheduled(), State.Pending(), {
        run: pendingRun,
        deployment: { concurrencyLimit: 1, slotAvailable: false }
      })
      assert.deepStrictEqual([enqueue.status, reasonOf(enqueue)], ["REJECT", "Deployment concurrency limit reached."])
      const waiting = (enqueue as Orchestration.Reject<unknown>).state!
      assert.deepStrictEqual([waiting.type, waiting.name], ["SCHEDULED", "AwaitingConcurrencySlot"])
      assert.strictEqual(waiting.stateDetails.scheduledTime?.epochMilliseconds, at(30_000).epochMilliseconds)
      const cancel = flow(State.Scheduled(), State.Pending(), {
        run: pendingRun,
        deployment: { concurrencyLimit: 1, slotAvailable: false, collisionStrategy: "CANCEL_NEW" }
      })
      assert.deepStrictEqual([cancel.status, reasonOf(cancel)], ["REJECT", "Deployment concurrency limit reached."])
      assert.strictEqual(
        (cancel as Orchestration.Reject<unknown>).state?.message,
        "Deployment concurrency limit reached."
      )
    })
  })

  describe("EnsureOnlyScheduledFlowsMarkedLate", () => {
    it("any but SCHEDULED → Late: REJECT current; Late → Late: REJECT current", () => {
      const notScheduled = flow(State.Running(), State.Late())
      assert.deepStrictEqual([notScheduled.status, reasonOf(notScheduled)], [
        "REJECT",
        "Only scheduled flows can be marked late."
      ])
      const twice = flow(State.Late(), State.Late())
      assert.deepStrictEqual([twice.status, reasonOf(twice)], ["REJECT", "This flow run is already marked late."])
      assert.strictEqual(flow(State.Scheduled(), State.Late()).status, "ACCEPT")
    })
  })

  describe("HandlePausingFlows", () => {
    it("no state: ABORT; not running: REJECT current (pause / suspend)", () => {
      assert.strictEqual(reasonOf(flow(undefined, State.Paused())), "Cannot pause flows with no state.")
      assert.strictEqual(reasonOf(flow(undefined, State.Suspended())), "Cannot suspend flows with no state.")
      const notRunning = flow(State.Scheduled(), State.Paused())
      assert.deepStrictEqual([notRunning.status, reasonOf(notRunning)], [
        "REJECT",
        "Cannot pause flows that are not currently running."
      ])
      assert.strictEqual(
        reasonOf(flow(State.Paused(), State.Paused())),
        "Cannot pause flows that are not currently running."
      )
    })

    it("a pause key already fired: REJECT current; otherwise ACCEPT and the key is recorded", () => {
      const fired = flow(State.Running(), State.Paused({ pauseKey: "k" }), { run: { pauseKeys: ["k"] } })
      assert.deepStrictEqual([fired.status, reasonOf(fired)], ["REJECT", "This pause has already fired."])
      const ok = flow(State.Running(), State.Paused({ pauseKey: "k" }))
      assert.deepStrictEqual([ok.status, ok.run.pauseKeys], ["ACCEPT", ["k"]])
    })

    it("suspending a subflow or a flow without deployment: ABORT", () => {
      const sub = flow(State.Running(), State.Suspended(), { run: { parentTaskRunId: "t", deploymentId: "d" } })
      assert.deepStrictEqual([sub.status, reasonOf(sub)], ["ABORT", "Cannot suspend subflows."])
      const nodep = flow(State.Running(), State.Suspended())
      assert.deepStrictEqual([nodep.status, reasonOf(nodep)], ["ABORT", "Cannot suspend flows without a deployment."])
      assert.strictEqual(flow(State.Running(), State.Suspended(), { run: { deploymentId: "d" } }).status, "ACCEPT")
    })
  })

  describe("HandleResumingPausedFlows", () => {
    it("PAUSED → PENDING, CANCELLING (not suspended): REJECT current with the enum text", () => {
      for (const to of ["PENDING", "CANCELLING"] as const) {
        const o = flow(State.Paused(), State.make({ type: to }))
        assert.deepStrictEqual([o.status, reasonOf(o)], [
          "REJECT",
          `This run cannot transition to the StateType.${to} state from the StateType.PAUSED state.`
        ])
      }
    })

    it("suspended → RUNNING without a deployment: REJECT current", () => {
      const o = flow(State.Suspended(), State.Running())
      assert.deepStrictEqual([o.status, reasonOf(o)], [
        "REJECT",
        "Cannot reschedule a running flow run without a deployment."
      ])
      assert.strictEqual(
        reasonOf(flow(State.Suspended(), State.make({ type: "SCHEDULED", name: "Resuming" }))),
        "Cannot reschedule a resuming flow run without a deployment."
      )
    })

    it("past the pause timeout: REJECT → Failed", () => {
      const o = flow(State.Paused({ pauseExpirationTime: at(-1000) }), State.Running())
      assert.deepStrictEqual([o.status, reasonOf(o)], [
        "REJECT",
        "The flow run pause has timed out and can no longer resume."
      ])
      const s = (o as Orchestration.Reject<unknown>).state!
      assert.deepStrictEqual([s.type, s.message], ["FAILED", "The flow was running and never resumed."])
    })

    it("otherwise ACCEPT, resuming: the next RUNNING does not count", () => {
      const o = flow(State.Paused({ pauseExpirationTime: at(1000) }), State.Running({ timestamp: now }), {
        run: { runCount: 1 }
      })
      assert.strictEqual(o.status, "ACCEPT")
      // RemoveResumingIndicator clears it again once RUNNING is entered; run_count is unchanged.
      assert.deepStrictEqual([o.run.runCount, o.run.resuming], [1, false])
      const toScheduled = flow(State.Paused(), State.make({ type: "SCHEDULED", name: "Resuming" }), {
        run: { runCount: 1 }
      })
      assert.deepStrictEqual([toScheduled.status, toScheduled.run.resuming], ["ACCEPT", true])
    })
  })

  it("SCHEDULED → PENDING copies the scheduled time; a future one makes RUNNING wait", () => {
    const o = flow(State.Scheduled({ scheduledTime: at(2000) }), State.Pending())
    assert.strictEqual(
      (o as Orchestration.Accept<unknown>).state.stateDetails.scheduledTime?.epochMilliseconds,
      at(2000).epochMilliseconds
    )
    const w = flow(State.Scheduled({ scheduledTime: at(2000) }), State.Running())
    assert.deepStrictEqual([w.status, (w as Orchestration.Wait<unknown>).delaySeconds, reasonOf(w)], [
      "WAIT",
      2,
      "Scheduled time is in the future"
    ])
  })

  describe("RetryFailedFlows", () => {
    it("RUNNING → FAILED with retries left: REJECT → AwaitingRetry; the policy records an in-process retry", () => {
      const o = flow(running(), State.Failed({ message: "boom", timestamp: now }), {
        run: { runCount: 1, retries: 1, retryDelay: 5, pauseKeys: ["k"], resuming: true }
      })
      assert.deepStrictEqual([o.status, reasonOf(o)], ["REJECT", "Retrying"])
      const s = (o as Orchestration.Reject<unknown>).state!
      assert.deepStrictEqual([s.name, s.message], ["AwaitingRetry", "boom"])
      assert.strictEqual(s.stateDetails.scheduledTime?.epochMilliseconds, at(5000).epochMilliseconds)
      assert.deepStrictEqual([o.run.retryType, o.run.pauseKeys, o.run.resuming], ["in_process", [], false])
    })

    it("no retries left: ACCEPT and the retry type is cleared (retriable is not consulted for flows)", () => {
      const o = flow(running(), State.Failed({ stateDetails: { retriable: false } }), {
        run: { runCount: 2, retries: 1, retryType: "in_process" }
      })
      assert.deepStrictEqual([o.status, o.run.retryType], ["ACCEPT", null])
      const retriableFalse = flow(running(), State.Failed({ stateDetails: { retriable: false } }), {
        run: { runCount: 1, retries: 1 }
      })
      assert.strictEqual(retriableFalse.status, "REJECT")
    })
  })

  it("global transforms: run_count + 1 on RUNNING, the flow run id stamped", () => {
    const o = flow(State.Pending(), State.Running({ timestamp: now }), { run: { id: "f-1", runCount: 1 } })
    assert.strictEqual(o.run.runCount, 2)
    assert.strictEqual((o as Orchestration.Accept<unknown>).state.stateDetails.flowRunId, "f-1")
  })

  it("flowPolicyFor: the minimal policy when forced", () => {
    assert.strictEqual(Orchestration.flowPolicyFor({ force: true }), Orchestration.minimalFlowPolicy)
    assert.strictEqual(Orchestration.flowPolicyFor(), Orchestration.flowPolicy)
  })

  it("minimalFlowPolicy (force): only data loss and no-infrastructure cancellations are stopped", () => {
    const ctx = { now, run: Orchestration.makeFlowRun() }
    const lost = Orchestration.minimalFlowPolicy(State.Completed({ data: persisted }), State.Completed(), ctx)
    assert.deepStrictEqual([lost.status, reasonOf(lost)], [
      "REJECT",
      "Cannot overwrite a COMPLETED state that carries persisted result data with one that does not."
    ])
    const bypass = Orchestration.minimalFlowPolicy(State.Scheduled(), State.Cancelling(), ctx)
    assert.deepStrictEqual([bypass.status, (bypass as Orchestration.Reject<unknown>).state?.type], [
      "REJECT",
      "CANCELLED"
    ])
    assert.strictEqual(
      Orchestration.minimalFlowPolicy(State.Completed({ data: persisted }), State.Running(), ctx).status,
      "ACCEPT"
    )
  })
})

describe("Orchestration.markLateRunsPolicy", () => {
  const ctx = (deployment?: Orchestration.Deployment) => ({
    now,
    run: Orchestration.makeFlowRun({ deploymentId: "d" }),
    ...(deployment === undefined ? {} : { deployment })
  })

  it("only SCHEDULED runs are marked late", () => {
    const o = Orchestration.markLateRunsPolicy(State.Running(), State.Late(), ctx())
    assert.deepStrictEqual([o.status, reasonOf(o)], ["REJECT", "Only scheduled flows can be marked late."])
    assert.strictEqual(Orchestration.markLateRunsPolicy(State.Scheduled(), State.Late(), ctx()).status, "ACCEPT")
  })

  it("a full CANCEL_NEW deployment limit cancels the run instead", () => {
    const o = Orchestration.markLateRunsPolicy(
      State.Scheduled(),
      State.Late(),
      ctx({ concurrencyLimit: 1, slotAvailable: false, collisionStrategy: "CANCEL_NEW" })
    )
    assert.deepStrictEqual([o.status, reasonOf(o)], [
      "REJECT",
      "Deployment concurrency limit is full and uses the CANCEL_NEW strategy."
    ])
    assert.deepStrictEqual(
      [(o as Orchestration.Reject<unknown>).state?.type, (o as Orchestration.Reject<unknown>).state?.message],
      ["CANCELLED", "Deployment concurrency limit reached."]
    )
    const enqueue = Orchestration.markLateRunsPolicy(
      State.Scheduled(),
      State.Late(),
      ctx({ concurrencyLimit: 1, slotAvailable: false })
    )
    assert.strictEqual(enqueue.status, "ACCEPT")
  })
})

// -----------------------------------------------------------------------------
// the sequences the real Task and Flow combinators record
// -----------------------------------------------------------------------------

/** What one attempt of a generated task does. */
type Attempt = "succeed" | "raise" | "die" | "returnFailed" | "returnCancelled" | "returnCompleted" | "timeout"

/** A generated task configuration and the behaviour of its attempts. */
interface TaskCase {
  readonly retries: number
  readonly retryDelaySeconds: number | ReadonlyArray<number> | undefined
  readonly retryJitterFactor: number | undefined
  /** What attempt n does (1-based); attempts past the list do the last entry. */
  readonly attempts: ReadonlyArray<Attempt>
  /** The retry condition refuses from this attempt on (`undefined`: no condition). */
  readonly conditionRefusesFrom: number | undefined
  readonly timeoutSeconds: number | undefined
  /** Run the task twice with a cache key: the second run is a cache hit when the first completed. */
  readonly cached: boolean
  readonly inFlow: boolean
}

const attempt: fc.Arbitrary<Attempt> = fc.constantFrom(
  "succeed",
  "raise",
  "die",
  "returnFailed",
  "returnCancelled",
  "returnCompleted",
  "timeout"
)

const taskCase: fc.Arbitrary<TaskCase> = fc.record({
  retries: fc.nat({ max: 3 }),
  retryDelaySeconds: fc.oneof(
    fc.constant(undefined),
    fc.constant(0),
    fc.double({ min: 0.05, max: 5, noNaN: true }),
    fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 1, maxLength: 3 })
  ),
  retryJitterFactor: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: undefined }),
  attempts: fc.array(attempt, { minLength: 1, maxLength: 5 }),
  conditionRefusesFrom: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  timeoutSeconds: fc.option(fc.constantFrom(0.5, 1, 30), { nil: undefined }),
  cached: fc.boolean(),
  inFlow: fc.boolean()
})

class ValueError extends Error {
  override name = "ValueError"
}

/** The effect attempt `n` of a generated task runs. */
const attemptEffect = (what: Attempt, n: number): Effect.Effect<unknown, ValueError> => {
  switch (what) {
    case "succeed":
      return Effect.succeed(n)
    case "raise":
      return Effect.fail(new ValueError(`boom ${n}`))
    case "die":
      return Effect.die(new ValueError(`defect ${n}`))
    case "returnFailed":
      return Effect.succeed(State.Failed({ message: `failed ${n}` }))
    case "returnCancelled":
      return Effect.succeed(State.Cancelled({ message: `cancelled ${n}` }))
    case "returnCompleted":
      return Effect.succeed(State.Completed({ data: n }))
    case "timeout":
      // Longer than any generated timeout; without one it just takes a while.
      return Effect.as(Effect.sleep("1 minute"), n)
  }
}

const flowRunId = "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f71"

/** Runs `effect` to its end, moving the TestClock on while it sleeps. */
const drive = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    for (let i = 0; i < 1000 && fiber.pollUnsafe() === undefined; i++) yield* TestClock.adjust("10 minutes")
    return yield* Fiber.join(fiber)
  })

const testLayer = () => Layer.mergeAll(ResultStore.layerMemory, RunLog.layerMemory, Logger.layer([]), TestClock.layer())

/** A violation of the law, or `undefined`: every transition ACCEPTed with its type and Prefect's run_count. */
const checkTaskHistory = (
  history: ReadonlyArray<RunLog.Transition>,
  settings: Partial<Orchestration.TaskRun>
): string | undefined => {
  let run = Orchestration.makeTaskRun({ id: history[0]?.runId ?? null, ...settings })
  let current: State.State<unknown> | undefined
  for (const t of history) {
    const outcome = Orchestration.taskPolicy(current, t.to, {
      now: t.to.timestamp,
      run,
      ...(run.flowRunId === null ? {} : { flowRun: { id: run.flowRunId, state: State.Running(), runCount: 1 } })
    })
    const step = `${current === undefined ? "∅" : State.format(current)} → ${State.format(t.to)}`
    if (outcome.status !== "ACCEPT") return `${step}: ${outcome.status} ${outcome.reason}`
    if (outcome.state.type !== t.to.type) return `${step}: accepted as ${outcome.state.type}`
    if (outcome.run.runCount !== t.runCount) {
      return `${step}: run_count ${t.runCount}, the policy counts ${outcome.run.runCount}`
    }
    run = outcome.run
    current = outcome.state
  }
  return current !== undefined && State.isFinal(current) ? undefined : "the history does not end in a final state"
}

/** The same for a flow run's history and the flow policy. */
const checkFlowHistory = (history: ReadonlyArray<RunLog.Transition>): string | undefined => {
  let run = Orchestration.makeFlowRun({ id: history[0]?.runId ?? null })
  let current: State.State<unknown> | undefined
  for (const t of history) {
    const outcome = Orchestration.flowPolicy(current, t.to, { now: t.to.timestamp, run })
    const step = `${current === undefined ? "∅" : State.format(current)} → ${State.format(t.to)}`
    if (outcome.status !== "ACCEPT") return `${step}: ${outcome.status} ${outcome.reason}`
    if (outcome.state.type !== t.to.type) return `${step}: accepted as ${outcome.state.type}`
    run = outcome.run
    current = outcome.state
  }
  return current !== undefined && State.isFinal(current) ? undefined : "the history does not end in a final state"
}

/** Runs a generated task case with the real `Task.run`; the histories of its task runs. */
const runTaskCase = (c: TaskCase) =>
  Effect.gen(function*() {
    let calls = 0
    const t = yield* Task.make<void, unknown, ValueError>({
      name: "t",
      retries: c.retries,
      retryDelaySeconds: c.retryDelaySeconds,
      retryJitterFactor: c.retryJitterFactor,
      timeoutSeconds: c.timeoutSeconds,
      cacheKey: c.cached ? "key" : undefined,
      retryCondition: c.conditionRefusesFrom === undefined
        ? undefined
        : (failure) => failure.runCount < c.conditionRefusesFrom!
    }, () =>
      Effect.suspend(() => {
        calls++
        return attemptEffect(c.attempts[Math.min(calls, c.attempts.length) - 1]!, calls)
      }))
    const once = Task.run(t)
    const body: Effect.Effect<unknown, never, ResultStore.ResultStore> = c.cached ? Effect.zip(once, once) : once
    yield* drive(c.inFlow ? Flow.run(body, { name: "f", flowRunId }) : body)
    const log = yield* RunLog.RunLog
    const runs = yield* log.runs({ kind: "task" })
    return yield* Effect.forEach(runs, (r) => log.history(r.runId))
  })

/**
 * A retry condition that refuses while retries are left, on an attempt that
 * timed out or returned a FAILED state: the client ends FAILED there, but
 * that state (built as Prefect's engine builds it, without `retriable:
 * false`) is one the server's retry rule would turn into AwaitingRetry. The
 * law excludes this case; the test after it pins it.
 */
const divergesFromServer = (c: TaskCase): boolean => {
  if (c.conditionRefusesFrom === undefined) return false
  // The body counts its calls across both runs of a cached case; a run that completes makes the next one a
  // cache hit (no calls), which this walk ignores: it may exclude a case too many, never one too few.
  let call = 0
  for (let run = 0; run < (c.cached ? 2 : 1); run++) {
    for (let n = 1; n <= c.retries + 1; n++) {
      const what = c.attempts[Math.min(++call, c.attempts.length) - 1]!
      const fails = what === "raise" || what === "die" || what === "returnFailed" ||
        (what === "timeout" && c.timeoutSeconds !== undefined)
      if (!fails || n > c.retries) break
      // Attempt n fails with retries left, and the condition (given run_count n) refuses: the run ends here.
      if (n >= c.conditionRefusesFrom) {
        if (what === "returnFailed" || what === "timeout") return true
        break
      }
    }
  }
  return false
}

describe("law: no sequence the Task combinator produces is rejected by the task policy", () => {
  it("every transition Task.run records (retries, delays, failures, returned states, timeouts, cache hits) is ACCEPTed with its type and run_count", async () => {
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(taskCase.filter((c) => !divergesFromServer(c)), async (c) => {
        const histories = await Effect.runPromise(runTaskCase(c).pipe(Effect.provide(testLayer())))
        expect(histories.length).toBe(c.cached ? 2 : 1)
        for (const history of histories) {
          for (const t of history) seen.add(`${t.to.name}:${t.to.type}`)
          const violation = checkTaskHistory(history, {
            flowRunId: c.inFlow ? flowRunId : null,
            retries: c.retries,
            retryDelay: c.retryDelaySeconds ?? null,
            retryJitterFactor: c.retryJitterFactor ?? null
          })
          expect(violation, `${JSON.stringify(c)}\n${history.map((t) => State.format(t.to)).join(" → ")}`)
            .toBeUndefined()
        }
      }),
      { seed: Arb.seed, numRuns: 150 }
    )
    // The generated runs reach every kind of state the lifecycle has.
    for (
      const kind of [
        "AwaitingRetry:SCHEDULED",
        "Retrying:RUNNING",
        "Cached:COMPLETED",
        "TimedOut:FAILED",
        "Failed:FAILED",
        "Cancelled:CANCELLED",
        "Completed:COMPLETED"
      ]
    ) expect(seen, kind).toContain(kind)
  })

  it.effect("the excluded case: a retry condition refusing a timed-out attempt with retries left ends FAILED, which the server would retry", () =>
    Effect.gen(function*() {
      const c: TaskCase = {
        retries: 1,
        retryDelaySeconds: undefined,
        retryJitterFactor: undefined,
        attempts: ["timeout"],
        conditionRefusesFrom: 1,
        timeoutSeconds: 0.5,
        cached: false,
        inFlow: false
      }
      assert.isTrue(divergesFromServer(c))
      const [history] = yield* runTaskCase(c)
      assert.deepStrictEqual(history!.map((t) => `${t.to.name}:${t.to.type}`), [
        "Pending:PENDING",
        "Running:RUNNING",
        "TimedOut:FAILED"
      ])
      assert.strictEqual(
        checkTaskHistory(history!, { retries: 1 }),
        "Running() → TimedOut('Task run exceeded timeout of 0.5 second(s)', type=FAILED): REJECT Retrying"
      )
    }).pipe(Effect.provide(testLayer())))

  it("the law can fail: a FAILED proposal that is still retriable with retries left is rejected", () => {
    const sequence = [State.Pending(), State.Running(), State.Failed({ message: "boom" })]
    let run = Orchestration.makeTaskRun({ retries: 1 })
    let current: State.State<unknown> | undefined
    const statuses: Array<string> = []
    for (const proposed of sequence) {
      const o = Orchestration.taskPolicy(current, proposed, { now: proposed.timestamp, run })
      statuses.push(o.status)
      run = o.run
      if (o.status === "ACCEPT") current = o.state
    }
    assert.deepStrictEqual(statuses, ["ACCEPT", "ACCEPT", "REJECT"])
  })
})

/** How a generated flow run ends. */
type FlowEnd = "value" | "taskStates" | "fail" | "die" | "timeout" | "interrupt" | "cancel"

interface FlowCase {
  readonly end: FlowEnd
  /** The tasks the program runs first (concurrently): what each one's single attempt does. */
  readonly tasks: ReadonlyArray<Attempt>
  readonly concurrency: number
}

const flowCase: fc.Arbitrary<FlowCase> = fc.record({
  end: fc.constantFrom<FlowEnd>("value", "taskStates", "fail", "die", "timeout", "interrupt", "cancel"),
  tasks: fc.array(attempt.filter((a) => a !== "timeout"), { maxLength: 4 }),
  concurrency: fc.integer({ min: 1, max: 4 })
})

/** Runs a generated flow case with the real `Flow.run`; every run's history (the flow's first). */
const runFlowCase = (c: FlowCase) =>
  Effect.gen(function*() {
    const log = yield* RunLog.RunLog
    const tasks = yield* Effect.forEach(
      c.tasks,
      (what, i) => Task.make({ name: `t${i}` }, () => attemptEffect(what, i + 1))
    )
    const program = Effect.gen(function*() {
      const states = yield* Effect.forEach(tasks, (t) => Task.run(t), { concurrency: c.concurrency })
      switch (c.end) {
        case "value":
          return states.length
        case "taskStates":
          return states
        case "fail":
          return yield* Effect.fail(new ValueError("flow boom"))
        case "die":
          return yield* Effect.die(new ValueError("flow defect"))
        case "timeout":
        case "interrupt":
        case "cancel":
          return yield* Effect.as(Effect.sleep("1 hour"), 0)
      }
    })
    const flowRun = Flow.run(program, {
      name: "f",
      flowRunId,
      ...(c.end === "timeout" ? { timeoutSeconds: 1 } : {})
    })
    if (c.end === "interrupt" || c.end === "cancel") {
      const fiber = yield* Effect.forkChild(flowRun)
      // Let the program reach its sleep: its tasks have ended, the flow is RUNNING.
      for (let i = 0; i < 10; i++) yield* TestClock.adjust("1 second")
      if (c.end === "cancel") {
        // As a canceller does (Prefect's `flow-run cancel`, @runstate/cluster's cancel): CANCELLING, then stop.
        const history = yield* log.history(flowRunId)
        const last = history[history.length - 1]!
        yield* log.record({
          runId: flowRunId,
          kind: "flow",
          name: last.name,
          runCount: last.runCount,
          from: last.to,
          to: State.Cancelling({ stateDetails: last.to.stateDetails })
        })
      }
      yield* Fiber.interrupt(fiber)
    } else {
      yield* drive(flowRun)
    }
    const flow = yield* log.history(flowRunId)
    const runs = yield* log.runs({ kind: "task" })
    const taskHistories = yield* Effect.forEach(runs, (r) => log.history(r.runId))
    return { flow, taskHistories }
  })

describe("law: no sequence Flow.run records is rejected by the flow policy", () => {
  it("every flow transition (success, returned task states, failure, timeout, crash, cancellation) is ACCEPTed with its type; its tasks' by the task policy", async () => {
    const finals = new Set<string>()
    await fc.assert(
      fc.asyncProperty(flowCase, async (c) => {
        const { flow, taskHistories } = await Effect.runPromise(runFlowCase(c).pipe(Effect.provide(testLayer())))
        const trace = `${JSON.stringify(c)}\n${flow.map((t) => State.format(t.to)).join(" → ")}`
        expect(checkFlowHistory(flow), trace).toBeUndefined()
        finals.add(`${flow[flow.length - 1]!.to.name}:${flow[flow.length - 1]!.to.type}`)
        expect(taskHistories.length).toBe(c.tasks.length)
        for (const history of taskHistories) {
          expect(checkTaskHistory(history, { flowRunId }), trace).toBeUndefined()
        }
      }),
      { seed: Arb.seed, numRuns: 100 }
    )
    for (
      const kind of [
        "Completed:COMPLETED",
        "Failed:FAILED",
        "TimedOut:FAILED",
        "Crashed:CRASHED",
        "Cancelled:CANCELLED"
      ]
    ) expect(finals, kind).toContain(kind)
  })

  it("the law can fail: a flow run leaving CANCELLING for anything but CANCELLED is rejected", () => {
    const history = [State.Pending(), State.Running(), State.Cancelling(), State.Crashed()].map((to, i, all) => ({
      runId: flowRunId,
      kind: "flow" as const,
      name: "f",
      runCount: 1,
      from: all[i - 1],
      to
    }))
    assert.match(checkFlowHistory(history) ?? "", /^Cancelling\(\) → Crashed\(\): REJECT/)
  })
})

describe("bad settings", () => {
  it("law: whatever the retry settings and counters, no policy throws and a written SCHEDULED state has a real scheduled time", () => {
    const number = fc.oneof(fc.double(), fc.integer({ min: -5, max: 5 }), fc.constant(Number.NaN))
    fc.assert(
      fc.property(
        fc.option(Arb.stateAmong(["RUNNING", "PENDING", "SCHEDULED", "FAILED"]), { nil: undefined }),
        Arb.stateAmong(["FAILED", "RUNNING", "PENDING", "COMPLETED"]),
        fc.record({
          runCount: fc.integer({ min: -2, max: 6 }),
          retries: fc.option(fc.integer({ min: -2, max: 6 }), { nil: null }),
          retryDelay: fc.oneof(fc.constant(null), number, fc.array(number, { maxLength: 3 })),
          retryJitterFactor: fc.option(number, { nil: null })
        }),
        (initial, proposed, settings) => {
          const t = Orchestration.taskPolicy(initial, proposed, { now, run: Orchestration.makeTaskRun(settings) })
          const f = Orchestration.flowPolicy(initial, proposed, {
            now,
            run: Orchestration.makeFlowRun({
              runCount: settings.runCount,
              retries: settings.retries,
              retryDelay: typeof settings.retryDelay === "number" ? settings.retryDelay : null
            })
          })
          for (const o of [t, f] as ReadonlyArray<Orchestration.Outcome<unknown>>) {
            assert.include(["ACCEPT", "REJECT", "WAIT", "ABORT"], o.status)
            // A written SCHEDULED state has a real scheduled time.
            if (Orchestration.isWritten(o) && o.state.type === "SCHEDULED") {
              assert.isTrue(Number.isFinite(o.state.stateDetails.scheduledTime?.epochMilliseconds))
            }
          }
        }
      ),
      { seed: Arb.seed, numRuns: 500 }
    )
  })

  it("a delay beyond the representable dates schedules the retry at the last representable instant", () => {
    const o = task(running(), State.Failed(), { run: { runCount: 0, retries: 0, retryDelay: 9e12 } })
    assert.strictEqual(
      (o as Orchestration.Reject<unknown>).state?.stateDetails.scheduledTime?.epochMilliseconds,
      8.64e15
    )
  })

  it("a delay that is not a finite, non-negative number counts as 0", () => {
    for (const retryDelay of [Number.NaN, -3, Number.POSITIVE_INFINITY, [Number.NaN]]) {
      assert.strictEqual(
        Orchestration.retryDelaySeconds({ runCount: 1, retryDelay, retryJitterFactor: null }),
        0,
        String(retryDelay)
      )
    }
  })
})

describe("generated states", () => {
  it("law: the task policy never throws, and WAIT/ABORT/REJECT-without-state leave the run's counters unchanged", () => {
    fc.assert(
      fc.property(
        fc.option(Arb.state, { nil: undefined }),
        Arb.state,
        fc.nat({ max: 5 }),
        (initial, proposed, runCount) => {
          const run = Orchestration.makeTaskRun({ runCount, retries: 2 })
          const o = Orchestration.taskPolicy(initial, proposed, { now, run })
          if (!Orchestration.isWritten(o)) expect(o.run).toEqual(run)
        }
      ),
      { seed: Arb.seed, numRuns: 300 }
    )
  })
})
