/**
 * The run-history conformance suite: the same tests against `RunLog.makeKeyValueStore`
 * over any `KeyValueStore` (memory here; files, Redis and PostgreSQL in
 * packages/node/test/RunLogStorage.test.ts). `store` must give, each time it is
 * built, a handle on the same storage, so that a history written through one
 * handle can be read back through a fresh one (as by another process).
 */
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Equal, Layer } from "effect"
import { KeyValueStore } from "effect/persistence"
import { ResultRecord, RunError, RunLog, Serializer, State } from "@runstate/core"

const at = (s: number) => DateTime.makeUnsafe(Date.UTC(2026, 0, 1, 12, 0, s)) as DateTime.Utc

let prefixes = 0
/** A prefix of its own for each test, so tests can share one storage. */
const freshPrefix = () => `t${Date.now().toString(36)}-${prefixes++}/`

/** A UUID standing for `name` (run ids in states are UUIDs on the wire). */
export const uuidOf = (name: string): string => {
  let h = 0n
  for (const ch of name) h = (h * 131n + BigInt(ch.codePointAt(0)!)) % (1n << 48n)
  return `00000000-0000-4000-8000-${h.toString(16).padStart(12, "0")}`
}

/** The task lifecycle Pending → Running → AwaitingRetry → Retrying → Completed of one run. */
export const lifecycle = (runId: string, options?: { readonly flowRunId?: string; readonly name?: string }) => {
  const record = ResultRecord.make({
    metadata: ResultRecord.makeMetadata({ storageKey: `key-${runId}`, serializer: Serializer.json }),
    result: { rows: [1, 2, 3], runId },
    persisted: true
  })
  const details = {
    taskRunId: uuidOf(runId),
    flowRunId: options?.flowRunId === undefined ? null : uuidOf(options.flowRunId)
  }
  const states: Array<State.State<unknown>> = [
    State.Pending({ timestamp: at(0), stateDetails: details }),
    State.Running({ timestamp: at(1), stateDetails: details }),
    State.AwaitingRetry({
      timestamp: at(2),
      scheduledTime: at(3),
      message: "Task run encountered an exception ValueError: boom",
      stateDetails: details
    }),
    State.Retrying({ timestamp: at(3), stateDetails: details }),
    State.Completed({ timestamp: at(4), data: record, stateDetails: details })
  ]
  let runCount = 0
  return states.map((to, i): RunLog.Transition => {
    if (to.type === "RUNNING") runCount++
    return {
      runId,
      kind: "task",
      name: options?.name ?? `task-${runId}`,
      flowRunId: options?.flowRunId,
      runCount,
      from: i === 0 ? undefined : states[i - 1],
      to
    }
  })
}

/** A persisted record reads back as its metadata (its value is in the result store, not copied into the history). */
const asRecorded = (s: State.State<unknown>): State.State<unknown> =>
  ResultRecord.isResultRecord(s.data) && s.data.persisted ? State.update(s, { data: s.data.metadata as unknown }) : s

const sameState = (a: State.State<unknown> | undefined, b: State.State<unknown> | undefined) => {
  if (a === undefined || b === undefined) return assert.strictEqual(a, b)
  assert.isTrue(Equal.equals(asRecorded(a), asRecorded(b)), `${State.inspect(a)} ≠ ${State.inspect(b)}`)
  assert.strictEqual(a.id, b.id)
  assert.strictEqual(a.name, b.name)
}

export const sameTransitions = (
  actual: ReadonlyArray<RunLog.Transition>,
  expected: ReadonlyArray<RunLog.Transition>
) => {
  assert.strictEqual(actual.length, expected.length)
  actual.forEach((t, i) => {
    const e = expected[i]!
    assert.deepStrictEqual([t.runId, t.kind, t.name, t.flowRunId, t.runCount], [
      e.runId,
      e.kind,
      e.name,
      e.flowRunId,
      e.runCount
    ])
    sameState(t.from, e.from)
    sameState(t.to, e.to)
  })
}

