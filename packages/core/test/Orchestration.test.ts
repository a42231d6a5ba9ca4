/**
 * Prefect's CoreTaskPolicy and CoreFlowPolicy, row by row of their transition
 * tables (outcome and reason text, character for character), their global
 * bookkeeping (run_count, start/end/run time), and a property: no sequence the
 * client task engine produces is ever rejected by the task policy. Replay a
 * failure with `FC_SEED=<printed seed> pnpm exec vitest run packages/core/test/Orchestration.test.ts`.
 */
import { assert, beforeAll, describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import * as fc from "fast-check"
import { Orchestration, ResultRecord, Serializer, State, StateType } from "@runstate/core"
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

// -----------------------------------------------------------------------------
// the client task engine's lifecycle sequences
// -----------------------------------------------------------------------------

/** One run of Prefect's client task engine, as the measured sequences describe it. */
export interface LifecycleCase {
  readonly outcome:
    | "success"
    | "raises"
    | "returnsFailed"
    | "timeout"
    | "cached"
    | "returnsCancelled"
    | "conditionFalse"
  readonly retries: number
  /** Failures before the final attempt (a success, or the last failure). */
  readonly failures: number
  readonly retryDelay: number | ReadonlyArray<number> | null
  readonly inFlow: boolean
}

const lifecycleCase: fc.Arbitrary<LifecycleCase> = fc
  .record({
    outcome: fc.constantFrom<LifecycleCase["outcome"]>(
      "success",
      "raises",
      "returnsFailed",
      "timeout",
      "cached",
      "returnsCancelled",
      "conditionFalse"
    ),
    retries: fc.nat({ max: 4 }),
    failures: fc.nat({ max: 4 }),
    retryDelay: fc.oneof(
      fc.constant(null),
      fc.constant(0),
      fc.double({ min: 0.05, max: 5, noNaN: true }),
      fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 1, maxLength: 3 })
    ),
    inFlow: fc.boolean()
  })
  .map((c) => ({ ...c, failures: Math.min(c.failures, c.retries) }))

const delayFor = (delay: LifecycleCase["retryDelay"], retry: number): number =>
  delay === null ? 0 : typeof delay === "number" ? delay : delay[Math.min(retry - 1, delay.length - 1)]!

/**
 * The states the client engine proposes for one task run (SPEC'd sequences:
 * Pending → Running → … → final, AwaitingRetry/Retrying between attempts).
 * Each state's timestamp is later than the previous one; a Retrying after
 * AwaitingRetry starts once its scheduled time has come.
 */
export const lifecycle = (c: LifecycleCase, start: number): Array<State.State<unknown>> => {
  let clock = start
  const tick = (ms = 1) => DateTime.makeUnsafe(clock += ms) as DateTime.Utc
  const record = (result: unknown) =>
    ResultRecord.make({ metadata: ResultRecord.makeMetadata({ storageKey: "k", serializer: Serializer.json }), result })
  const out: Array<State.State<unknown>> = [State.Pending({ timestamp: tick() }), State.Running({ timestamp: tick() })]
  if (c.outcome === "cached") {
    out.push(State.Completed({ name: "Cached", data: record(1), timestamp: tick() }))
    return out
  }
  const failuresBefore = c.outcome === "success" ? c.failures : c.outcome === "conditionFalse" ? 0 : c.retries
  for (let retry = 1; retry <= failuresBefore; retry++) {
    const delay = delayFor(c.retryDelay, retry)
    if (delay > 0) {
      const ts = tick()
      out.push(
        State.AwaitingRetry({ timestamp: ts, scheduledTime: DateTime.makeUnsafe(ts.epochMilliseconds + delay * 1000) })
      )
      tick(Math.ceil(delay * 1000))
    }
    out.push(State.Retrying({ timestamp: tick() }))
  }
  const ts = tick()
  switch (c.outcome) {
    case "success":
      out.push(State.Completed({ data: record(42), timestamp: ts }))
      break
    case "raises":
    case "conditionFalse":
      out.push(
        State.Failed({
          message: "Task run encountered an exception ValueError: boom",
          data: record({ __exc_type__: "builtins.ValueError" }),
          stateDetails: { retriable: false },
          timestamp: ts
        })
      )
      break
    case "returnsFailed":
      out.push(State.Failed({ message: "it failed", data: record(null), timestamp: ts }))
      break
    case "timeout":
      out.push(
        State.Failed({
          name: "TimedOut",
          message: "Task run exceeded timeout of 0.1 second(s)",
          data: new Error("Scope timed out after 0.1 second(s)."),
          stateDetails: { retriable: false },
          timestamp: ts
        })
      )
      break
    case "returnsCancelled":
      out.push(State.Cancelled({ message: "stopped", timestamp: ts }))
      break
  }
  return out
}

describe("law: no sequence the task lifecycle produces is rejected by the task policy", () => {
  it("every transition of every generated lifecycle is ACCEPTed with its type, and run_count counts RUNNING", () => {
    fc.assert(
      fc.property(lifecycleCase, fc.integer({ min: 0, max: 10 ** 9 }), (c, offset) => {
        const sequence = lifecycle(c, base + offset)
        let run = Orchestration.makeTaskRun({
          id: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70",
          flowRunId: c.inFlow ? "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f71" : null,
          retries: c.retries,
          retryDelay: c.retryDelay
        })
        let current: State.State<unknown> | undefined
        for (const proposed of sequence) {
          const outcome = Orchestration.taskPolicy(current, proposed, {
            now: proposed.timestamp,
            run,
            ...(c.inFlow ? { flowRun: { id: run.flowRunId!, state: State.Running(), runCount: 1 } } : {})
          })
          expect(outcome.status, `${current?.name} → ${proposed.name}: ${JSON.stringify(c)}`).toBe("ACCEPT")
          const accepted = outcome as Orchestration.Accept<Orchestration.TaskRun>
          expect(accepted.state.type).toBe(proposed.type)
          run = accepted.run
          current = accepted.state
        }
        expect(run.runCount).toBe(sequence.filter((s) => s.type === "RUNNING").length)
        expect(run.endTime?.epochMilliseconds).toBe(sequence[sequence.length - 1]!.timestamp.epochMilliseconds)
      }),
      { seed: Arb.seed, numRuns: 300 }
    )
  })

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
