/**
 * Task-run state events (`Wire.encodeTaskRunEvent`) against golden JSON written
 * by hand from Prefect's rules (fixtures/task-run-events): the event name,
 * the resource labels (`+00:00` timestamps, run count as text), tags as
 * sorted related resources, `payload.intended` / `initial_state` /
 * `validated_state` (details without nulls, defaults and run ids; result
 * metadata only for a persisted record) / `task_run`; message truncation at
 * 100 000 characters; typed errors for inputs that are not task-run events.
 */
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as fc from "fast-check"
import { ResultRecord, Serializer, State, Wire } from "@runstate/core"
import { Arbitraries } from "@runstate/core/testing"

const golden = (name: string): string =>
  readFileSync(join(import.meta.dirname, "fixtures", "task-run-events", `${name}.json`), "utf8").trimEnd()

const runId = "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"
const flowRunId = "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f71"
const at = (iso: string) => DateTime.makeUnsafe(iso) as DateTime.Utc
const ids = { taskRunId: runId, flowRunId }

const record = (persisted: boolean) =>
  ResultRecord.make({
    metadata: ResultRecord.makeMetadata({ storageKey: "/root/.prefect/storage/9f2c1e", serializer: Serializer.json }),
    result: { rows: 42 },
    persisted
  })

const encode = (input: Wire.TaskRunEventInput, options?: Wire.TaskRunEventOptions) =>
  Effect.map(Wire.encodeTaskRunEvent(input, options), (event) => JSON.stringify(event, null, 2))

describe("Wire.encodeTaskRunEvent (golden)", () => {
  it.effect("the first state: no initial state, tags sorted as related resources, task_run without excluded keys", () =>
    Effect.gen(function*() {
      const pending = State.Pending({
        id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e01",
        timestamp: at("2026-01-02T03:04:05Z"),
        stateDetails: ids
      })
      const text = yield* encode({ runId, kind: "task", name: "fetch-0", runCount: 0, from: undefined, to: pending }, {
        tags: ["zeta", "alpha"],
        taskRun: {
          id: runId,
          created: "2026-01-02T03:04:05Z",
          updated: "2026-01-02T03:04:05Z",
          task_key: "fetch-6f1c",
          dynamic_key: "0",
          flow_run_id: flowRunId,
          cache_key: null,
          empirical_policy: { max_retries: 0, retry_delay_seconds: 0, retries: 2, retry_delay: 1 },
          state_id: pending.id,
          state_type: "PENDING",
          state_name: "Pending",
          flow_run_run_count: 0,
          expected_start_time: null,
          total_run_time: 0,
          estimated_run_time: 0,
          estimated_start_time_delta: 0
        }
      })
      assert.strictEqual(text, golden("pending"))
    }))

  it.effect("a completed state with a persisted result: its metadata as data; microsecond timestamps; follows", () =>
    Effect.gen(function*() {
      const running = State.Running({
        timestamp: at("2026-01-02T03:04:06Z"),
        stateDetails: { ...ids, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }
      })
      const completed = State.Completed({
        id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e03",
        timestamp: at("2026-01-02T03:04:07.678Z"),
        stateDetails: ids,
        data: record(true)
      })
      const text = yield* encode({ runId, name: "fetch-0", runCount: 1, from: running, to: completed }, {
        follows: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e02"
      })
      assert.strictEqual(text, golden("completed"))
    }))

  it.effect("AwaitingRetry: the state's name in the event name, its scheduled time in the details", () =>
    Effect.gen(function*() {
      const awaiting = State.AwaitingRetry({
        id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e04",
        timestamp: at("2026-01-02T03:04:06.5Z"),
        scheduledTime: at("2026-01-02T03:04:06.7Z"),
        message: "Task run encountered an exception ValueError: boom",
        stateDetails: ids
      })
      const text = yield* encode({
        runId,
        name: "fetch-0",
        runCount: 1,
        from: State.Running({ stateDetails: ids }),
        to: awaiting
      })
      assert.strictEqual(text, golden("awaiting-retry"))
    }))

  it.effect("a failure: retriable false is set and kept; an unpersisted record sends no data", () =>
    Effect.gen(function*() {
      const failed = State.Failed({
        id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e05",
        timestamp: at("2026-01-02T03:04:08Z"),
        message: "Task run encountered an exception ValueError: boom",
        stateDetails: { ...ids, retriable: false },
        data: record(false)
      })
      const text = yield* encode(
        { runId, name: "fetch-0", runCount: 3, from: State.Retrying({ stateDetails: ids }), to: failed },
        { tags: ["etl", "etl"] }
      )
      assert.strictEqual(text, golden("failed"))
    }))

  it.effect("data: metadata only for a record that persists (persistResult overrides); never for bare metadata", () =>
    Effect.gen(function*() {
      const dataOf = (data: unknown, persistResult?: boolean) =>
        Effect.map(
          Wire.encodeTaskRunEvent(
            { runId, name: "t", runCount: 1, from: undefined, to: State.Completed({ data }) },
            persistResult === undefined ? undefined : { persistResult }
          ),
          (e) => e.payload.validated_state.data
        )
      assert.isNull(yield* dataOf(record(false)))
      const sent = (yield* dataOf(record(false), true)) as { readonly storage_key: string }
      assert.strictEqual(sent.storage_key, "/root/.prefect/storage/9f2c1e")
      assert.isNull(yield* dataOf(record(true), false))
      assert.isNull(yield* dataOf(record(true).metadata, true))
      assert.isNull(yield* dataOf({ rows: 1 }, true))
    }))
})