export const runLogSuite = (name: string, store: Layer.Layer<KeyValueStore.KeyValueStore, unknown>) =>
  describe(`RunLog.makeKeyValueStore over ${name}`, () => {
    /** A history over a fresh handle on the storage (open until the test ends). */
    const open = (prefix: string) =>
      Effect.flatMap(
        Layer.build(store),
        (context) => RunLog.makeKeyValueStore({ prefix }).pipe(Effect.provideContext(context))
      )

    it.effect("a history written through one handle reads back equal through a fresh one", () =>
      Effect.gen(function*() {
        const prefix = freshPrefix()
        const writer = yield* open(prefix)
        const transitions = lifecycle("run-a")
        for (const t of transitions) yield* writer.record(t)
        const reader = yield* open(prefix)
        sameTransitions(yield* reader.history("run-a"), transitions)
        // The final state's persisted record reads back as its metadata: the value is in the result store.
        const last = (yield* reader.history("run-a"))[4]!.to.data
        assert.isTrue(ResultRecord.isResultRecordMetadata(last))
        assert.strictEqual((last as ResultRecord.ResultRecordMetadata).storageKey, "key-run-a")
        assert.deepStrictEqual(yield* reader.history("unknown"), [])
      }))

    it.effect("runs(): every run once, in recording order, with its last state and count; filters by kind and flow run", () =>
      Effect.gen(function*() {
        const prefix = freshPrefix()
        const log = yield* open(prefix)
        const flowRunId = "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70"
        const flowRun: RunLog.Transition = {
          runId: flowRunId,
          kind: "flow",
          name: "etl",
          runCount: 1,
          from: undefined,
          to: State.Running({ timestamp: at(0) })
        }
        yield* log.record(flowRun)
        for (const t of lifecycle("t1", { flowRunId }).slice(0, 2)) yield* log.record(t)
        for (const t of lifecycle("t2")) yield* log.record(t)
        for (const t of lifecycle("t1", { flowRunId }).slice(2)) yield* log.record(t)
        const reader = yield* open(prefix)
        const all = yield* reader.runs()
        assert.deepStrictEqual(all.map((r) => [r.runId, r.kind, r.transitions, r.state.name]), [
          [flowRunId, "flow", 1, "Running"],
          ["t1", "task", 5, "Completed"],
          ["t2", "task", 5, "Completed"]
        ])
        assert.deepStrictEqual((yield* reader.runs({ kind: "task" })).map((r) => r.runId), ["t1", "t2"])
        assert.deepStrictEqual((yield* reader.runs({ kind: "flow" })).map((r) => r.runId), [flowRunId])
        assert.deepStrictEqual((yield* reader.runs({ flowRunId })).map((r) => r.runId), ["t1"])
        assert.deepStrictEqual((yield* reader.runs({ kind: "task", flowRunId })).map((r) => r.runId), ["t1"])
        assert.strictEqual((yield* reader.runs({ flowRunId }))[0]!.flowRunId, flowRunId)
      }))

    it.effect("concurrent appends of different runs are all kept, in each run's order", () =>
      Effect.gen(function*() {
        const prefix = freshPrefix()
        const runIds = Array.from({ length: 24 }, (_, i) => `concurrent-${i}`)
        // Two handles (as two processes) append at the same time.
        const a = yield* open(prefix)
        const b = yield* open(prefix)
        const expected = new Map(runIds.map((runId) => [runId, lifecycle(runId)]))
        yield* Effect.forEach(
          runIds,
          (runId, i) => Effect.forEach(expected.get(runId)!, (t) => (i % 2 === 0 ? a : b).record(t), { discard: true }),
          { concurrency: "unbounded", discard: true }
        )
        const reader = yield* open(prefix)
        for (const runId of runIds) sameTransitions(yield* reader.history(runId), expected.get(runId)!)
        const listed = yield* reader.runs()
        assert.deepStrictEqual(listed.map((r) => r.runId).sort(), [...runIds].sort())
        assert.isTrue(listed.every((r) => r.transitions === 5 && r.state.type === "COMPLETED"))
      }))

    it.effect("data of every kind reads back: JSON, metadata, records, errors, dates; names and messages as given", () =>
      Effect.gen(function*() {
        const prefix = freshPrefix()
        const log = yield* open(prefix)
        const metadata = ResultRecord.makeMetadata({
          storageKey: "/storage/x",
          serializer: Serializer.compressedJson({ compressionlib: "zlib" }),
          expiration: at(30)
        })
        const error = new Error("boom")
        error.name = "ValueError"
        const date = new Date(Date.UTC(2026, 1, 2))
        const unpersisted = ResultRecord.make({ metadata, result: { rows: 7 } })
        const persisted = ResultRecord.markPersisted(unpersisted)
        const datas: ReadonlyArray<unknown> = [
          { a: [1, "x", null] },
          "text",
          3.5,
          metadata,
          error,
          date,
          unpersisted,
          persisted
        ]
        const states = datas.map((data, i) =>
          State.make({ type: "FAILED", name: `F${i}`, message: "é ✓ \u0000 \"q\"", data, timestamp: at(i) })
        )
        for (const [i, to] of states.entries()) {
          yield* log.record({ runId: "data", kind: "task", name: "d", runCount: 1, from: states[i - 1], to })
        }
        const back = yield* (yield* open(prefix)).history("data")
        assert.deepStrictEqual(back[0]!.to.data, { a: [1, "x", null] })
        assert.strictEqual(back[1]!.to.data, "text")
        assert.strictEqual(back[2]!.to.data, 3.5)
        assert.isTrue(Equal.equals(back[3]!.to.data, metadata))
        const e = back[4]!.to.data as Error
        assert.deepStrictEqual([e instanceof Error, e.name, e.message], [true, "ValueError", "boom"])
        // The json serializer's rule: a Date reads back as a DateTime.Utc of the same instant.
        assert.strictEqual((back[5]!.to.data as DateTime.Utc).epochMilliseconds, date.getTime())
        // A record not yet persisted is kept whole (its value is nowhere else) ...
        const whole = back[6]!.to.data as ResultRecord.ResultRecord<unknown>
        assert.isTrue(ResultRecord.isResultRecord(whole))
        assert.deepStrictEqual([whole.result, whole.persisted], [{ rows: 7 }, false])
        // ... a persisted one as its metadata: its value stays in the result store, once.
        assert.isTrue(ResultRecord.isResultRecordMetadata(back[7]!.to.data))
        assert.isTrue(Equal.equals(back[7]!.to.data, metadata))
        assert.deepStrictEqual(back.map((t) => t.to.message), states.map((s) => s.message))
        assert.deepStrictEqual(back.map((t) => t.to.name), states.map((s) => s.name))
      }))
  })

