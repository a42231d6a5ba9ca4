import { assert, describe, it } from "@effect/vitest"
import * as ResultRecord from "@runstate/core/ResultRecord"
import * as Wire from "@runstate/core/Wire"
import { Effect, Exit } from "effect"
import { readFileSync } from "node:fs"
import { parseEpochMillis } from "../src/internal/isoDate.ts"
import * as PyJson from "../src/internal/pythonJson.ts"
import { parseDateTimeValue } from "../src/internal/scalars.ts"

// What pydantic 2 (the validator of Prefect's models) makes of each input; written by
// fixtures/wire/pydantic-scalars.py. A datetime is epoch milliseconds (naive read as UTC),
// a UUID its str(); null = rejected.
const pydantic: {
  readonly pydantic: string
  readonly datetimes: ReadonlyArray<readonly [string | number, number | null]>
  readonly uuids: ReadonlyArray<readonly [string, string | null]>
} = JSON.parse(readFileSync(new URL("./fixtures/wire/pydantic-scalars.json", import.meta.url), "utf8"))

const orNull = (ms: number | undefined): number | null => ms === undefined || Number.isNaN(ms) ? null : ms

describe("datetimes: one parser, pydantic's rules", () => {
  it("every datetime input reads as pydantic reads it", () => {
    assert.isAbove(pydantic.datetimes.length, 60)
    for (const [input, expected] of pydantic.datetimes) {
      assert.strictEqual(orNull(parseDateTimeValue(input)), expected, JSON.stringify(input))
      if (typeof input === "string") {
        assert.strictEqual(orNull(Wire.parseDateTimeMillis(input)), expected, `Wire ${JSON.stringify(input)}`)
        assert.strictEqual(orNull(parseEpochMillis(input)), expected, `isoDate ${JSON.stringify(input)}`)
      }
    }
  })

  it("a naive datetime is UTC, in the wire codecs and in records alike (they used to disagree)", () => {
    const naive = "2024-01-01T12:00:03"
    const utc = Date.UTC(2024, 0, 1, 12, 0, 3)
    assert.strictEqual(Wire.parseDateTimeMillis(naive), utc)
    assert.strictEqual(parseEpochMillis(naive), utc)
    const details = Effect.runSync(Wire.decodeStateDetails({ scheduled_time: naive }))
    assert.strictEqual(details.scheduledTime?.epochMilliseconds, utc)
    const metadata = Effect.runSync(ResultRecord.metadataFromJson({
      storage_key: "k",
      expiration: naive,
      serializer: { type: "json" },
      prefect_version: "3.8.4",
      storage_block_id: null
    }))
    assert.strictEqual(metadata.expiration?.epochMilliseconds, utc)
  })

  it("nine fraction digits are truncated, in the wire codecs and in records alike (they used to disagree)", () => {
    const text = "2024-01-01T12:00:03.123456789Z"
    const ms = Date.UTC(2024, 0, 1, 12, 0, 3, 123)
    assert.strictEqual(Wire.parseDateTimeMillis(text), ms)
    assert.strictEqual(parseEpochMillis(text), ms)
    assert.strictEqual(
      Effect.runSync(Wire.decodeStateDetails({ pause_timeout: text })).pauseTimeout?.epochMilliseconds,
      ms
    )
  })

  it("numeric datetimes (Prefect's client sends float seconds) decode in every codec", () => {
    const seconds = 1704164645.5
    const ms = 1704164645500
    const details = Effect.runSync(Wire.decodeStateDetails({ scheduled_time: seconds, pause_timeout: 1704164645 }))
    assert.strictEqual(details.scheduledTime?.epochMilliseconds, ms)
    assert.strictEqual(details.pauseTimeout?.epochMilliseconds, 1704164645000)
    const proposal = Effect.runSync(
      Wire.decodeStateCreate({ type: "SCHEDULED", state_details: { scheduled_time: seconds } })
    )
    assert.strictEqual(proposal.stateDetails.scheduledTime?.epochMilliseconds, ms)
    const doc = {
      id: "0190c6a5-0a11-7c3d-8e2f-3a4b5c6d7e8f",
      type: "SCHEDULED",
      timestamp: seconds,
      created: seconds,
      state_details: { scheduled_time: seconds }
    }
    for (
      const state of [
        Effect.runSync(Wire.decodeStateResponse(doc)),
        Effect.runSync(Wire.decodeStateResponses([doc]))[0]!
      ]
    ) {
      assert.strictEqual(state.timestamp.epochMilliseconds, ms)
      assert.strictEqual(state.created?.epochMilliseconds, ms)
      assert.strictEqual(state.stateDetails.scheduledTime?.epochMilliseconds, ms)
    }
    // encoding always writes ISO text
    const json = Effect.runSync(Wire.encodeStateDetails(details))
    assert.strictEqual(json.scheduled_time, "2024-01-02T03:04:05.500000Z")
    // out of pydantic's range: a typed error
    assert.isTrue(Exit.isFailure(Effect.runSyncExit(Wire.decodeStateDetails({ scheduled_time: 1e20 }))))
  })
})

describe("UUIDs: one normalizer, pydantic's rules", () => {
  it("every UUID input reads as pydantic reads it, in Wire and in Python JSON alike", () => {
    assert.isAbove(pydantic.uuids.length, 15)
    for (const [input, expected] of pydantic.uuids) {
      assert.strictEqual(Wire.normalizeUuid(input) ?? null, expected, `Wire ${JSON.stringify(input)}`)
      assert.strictEqual(PyJson.normalizeUuid(input) ?? null, expected, `pythonJson ${JSON.stringify(input)}`)
    }
  })

  it("braces: accepted around the hyphenated form only (the two normalizers used to disagree)", () => {
    const uuid = "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"
    for (const normalize of [Wire.normalizeUuid, PyJson.normalizeUuid]) {
      assert.strictEqual(normalize(`{${uuid}}`), uuid)
      assert.strictEqual(normalize(`{${uuid.replace(/-/g, "")}}`), undefined)
      assert.strictEqual(normalize(`{${uuid}`), undefined)
    }
    assert.strictEqual(
      Effect.runSync(Wire.decodeStateDetails({ flow_run_id: `{${uuid.toUpperCase()}}` })).flowRunId,
      uuid
    )
  })
})