describe("message truncation", () => {
  const event = (message: string | null) =>
    Wire.encodeTaskRunEvent({
      runId,
      name: "t",
      runCount: 1,
      from: State.Running({ message }),
      to: State.Failed({ message })
    })

  it.effect("up to 100 000 characters, or when shortening would not shorten: kept; longer: first and last 50 000", () =>
    Effect.gen(function*() {
      const exact = "a".repeat(100_000)
      assert.strictEqual((yield* event(exact)).resource["prefect.state-message"], exact)
      // 50 000 + "...1 additional characters..." + 50 000 is longer than 100 001: kept.
      const barely = "c".repeat(100_001)
      assert.strictEqual((yield* event(barely)).resource["prefect.state-message"], barely)
      const long = "b" + "x".repeat(100_098) + "e"
      const e = yield* event(long)
      const expected = "b" + "x".repeat(49_999) + "...100 additional characters..." + "x".repeat(49_999) + "e"
      assert.strictEqual(e.resource["prefect.state-message"], expected)
      assert.strictEqual(e.payload.validated_state.message, expected)
      assert.strictEqual(e.payload.initial_state?.message, expected)
    }))

  it("characters are code points, as Python counts them", () => {
    const astral = "😀".repeat(100_000) // 200 000 UTF-16 units, 100 000 characters
    assert.strictEqual(Wire.truncateMessage(100_000, astral), astral)
    const over = "😀".repeat(100_100)
    assert.strictEqual(
      Wire.truncateMessage(100_000, over),
      "😀".repeat(50_000) + "...100 additional characters..." + "😀".repeat(50_000)
    )
  })

  it("kept when the shortened form would not be shorter; null and empty become \"\"", () => {
    assert.strictEqual(Wire.truncateMessage(4, "abcdefghij"), "abcdefghij")
    assert.strictEqual(Wire.truncateMessage(4, "a".repeat(40)), "aa...36 additional characters...aa")
    assert.strictEqual(Wire.truncateMessage(100_000, null), "")
    assert.strictEqual(Wire.truncateMessage(100_000, ""), "")
  })

  it.effect("null messages are \"\" in labels and payload", () =>
    Effect.gen(function*() {
      const e = yield* event(null)
      assert.strictEqual(e.resource["prefect.state-message"], "")
      assert.strictEqual(e.payload.initial_state?.message, "")
    }))
})

describe("law: truncation is Prefect's truncated_to, and never lengthens a message", () => {
  it("for any text and limit: the text, or its first and last halves around the omitted count when that is shorter", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 90 }), fc.nat({ max: 40 }), (text, length) => {
        const out = Wire.truncateMessage(length, text)
        const points = Array.from(text)
        const half = Math.floor(length / 2)
        // Prefect's definition, with Python's slices: value[-0:] is the whole value.
        const end = half === 0 ? points : points.slice(points.length - half)
        const proposed = `${points.slice(0, half).join("")}...${
          points.length - half - end.length
        } additional characters...${end.join("")}`
        const expected = text === "" ? "" : points.length <= length || Array.from(proposed).length >= points.length
          ? text
          : proposed
        return out === expected && Array.from(out).length <= Math.max(points.length, 0)
      }),
      { seed: Arbitraries.seedFromEnv() }
    )
  })
})

describe("inputs that are not task-run events", () => {
  it.effect("a flow run's transition is a WireError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Wire.encodeTaskRunEvent({ runId, kind: "flow", name: "f", runCount: 1, from: undefined, to: State.Running() })
      )
      assert.strictEqual(error._tag, "WireError")
      assert.strictEqual(
        error.message,
        "Cannot encode TaskRunEvent: Flow-run states are not sent as events: Prefect proposes them to the API (set_state)"
      )
    }))

  it.effect("a task run id that is not a UUID is a WireError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Wire.encodeTaskRunEvent({ runId: "nope", name: "t", runCount: 1, from: undefined, to: State.Running() })
      )
      assert.include(error.message, "Expected the task run id to be a UUID, got \"nope\"")
    }))
})