/** The failure behaviour, over a memory store that can be made to fail. */
export const failingSuite = () =>
  describe("RunLog.makeKeyValueStore when storage fails", () => {
    it.effect("a failed write is a StorageError; the transition is kept and written with the next record", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore.pipe(Effect.provide(KeyValueStore.layerMemory))
        let failing = false
        const faulty = KeyValueStore.make({
          get: (key) => kv.get(key),
          getUint8Array: (key) => kv.getUint8Array(key),
          set: (key, value) =>
            failing
              ? Effect.fail(new KeyValueStore.KeyValueStoreError({ method: "set", key, message: "disk full" }))
              : kv.set(key, value),
          remove: (key) => kv.remove(key),
          clear: kv.clear,
          size: kv.size,
          keys: kv.keys
        })
        const log = yield* RunLog.makeKeyValueStore().pipe(Effect.provideService(KeyValueStore.KeyValueStore, faulty))
        const transitions = lifecycle("r1")
        for (const t of transitions.slice(0, 4)) yield* log.record(t)
        failing = true
        const error = yield* Effect.flip(log.record(transitions[4]!))
        assert.instanceOf(error, RunError.StorageError)
        assert.include(error.message, "Cannot write the history of run r1")
        assert.include(error.message, "disk full")
        // The final state is not lost: this process still answers it.
        sameTransitions(yield* log.history("r1"), transitions)
        assert.strictEqual((yield* log.runs())[0]!.state.type, "COMPLETED")
        // A fresh reader sees only what was written ...
        const fresh = yield* RunLog.makeKeyValueStore().pipe(Effect.provideService(KeyValueStore.KeyValueStore, kv))
        assert.strictEqual((yield* fresh.history("r1")).length, 4)
        // ... until the store recovers and the next record (of any run) writes it.
        failing = false
        for (const t of lifecycle("r2").slice(0, 1)) yield* log.record(t)
        sameTransitions(yield* fresh.history("r1"), transitions)
        sameTransitions(yield* log.history("r1"), transitions)
      }))

    it.effect("a writer that dies between its index and history writes leaves a run that another writer completes and runs() lists once", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore.pipe(Effect.provide(KeyValueStore.layerMemory))
        let sets = 0
        // The first writer's process "dies" at its second write: a run's first
        // transition writes two keys, and only the first of them lands.
        const dying = KeyValueStore.make({
          get: (key) => kv.get(key),
          getUint8Array: (key) => kv.getUint8Array(key),
          set: (key, value) =>
            ++sets === 2
              ? Effect.fail(new KeyValueStore.KeyValueStoreError({ method: "set", key, message: "process killed" }))
              : kv.set(key, value),
          remove: (key) => kv.remove(key),
          clear: kv.clear,
          size: kv.size,
          keys: kv.keys
        })
        const transitions = lifecycle("r", { flowRunId: "f" })
        const first = yield* RunLog.makeKeyValueStore().pipe(Effect.provideService(KeyValueStore.KeyValueStore, dying))
        yield* Effect.flip(first.record(transitions[0]!))
        // Another process picks the run up (a task run resumed elsewhere) and records the rest.
        const second = yield* RunLog.makeKeyValueStore().pipe(Effect.provideService(KeyValueStore.KeyValueStore, kv))
        for (const t of transitions.slice(1)) yield* second.record(t)
        const reader = yield* RunLog.makeKeyValueStore().pipe(Effect.provideService(KeyValueStore.KeyValueStore, kv))
        for (const filter of [undefined, { kind: "task" as const }, { kind: "task" as const, flowRunId: "f" }]) {
          const listed = yield* reader.runs(filter)
          assert.deepStrictEqual(listed.map((r) => [r.runId, r.state.type]), [["r", "COMPLETED"]])
        }
      }))

    it.effect("a transition that cannot be encoded is a StorageError, kept in this process, and blocks nothing", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore.pipe(Effect.provide(KeyValueStore.layerMemory))
        const log = yield* RunLog.makeKeyValueStore().pipe(Effect.provideService(KeyValueStore.KeyValueStore, kv))
        const [pending, running, , , completed] = lifecycle("r")
        yield* log.record(pending!)
        // A flow run id that is not a UUID has no place in Prefect's JSON.
        const odd: RunLog.Transition = {
          ...running!,
          to: State.Running({ stateDetails: { flowRunId: "not-a-uuid" } })
        }
        const error = yield* Effect.flip(log.record(odd))
        assert.strictEqual(error._tag, "StorageError")
        assert.include(error.message, "Cannot encode a transition of run r")
        assert.include(error.message, "it is kept in this process only")
        yield* log.record(completed!)
        // This process still answers it, after the transitions that were written.
        assert.deepStrictEqual((yield* log.history("r")).map((t) => t.to.name), ["Pending", "Completed", "Running"])
        const fresh = yield* RunLog.makeKeyValueStore().pipe(Effect.provideService(KeyValueStore.KeyValueStore, kv))
        assert.deepStrictEqual((yield* fresh.history("r")).map((t) => t.to.name), ["Pending", "Completed"])
      }))

    it.effect("a run whose first write failed is still listed by runs() in this process", () =>
      Effect.gen(function*() {
        const failingKv = KeyValueStore.make({
          get: () => Effect.undefined,
          getUint8Array: () => Effect.undefined,
          set: (key) => Effect.fail(new KeyValueStore.KeyValueStoreError({ method: "set", key, message: "read-only" })),
          remove: () => Effect.void,
          clear: Effect.void,
          size: Effect.succeed(0),
          keys: Effect.succeed([])
        })
        const log = yield* RunLog.makeKeyValueStore().pipe(
          Effect.provideService(KeyValueStore.KeyValueStore, failingKv)
        )
        const [first] = lifecycle("lonely")
        const error = yield* Effect.flip(log.record(first!))
        assert.strictEqual(error._tag, "StorageError")
        assert.deepStrictEqual((yield* log.runs()).map((r) => r.runId), ["lonely"])
      }))

    it.effect("corrupt stored text is a StorageError naming the run", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore.pipe(Effect.provide(KeyValueStore.layerMemory))
        yield* kv.set("runstate-history/h/broken", "{not json")
        const log = yield* RunLog.makeKeyValueStore().pipe(Effect.provideService(KeyValueStore.KeyValueStore, kv))
        const error = yield* Effect.flip(log.history("broken"))
        assert.strictEqual(error._tag, "StorageError")
        assert.include(error.message, "The history of run broken is not valid JSON")
        yield* kv.set(
          "runstate-history/h/odd",
          JSON.stringify({ run_id: "odd", kind: "task", name: "n", flow_run_id: null, transitions: [{ run_count: 1 }] })
        )
        const odd = yield* Effect.flip(log.history("odd"))
        assert.include(odd.message, "Cannot decode the history of run odd: unexpected layout")
        yield* kv.set(
          "runstate-history/h/bad-state",
          JSON.stringify({
            run_id: "bad-state",
            kind: "task",
            name: "n",
            flow_run_id: null,
            transitions: [{ run_count: 1, from: null, to: { state: { type: "NOPE" }, data: null } }]
          })
        )
        const bad = yield* Effect.flip(log.history("bad-state"))
        assert.include(bad.message, "Cannot decode the history of run bad-state")
      }))
  })
