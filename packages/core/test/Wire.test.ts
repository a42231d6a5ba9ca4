import { assert, describe, it } from "@effect/vitest"
import * as ResultRecord from "@runstate/core/ResultRecord"
import * as State from "@runstate/core/State"
import * as StateDetails from "@runstate/core/StateDetails"
import * as StateType from "@runstate/core/StateType"
import * as Wire from "@runstate/core/Wire"
import { DateTime, Effect, Exit, Schema } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import { readFileSync } from "node:fs"

const seed = process.env.FC_SEED === undefined ? Date.now() : Number(process.env.FC_SEED)
console.log(`Wire.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)

const fixture = (name: string): any =>
  JSON.parse(readFileSync(new URL(`./fixtures/wire/${name}`, import.meta.url), "utf8"))

const ms = (iso: string): number => new Date(iso).getTime()
const utc = (iso: string): DateTime.Utc => DateTime.makeUnsafe(ms(iso))
const millis = (dt: DateTime.Utc | null): number | null => dt === null ? null : dt.epochMilliseconds

/** Deep equality including the key order of every object. */
const assertSameJson = (actual: unknown, expected: unknown) => {
  assert.deepStrictEqual(actual, expected)
  assert.strictEqual(JSON.stringify(actual), JSON.stringify(expected))
}

const detailKeys = [
  "flow_run_id",
  "task_run_id",
  "child_flow_run_id",
  "scheduled_time",
  "cache_key",
  "cache_expiration",
  "deferred",
  "untrackable_result",
  "pause_timeout",
  "pause_reschedule",
  "pause_key",
  "run_input_keyset",
  "refresh_cache",
  "retriable",
  "transition_id",
  "task_parameters_id",
  "traceparent",
  "deployment_concurrency_lease_id"
]

const flowRunId = "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"
const storageKey = "/root/.prefect/storage/6a1c0b7e5d2f4e8c9b1a3d5f7e9c2b4a"

const expectWireError = <A>(effect: Effect.Effect<A, Wire.WireError>, path: ReadonlyArray<PropertyKey>) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(effect)
    assert.strictEqual(error._tag, "WireError")
    assert.instanceOf(error, Wire.WireError)
    assert.deepStrictEqual(error.path, path)
    if (path.length > 0) assert.include(error.message, `at [${path.map((k) => JSON.stringify(k)).join("][")}]`)
    return error
  })

const persistedRecord = (metadata: ResultRecord.ResultRecordMetadata, persisted: boolean) =>
  ResultRecord.make({ metadata, result: "The results are in...", persisted })

const decodeMetadata = (u: unknown) => ResultRecord.metadataFromJson(u)

describe("Wire golden documents", () => {
  it.effect("the SCHEDULED flow-run proposal Prefect sends decodes and re-encodes byte for byte", () =>
    Effect.gen(function*() {
      const doc = fixture("scheduled-proposal.json")
      const proposal = yield* Wire.decodeStateCreate(doc.state)
      assert.strictEqual(proposal.type, "SCHEDULED")
      assert.strictEqual(proposal.name, "Scheduled")
      assert.strictEqual(proposal.message, null)
      assert.strictEqual(proposal.data, null)
      const d = proposal.stateDetails
      assert.strictEqual(d.flowRunId, flowRunId)
      assert.strictEqual(millis(d.scheduledTime), ms("2024-01-01T12:00:00Z"))
      assert.strictEqual(d.transitionId, "5f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e")
      assert.strictEqual(d.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
      assert.strictEqual(d.deferred, null)
      assert.strictEqual(d.untrackableResult, false)
      assert.strictEqual(d.pauseReschedule, false)
      const encoded = yield* Wire.encodeStateCreate(proposal)
      assertSameJson(encoded, doc.state)
      assert.deepStrictEqual(Object.keys(encoded), ["type", "name", "message", "state_details", "data"])
      assert.deepStrictEqual(Object.keys(encoded.state_details!), detailKeys)
    }))

  it.effect("a COMPLETED proposal with metadata decodes to ResultRecordMetadata and re-encodes", () =>
    Effect.gen(function*() {
      const doc = fixture("completed-proposal.json")
      const proposal = yield* Wire.decodeStateCreate(doc.state)
      assert.strictEqual(proposal.type, "COMPLETED")
      assert.strictEqual(proposal.name, "Completed")
      assert.strictEqual(proposal.stateDetails.transitionId, "9b0e6d44-3f7a-4d2e-b1c5-7a8e9f0a1b2c")
      assert.isTrue(ResultRecord.isResultRecordMetadata(proposal.data))
      const metadata = proposal.data as ResultRecord.ResultRecordMetadata
      assert.strictEqual(metadata.storageKey, storageKey)
      assert.strictEqual(metadata.expiration, null)
      assert.strictEqual(metadata.serializer.type, "json")
      assert.strictEqual(metadata.prefectVersion, "3.8.4")
      assert.strictEqual(metadata.storageBlockId, null)
      assertSameJson(yield* Wire.encodeStateCreate(proposal), doc.state)
      assertSameJson(yield* Wire.encodeStateCreate(proposal, { serializerFields: "full" }), doc.state)
    }))

  it.effect("the task-run variant: serializer reduced to its type", () =>
    Effect.gen(function*() {
      const doc = fixture("completed-proposal-task-run.json")
      const proposal = yield* Wire.decodeStateCreate(doc.state)
      assert.strictEqual(proposal.stateDetails.taskRunId, "0190c6a4-9c1d-7e2f-8a3b-4c5d6e7f8a9b")
      assert.strictEqual(proposal.stateDetails.transitionId, null)
      const metadata = proposal.data as ResultRecord.ResultRecordMetadata
      assert.isTrue(ResultRecord.isResultRecordMetadata(metadata))
      assert.strictEqual(metadata.serializer.type, "json")
      assertSameJson(yield* Wire.encodeStateCreate(proposal, { serializerFields: "typeOnly" }), doc.state)
      // the full form of the same proposal is the flow-run document's data
      const full = yield* Wire.encodeStateCreate(proposal)
      assertSameJson(full.data, fixture("completed-proposal.json").state.data)
    }))

  it.effect("the proposal documents are what toStateCreate + encodeStateCreate produce from a state", () =>
    Effect.gen(function*() {
      const flowDoc = fixture("completed-proposal.json")
      const taskDoc = fixture("completed-proposal-task-run.json")
      const metadata = yield* decodeMetadata(flowDoc.state.data)
      const flowState = State.Completed({
        data: persistedRecord(metadata, true),
        stateDetails: { flowRunId, transitionId: "9b0e6d44-3f7a-4d2e-b1c5-7a8e9f0a1b2c" }
      })
      assertSameJson(yield* Wire.encodeStateCreate(Wire.toStateCreate(flowState)), flowDoc.state)
      const taskState = State.Completed({
        data: persistedRecord(metadata, false),
        stateDetails: { taskRunId: "0190c6a4-9c1d-7e2f-8a3b-4c5d6e7f8a9b" }
      })
      assertSameJson(
        yield* Wire.encodeStateCreate(Wire.toStateCreate(taskState, { shouldPersistResult: true }), {
          serializerFields: "typeOnly"
        }),
        taskDoc.state
      )
    }))

  it.effect("an ACCEPT response decodes into a State and re-encodes in the server shape", () =>
    Effect.gen(function*() {
      const doc = fixture("accept-response.json")
      const result = yield* Wire.decodeOrchestrationResult(doc)
      assert.strictEqual(result.status, "ACCEPT")
      assert.deepStrictEqual(result.details, { type: "accept_details" })
      const state = result.state!
      assert.isTrue(State.isState(state))
      assert.strictEqual(state._tag, "Completed")
      assert.strictEqual(state.id, "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e8f")
      assert.strictEqual(state.name, "Completed")
      assert.strictEqual(state.timestamp.epochMilliseconds, Date.UTC(2024, 0, 1, 12, 0, 3, 517))
      assert.strictEqual(state.message, null)
      assert.strictEqual(state.stateDetails.flowRunId, flowRunId)
      assert.strictEqual(state.stateDetails.deferred, false)
      assert.strictEqual(state.stateDetails.transitionId, "9b0e6d44-3f7a-4d2e-b1c5-7a8e9f0a1b2c")
      assert.isTrue(ResultRecord.isResultRecordMetadata(state.data))
      assert.strictEqual((state.data as ResultRecord.ResultRecordMetadata).storageKey, storageKey)
      assert.isNull(state.created)

      const reencoded = yield* Wire.encodeOrchestrationResult(result)
      // DateTime.Utc holds milliseconds: the microseconds 204 are truncated
      const expected = structuredClone(doc)
      expected.state.timestamp = "2024-01-01T12:00:03.517000Z"
      assert.deepStrictEqual(reencoded, expected)
      assert.deepStrictEqual(Object.keys(reencoded.state!), [
        "id",
        "type",
        "name",
        "timestamp",
        "message",
        "data",
        "state_details"
      ])
      assert.deepStrictEqual(Object.keys(reencoded.state!.state_details!), detailKeys)

      // the hand-written path and the schema agree
      const fast = yield* Wire.decodeStateResponse(doc.state)
      const viaSchema = yield* Schema.decodeUnknownEffect(Wire.StateResponse)(doc.state)
      assert.deepStrictEqual(yield* Wire.encodeStateResponse(fast), yield* Wire.encodeStateResponse(viaSchema))
      assert.strictEqual(fast.id, viaSchema.id)
    }))

  it.effect("a state in the client shape (created, updated, client key order) decodes too", () =>
    Effect.gen(function*() {
      const server = fixture("accept-response.json").state
      const client = {
        id: server.id,
        created: "2024-01-01T12:00:03.600000+00:00",
        updated: "2024-01-01T12:00:03.6Z",
        type: server.type,
        name: server.name,
        timestamp: server.timestamp,
        message: server.message,
        state_details: server.state_details,
        data: server.data
      }
      const state = yield* Wire.decodeStateResponse(client)
      assert.strictEqual(millis(state.created), ms("2024-01-01T12:00:03.600Z"))
      assert.strictEqual(millis(state.updated), ms("2024-01-01T12:00:03.600Z"))
      assert.deepStrictEqual(yield* Wire.encodeStateResponse(state), {
        ...server,
        timestamp: "2024-01-01T12:00:03.517000Z"
      })
    }))

  it.effect("metadata (JSON serializer, with expiration) as state data", () =>
    Effect.gen(function*() {
      const record = fixture("result-record-json.json")
      const state = yield* Wire.decodeStateResponse({ type: "COMPLETED", data: record.metadata })
      const metadata = state.data as ResultRecord.ResultRecordMetadata
      assert.isTrue(ResultRecord.isResultRecordMetadata(metadata))
      assert.strictEqual(metadata.storageKey, "/root/.prefect/storage/the-key")
      assert.strictEqual(millis(metadata.expiration), Date.UTC(2024, 0, 2, 3, 4, 5, 678))
      const encoded = yield* Wire.encodeStateResponse(state)
      assertSameJson(encoded.data, { ...record.metadata, expiration: "2024-01-02T03:04:05.678000Z" })
    }))

  it.effect("metadata (pickle serializer) as state data re-encodes exactly", () =>
    Effect.gen(function*() {
      const record = fixture("result-record-pickle.json")
      const state = yield* Wire.decodeStateResponse({ type: "COMPLETED", data: record.metadata })
      const metadata = state.data as ResultRecord.ResultRecordMetadata
      assert.isTrue(ResultRecord.isResultRecordMetadata(metadata))
      assert.strictEqual(metadata.serializer.type, "pickle")
      assertSameJson((yield* Wire.encodeStateResponse(state)).data, record.metadata)
    }))
})

describe("StateDetailsJson", () => {
  it.effect("an empty object decodes to the empty details; unknown keys are ignored", () =>
    Effect.gen(function*() {
      const details = yield* Wire.decodeStateDetails({ unknown: 1, another: { deep: true } })
      assert.deepStrictEqual({ ...details }, { ...StateDetails.empty })
      assert.isFalse("unknown" in details)
    }))

  it.effect("encodes all eighteen keys in Prefect's order with nulls", () =>
    Effect.gen(function*() {
      const encoded = yield* Wire.encodeStateDetails(StateDetails.empty)
      assert.deepStrictEqual(Object.keys(encoded), detailKeys)
      assert.strictEqual(encoded.untrackable_result, false)
      assert.strictEqual(encoded.pause_reschedule, false)
      assert.strictEqual(encoded.deferred, null)
      assert.strictEqual(encoded.flow_run_id, null)
    }))

  it.effect("UUIDs: any case, hyphenated or not, come out lowercase hyphenated", () =>
    Effect.gen(function*() {
      const details = yield* Wire.decodeStateDetails({
        flow_run_id: "0190C6A4-7B2E-7D3C-9A1F-2B3C4D5E6F70",
        task_run_id: "0190c6a47b2e7d3c9a1f2b3c4d5e6f70"
      })
      assert.strictEqual(details.flowRunId, flowRunId)
      assert.strictEqual(details.taskRunId, flowRunId)
      const encoded = yield* Wire.encodeStateDetails(
        StateDetails.make({ transitionId: "5F1C2D3E-4A5B-4C6D-8E7F-901A2B3C4D5E" })
      )
      assert.strictEqual(encoded.transition_id, "5f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e")
    }))

  it.effect("bad UUIDs fail at their path", () =>
    Effect.gen(function*() {
      yield* expectWireError(Wire.decodeStateDetails({ flow_run_id: "not-a-uuid" }), ["flow_run_id"])
      yield* expectWireError(Wire.decodeStateDetails({ transition_id: 42 }), ["transition_id"])
      yield* expectWireError(
        Wire.decodeStateDetails({ deployment_concurrency_lease_id: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f7" }),
        ["deployment_concurrency_lease_id"]
      )
      yield* expectWireError(Wire.encodeStateDetails(StateDetails.make({ flowRunId: "x" })), ["flow_run_id"])
    }))

  it.effect("datetimes: 0–6 fraction digits, Z or ±HH:MM", () =>
    Effect.gen(function*() {
      const cases: Array<[string, number]> = [
        ["2024-01-01T12:00:00Z", Date.UTC(2024, 0, 1, 12)],
        ["2024-01-01T12:00:00.5Z", Date.UTC(2024, 0, 1, 12, 0, 0, 500)],
        ["2024-01-01T12:00:00.12Z", Date.UTC(2024, 0, 1, 12, 0, 0, 120)],
        ["2024-01-01T12:00:00.123Z", Date.UTC(2024, 0, 1, 12, 0, 0, 123)],
        ["2024-01-01T12:00:00.1234Z", Date.UTC(2024, 0, 1, 12, 0, 0, 123)],
        ["2024-01-01T12:00:00.999999Z", Date.UTC(2024, 0, 1, 12, 0, 0, 999)],
        ["2024-01-01T12:00:00+00:00", Date.UTC(2024, 0, 1, 12)],
        ["2024-01-01T12:00:00.000001-00:00", Date.UTC(2024, 0, 1, 12)],
        ["2024-01-01T17:30:00+05:30", Date.UTC(2024, 0, 1, 12)],
        ["2024-01-01T07:00:00-05:00", Date.UTC(2024, 0, 1, 12)],
        ["2024-02-29T00:00:00Z", Date.UTC(2024, 1, 29)],
        ["0001-01-01T00:00:00Z", -62135596800000]
      ]
      for (const [text, expected] of cases) {
        const details = yield* Wire.decodeStateDetails({ scheduled_time: text })
        assert.strictEqual(millis(details.scheduledTime), expected, text)
      }
    }))

  it.effect("invalid datetimes fail at their path", () =>
    Effect.gen(function*() {
      for (
        const text of [
          "2024-01-01T12:00:00+01",
          "2024-13-01T12:00:00Z",
          "2023-02-29T12:00:00Z",
          "2024-01-01T24:00:00Z",
          "2024-01-01T12:00:00+24:00",
          "2024-01-01T12:00:00Z ",
          "yesterday",
          ""
        ]
      ) {
        const error = yield* expectWireError(Wire.decodeStateDetails({ cache_expiration: text }), [
          "cache_expiration"
        ])
        assert.include(error.message, "ISO 8601")
      }
      yield* expectWireError(Wire.decodeStateDetails({ pause_timeout: 1e20 }), ["pause_timeout"])
      yield* expectWireError(Wire.decodeStateDetails({ pause_timeout: true }), ["pause_timeout"])
    }))

  it.effect("datetimes encode as Python isoformat with Z", () =>
    Effect.gen(function*() {
      const encoded = yield* Wire.encodeStateDetails(
        StateDetails.make({
          scheduledTime: utc("2024-01-01T12:00:00Z"),
          pauseTimeout: utc("2024-01-02T03:04:05.678Z")
        })
      )
      assert.strictEqual(encoded.scheduled_time, "2024-01-01T12:00:00Z")
      assert.strictEqual(encoded.pause_timeout, "2024-01-02T03:04:05.678000Z")
    }))

  it.effect("booleans, strings and the run-input keyset are type-checked", () =>
    Effect.gen(function*() {
      yield* expectWireError(Wire.decodeStateDetails({ untrackable_result: null }), ["untrackable_result"])
      yield* expectWireError(Wire.decodeStateDetails({ deferred: "yes" }), ["deferred"])
      yield* expectWireError(Wire.decodeStateDetails({ cache_key: 3 }), ["cache_key"])
      yield* expectWireError(Wire.decodeStateDetails({ run_input_keyset: { schema: 1 } }), [
        "run_input_keyset",
        "schema"
      ])
      yield* expectWireError(Wire.decodeStateDetails([]), [])
      const details = yield* Wire.decodeStateDetails({
        run_input_keyset: { schema: "a", response: "b", description: "c" },
        retriable: false,
        deferred: true,
        pause_reschedule: true
      })
      assert.deepStrictEqual(details.runInputKeyset, { schema: "a", response: "b", description: "c" })
      assert.strictEqual(details.retriable, false)
      assert.strictEqual(details.deferred, true)
      assert.strictEqual(details.pauseReschedule, true)
    }))
})

describe("StateCreate", () => {
  it.effect("rejects unknown keys like Prefect's server (422)", () =>
    Effect.gen(function*() {
      const error = yield* expectWireError(
        Wire.decodeStateCreate({ type: "RUNNING", id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e8f" }),
        ["id"]
      )
      assert.include(error.message, "Unexpected key")
      yield* expectWireError(Wire.decodeStateCreate({ type: "RUNNING", timestamp: "2024-01-01T00:00:00Z" }), [
        "timestamp"
      ])
      // unknown keys inside state_details are ignored, as Prefect does
      const ok = yield* Wire.decodeStateCreate({ type: "RUNNING", state_details: { foo: 1 } })
      assert.strictEqual(ok.type, "RUNNING")
    }))

  it.effect("requires a known type", () =>
    Effect.gen(function*() {
      yield* expectWireError(Wire.decodeStateCreate({ name: "x" }), ["type"])
      yield* expectWireError(Wire.decodeStateCreate({ type: "running" }), ["type"])
      yield* expectWireError(Wire.decodeStateCreate("RUNNING"), [])
      yield* expectWireError(Wire.decodeStateCreate(null), [])
    }))

  it.effect("applies the default name (null and missing) and keeps an empty one", () =>
    Effect.gen(function*() {
      for (const type of StateType.all) {
        assert.strictEqual((yield* Wire.decodeStateCreate({ type, name: null })).name, StateType.defaultName(type))
        assert.strictEqual((yield* Wire.decodeStateCreate({ type })).name, StateType.defaultName(type))
      }
      assert.strictEqual((yield* Wire.decodeStateCreate({ type: "COMPLETED", name: "" })).name, "")
    }))

  it.effect("applies the default scheduled time from Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2030, 5, 1))
      const proposal = yield* Wire.decodeStateCreate({ type: "SCHEDULED" })
      assert.strictEqual(millis(proposal.stateDetails.scheduledTime), Date.UTC(2030, 5, 1))
      const running = yield* Wire.decodeStateCreate({ type: "RUNNING" })
      assert.strictEqual(running.stateDetails.scheduledTime, null)
      const given = yield* Wire.decodeStateCreate({
        type: "SCHEDULED",
        state_details: { scheduled_time: "2024-01-01T00:00:00Z" }
      })
      assert.strictEqual(millis(given.stateDetails.scheduledTime), Date.UTC(2024, 0, 1))
    }))

  it.effect("encodes exactly type, name, message, state_details, data — never more", () =>
    Effect.gen(function*() {
      const state = State.Failed({ message: "boom", data: { x: 1 } })
      // a State has id, timestamp, _tag, ...: none of it may leak into the payload
      const encoded = yield* Wire.encodeStateCreate(state as unknown as Wire.StateCreate)
      assert.deepStrictEqual(Object.keys(encoded), ["type", "name", "message", "state_details", "data"])
      assert.strictEqual(encoded.message, "boom")
      const fromProposal = yield* Wire.encodeStateCreate(Wire.toStateCreate(state))
      assert.deepStrictEqual(Object.keys(fromProposal), ["type", "name", "message", "state_details", "data"])
      assert.strictEqual(fromProposal.data, null)
    }))

  it.effect("encoding fails with a typed error for non-JSON data", () =>
    Effect.gen(function*() {
      const proposal: Wire.StateCreate = {
        type: "COMPLETED",
        name: "Completed",
        message: null,
        stateDetails: StateDetails.empty,
        data: new Error("x") as never
      }
      const error = yield* expectWireError(Wire.encodeStateCreate(proposal), ["data"])
      assert.strictEqual(error.operation, "encode")
    }))

  it.effect("JSON data other than metadata decodes as is", () =>
    Effect.gen(function*() {
      const data = { a: [1, 2, { b: null }], storage: "not a key" }
      assert.strictEqual((yield* Wire.decodeStateCreate({ type: "COMPLETED", data })).data, data)
      assert.deepStrictEqual((yield* Wire.decodeStateCreate({ type: "COMPLETED", data: [1, "x"] })).data, [1, "x"])
      assert.strictEqual((yield* Wire.decodeStateCreate({ type: "COMPLETED", data: "text" })).data, "text")
    }))
})

describe("StateResponse", () => {
  const base = {
    id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e8f",
    type: "RUNNING",
    name: "Running",
    timestamp: "2024-01-01T12:00:03.517204Z",
    message: "hi",
    data: null,
    state_details: { flow_run_id: flowRunId }
  }

  it.effect("decodes every state type and any name", () =>
    Effect.gen(function*() {
      for (const type of StateType.all) {
        const state = yield* Wire.decodeStateResponse({ ...base, type, name: "SomethingNew" })
        assert.strictEqual(state.type, type)
        assert.strictEqual(state.name, "SomethingNew")
        assert.strictEqual(state.message, "hi")
      }
    }))

  it.effect("unknown types fail with the path", () =>
    Effect.gen(function*() {
      const error = yield* expectWireError(Wire.decodeStateResponse({ ...base, type: "DONE" }), ["type"])
      assert.include(error.message, "StateResponse")
      yield* expectWireError(Wire.decodeStateResponse({ ...base, type: undefined }), ["type"])
    }))

  it.effect("name null → from the type; SCHEDULED without a time → now; no timestamp → now", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2031, 0, 1))
      const state = yield* Wire.decodeStateResponse({ type: "SCHEDULED", name: null })
      assert.strictEqual(state.name, "Scheduled")
      assert.strictEqual(millis(state.stateDetails.scheduledTime), Date.UTC(2031, 0, 1))
      assert.strictEqual(state.timestamp.epochMilliseconds, Date.UTC(2031, 0, 1))
      const viaSchema = yield* Schema.decodeUnknownEffect(Wire.StateResponse)({ type: "SCHEDULED", name: null })
      assert.strictEqual(millis(viaSchema.stateDetails.scheduledTime), Date.UTC(2031, 0, 1))
    }))

  it.effect("timestamp with microseconds; id normalised", () =>
    Effect.gen(function*() {
      const state = yield* Wire.decodeStateResponse({ ...base, id: base.id.toUpperCase() })
      assert.strictEqual(state.timestamp.epochMilliseconds, Date.UTC(2024, 0, 1, 12, 0, 3, 517))
      assert.strictEqual(state.id, base.id)
    }))

  it.effect("data: unpersisted → null, JSON kept, storage_key → metadata, bad metadata fails", () =>
    Effect.gen(function*() {
      const unpersisted = yield* Wire.decodeStateResponse({ ...base, data: { type: "unpersisted" } })
      assert.strictEqual(unpersisted.data, null)
      const payload = { type: "reference", value: [1, 2, 3] }
      assert.strictEqual((yield* Wire.decodeStateResponse({ ...base, data: payload })).data, payload)
      assert.strictEqual((yield* Wire.decodeStateResponse({ ...base, data: 3.5 })).data, 3.5)
      const withMetadata = yield* Wire.decodeStateResponse({
        ...base,
        data: { storage_key: "k", serializer: { type: "json" }, prefect_version: "3.8.4" }
      })
      assert.isTrue(ResultRecord.isResultRecordMetadata(withMetadata.data))
      yield* expectWireError(Wire.decodeStateResponse({ ...base, data: { storage_key: 42 } }), ["data"])
    }))

  it.effect("wrong field types fail at their path", () =>
    Effect.gen(function*() {
      yield* expectWireError(Wire.decodeStateResponse({ ...base, message: 1 }), ["message"])
      yield* expectWireError(Wire.decodeStateResponse({ ...base, timestamp: "now" }), ["timestamp"])
      yield* expectWireError(Wire.decodeStateResponse({ ...base, id: "x" }), ["id"])
      yield* expectWireError(
        Wire.decodeStateResponse({ ...base, state_details: { flow_run_id: "x" } }),
        ["state_details", "flow_run_id"]
      )
      yield* expectWireError(Wire.decodeStateResponse({ ...base, state_details: null }), ["state_details"])
    }))

  it.effect("decodeStateResponses: a list in order, metadata and defaults included; the first bad one fails", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2031, 0, 1))
      assert.deepStrictEqual(yield* Wire.decodeStateResponses([]), [])
      const metadata = { storage_key: "k", serializer: { type: "json" }, prefect_version: "3.8.4" }
      const states = yield* Wire.decodeStateResponses([
        base,
        { ...base, type: "COMPLETED", data: metadata },
        { type: "SCHEDULED" },
        { ...base, id: base.id.toUpperCase(), data: { type: "unpersisted" } }
      ])
      assert.deepStrictEqual(states.map((s) => s.type), ["RUNNING", "COMPLETED", "SCHEDULED", "RUNNING"])
      assert.isTrue(ResultRecord.isResultRecordMetadata(states[1]!.data))
      assert.strictEqual(millis(states[2]!.stateDetails.scheduledTime), Date.UTC(2031, 0, 1))
      assert.strictEqual(states[2]!.timestamp.epochMilliseconds, Date.UTC(2031, 0, 1))
      assert.strictEqual(states[3]!.id, base.id)
      assert.strictEqual(states[3]!.data, null)
      yield* expectWireError(
        Wire.decodeStateResponses([base, { ...base, data: { storage_key: 42 } }, { ...base, type: "DONE" }]),
        ["data"]
      )
      yield* expectWireError(Wire.decodeStateResponses([base, { ...base, type: "DONE" }]), ["type"])
    }))
})

describe("OrchestrationResult", () => {
  const state = fixture("accept-response.json").state

  it.effect("decodes every status and details type", () =>
    Effect.gen(function*() {
      const reject = yield* Wire.decodeOrchestrationResult({
        state,
        status: "REJECT",
        details: { type: "reject_details", reason: "no" }
      })
      assert.deepStrictEqual(reject.details, { type: "reject_details", reason: "no" })
      const abort = yield* Wire.decodeOrchestrationResult({
        state: null,
        status: "ABORT",
        details: { type: "abort_details" }
      })
      assert.strictEqual(abort.state, null)
      assert.deepStrictEqual(abort.details, { type: "abort_details", reason: null })
      const wait = yield* Wire.decodeOrchestrationResult({
        state: null,
        status: "WAIT",
        details: { type: "wait_details", delay_seconds: 30, reason: "slots" }
      })
      assert.deepStrictEqual(wait.details, { type: "wait_details", delaySeconds: 30, reason: "slots" })
      const encoded = yield* Wire.encodeOrchestrationResult(wait)
      assert.deepStrictEqual(encoded, {
        state: null,
        status: "WAIT",
        details: { type: "wait_details", delay_seconds: 30, reason: "slots" }
      })
    }))

  it.effect("bad envelopes fail at their path", () =>
    Effect.gen(function*() {
      yield* expectWireError(
        Wire.decodeOrchestrationResult({ state: null, status: "MAYBE", details: { type: "accept_details" } }),
        ["status"]
      )
      yield* expectWireError(
        Wire.decodeOrchestrationResult({
          state: null,
          status: "WAIT",
          details: { type: "wait_details", delay_seconds: 1.5 }
        }),
        ["details", "delay_seconds"]
      )
      yield* expectWireError(
        Wire.decodeOrchestrationResult({ state: { ...state, type: "X" }, status: "ACCEPT", details: state }),
        ["state", "type"]
      )
    }))
})

describe("Wire.toStateCreate", () => {
  it.effect("data is the record's metadata only when persisted or shouldPersistResult", () =>
    Effect.gen(function*() {
      const metadata = yield* decodeMetadata(fixture("completed-proposal.json").state.data)
      const persisted = State.Completed({ data: persistedRecord(metadata, true) })
      const unpersisted = State.Completed({ data: persistedRecord(metadata, false) })
      assert.strictEqual(Wire.toStateCreate(persisted).data, metadata)
      assert.strictEqual(Wire.toStateCreate(unpersisted).data, null)
      assert.strictEqual(Wire.toStateCreate(unpersisted, { shouldPersistResult: true }).data, metadata)
      assert.strictEqual(Wire.toStateCreate(unpersisted, { shouldPersistResult: false }).data, null)
      // metadata itself, raw values and errors are never sent
      assert.strictEqual(Wire.toStateCreate(State.Completed({ data: metadata })).data, null)
      assert.strictEqual(Wire.toStateCreate(State.Completed({ data: 42 }), { shouldPersistResult: true }).data, null)
      assert.strictEqual(Wire.toStateCreate(State.Failed({ data: new Error("x") })).data, null)
    }))

  it("copies type, name, message and the same details; no id or timestamp", () => {
    const state = State.Late({ message: "behind", stateDetails: { flowRunId } })
    const proposal = Wire.toStateCreate(state)
    assert.deepStrictEqual(Object.keys(proposal).sort(), ["data", "message", "name", "stateDetails", "type"])
    assert.strictEqual(proposal.type, "SCHEDULED")
    assert.strictEqual(proposal.name, "Late")
    assert.strictEqual(proposal.message, "behind")
    assert.strictEqual(proposal.stateDetails, state.stateDetails)
  })

  const uuid = fc.uuid().map((u) => u.toLowerCase())
  const instant = fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }).map((n) =>
    DateTime.makeUnsafe(n)
  )
  const details = fc.record({
    flowRunId: fc.option(uuid, { nil: null }),
    taskRunId: fc.option(uuid, { nil: null }),
    childFlowRunId: fc.option(uuid, { nil: null }),
    scheduledTime: fc.option(instant, { nil: null }),
    cacheKey: fc.option(fc.string(), { nil: null }),
    cacheExpiration: fc.option(instant, { nil: null }),
    deferred: fc.option(fc.boolean(), { nil: null }),
    untrackableResult: fc.boolean(),
    pauseTimeout: fc.option(instant, { nil: null }),
    pauseReschedule: fc.boolean(),
    pauseKey: fc.option(fc.string(), { nil: null }),
    runInputKeyset: fc.option(fc.dictionary(fc.string(), fc.string()), { nil: null }),
    refreshCache: fc.option(fc.boolean(), { nil: null }),
    retriable: fc.option(fc.boolean(), { nil: null }),
    transitionId: fc.option(uuid, { nil: null }),
    taskParametersId: fc.option(uuid, { nil: null }),
    traceparent: fc.option(fc.string(), { nil: null }),
    deploymentConcurrencyLeaseId: fc.option(uuid, { nil: null })
  })
  const stateArb = fc.record({
    type: fc.constantFrom(...StateType.all),
    name: fc.option(fc.string(), { nil: null }),
    message: fc.option(fc.string(), { nil: null }),
    details,
    data: fc.option(fc.jsonValue(), { nil: null })
  }).map((r) =>
    State.make({
      type: r.type,
      name: r.name,
      message: r.message,
      stateDetails: r.details,
      data: r.data,
      timestamp: new Date(0)
    })
  )

  it("round trip: decodeStateCreate(encode(toStateCreate(s))) keeps type, name, message, details", () => {
    fc.assert(
      fc.property(stateArb, (state) => {
        const proposal = Wire.toStateCreate(state)
        const program = Effect.gen(function*() {
          const json = yield* Wire.encodeStateCreate(proposal)
          // through text, as on the wire
          const back = yield* Wire.decodeStateCreate(JSON.parse(JSON.stringify(json)))
          assert.strictEqual(back.type, state.type)
          assert.strictEqual(back.name, state.name)
          assert.strictEqual(back.message, state.message)
          assert.strictEqual(back.data, null)
          assert.deepStrictEqual(
            yield* Wire.encodeStateDetails(back.stateDetails),
            yield* Wire.encodeStateDetails(state.stateDetails)
          )
        })
        const exit = Effect.runSyncExit(program)
        if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
      }),
      { seed, numRuns: 300 }
    )
  })

  it.effect("round trip keeps metadata data", () =>
    Effect.gen(function*() {
      const metadata = yield* decodeMetadata(fixture("completed-proposal.json").state.data)
      const state = State.Completed({ data: persistedRecord(metadata, true), message: "done" })
      const back = yield* Wire.decodeStateCreate(yield* Wire.encodeStateCreate(Wire.toStateCreate(state)))
      assert.strictEqual(back.message, "done")
      assert.isTrue(ResultRecord.isResultRecordMetadata(back.data))
      assert.deepStrictEqual(ResultRecord.metadataToJson(back.data as any), ResultRecord.metadataToJson(metadata))
    }))
})

describe("WireError", () => {
  it.effect("is typed, names the codec and the path, and does not copy huge inputs", () =>
    Effect.gen(function*() {
      const huge = "x".repeat(1_000_000)
      const error = yield* expectWireError(
        Wire.decodeStateResponse({ type: "RUNNING", state_details: { scheduled_time: huge } }),
        ["state_details", "scheduled_time"]
      )
      assert.strictEqual(error.codec, "StateResponse")
      assert.strictEqual(error.operation, "decode")
      assert.isBelow(error.message.length, 1000)
    }))
})

describe("helpers", () => {
  it("normalizeUuid", () => {
    assert.strictEqual(Wire.normalizeUuid(flowRunId), flowRunId)
    assert.strictEqual(Wire.normalizeUuid(flowRunId.toUpperCase()), flowRunId)
    assert.strictEqual(Wire.normalizeUuid(flowRunId.replace(/-/g, "")), flowRunId)
    assert.strictEqual(Wire.normalizeUuid("0190c6a4-7b2e7d3c-9a1f-2b3c4d5e6f70"), undefined)
    assert.strictEqual(Wire.normalizeUuid("g190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"), undefined)
    assert.strictEqual(Wire.normalizeUuid(""), undefined)
  })

  it("isJson", () => {
    assert.isTrue(Wire.isJson({ a: [1, "x", null, true, { b: {} }] }))
    assert.isFalse(Wire.isJson({ a: undefined }))
    assert.isFalse(Wire.isJson([1, NaN]))
    assert.isFalse(Wire.isJson(new Date()))
    assert.isFalse(Wire.isJson(() => 1))
    assert.isFalse(Wire.isJson(new Array(3)))
    const cyclic: any = { a: {} }
    cyclic.a.self = cyclic
    assert.isFalse(Wire.isJson(cyclic))
    const shared = { x: 1 }
    assert.isTrue(Wire.isJson([shared, shared]))
  })
})
