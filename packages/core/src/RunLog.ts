/**
 * The run history: a service that receives every state transition of every
 * task run and flow run, in order, and answers what a run went through. Tasks
 * and flows write to it; `runstate inspect` and the timeline read from it.
 * The memory layer is the embedded default; other layers persist the history
 * so that it outlives the process.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as Semaphore from "effect/Semaphore"
import * as ResultRecord from "./ResultRecord.ts"
import { StorageError } from "./RunError.ts"
import * as Serializer from "./Serializer.ts"
import * as State from "./State.ts"
import * as Wire from "./Wire.ts"

/**
 * Whether a run is a task run or a flow run.
 *
 * @category models
 * @since 0.2.0
 */
export type RunKind = "task" | "flow"

/**
 * One state transition of one run: the run it belongs to, the state it left
 * (`undefined` for the run's first state) and the state it entered. A run's
 * transitions, in the order they were recorded, are its history; the `to` of
 * the last one is the run's current state.
 *
 * @category models
 * @since 0.2.0
 */
export interface Transition {
  /** The task run id or flow run id (a UUID). */
  readonly runId: string
  /** Whether `runId` names a task run or a flow run. */
  readonly kind: RunKind
  /** The run's name (Prefect's task run name, e.g. `"fetch-0"`, or flow run name). */
  readonly name: string
  /** For a task run inside a flow: the flow run's id. */
  readonly flowRunId?: string | undefined
  /** Prefect's `run_count` after this transition (1 on the first RUNNING, +1 per retry). */
  readonly runCount: number
  /** The state the run left; `undefined` for its first state. */
  readonly from: State.State<unknown> | undefined
  /** The state the run entered. */
  readonly to: State.State<unknown>
}

/**
 * A run known to the history, without its transitions.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunSummary {
  readonly runId: string
  readonly kind: RunKind
  readonly name: string
  readonly flowRunId?: string | undefined
  /** The state of the run's last recorded transition. */
  readonly state: State.State<unknown>
  /** How many transitions were recorded. */
  readonly transitions: number
}

/**
 * Which runs {@link RunLogShape.runs} lists: all of them, those of one kind,
 * or the task runs of one flow run.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunFilter {
  readonly kind?: RunKind | undefined
  readonly flowRunId?: string | undefined
}

/**
 * The run history's operations.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunLogShape {
  /** Appends one transition to its run's history. */
  readonly record: (transition: Transition) => Effect.Effect<void, StorageError>
  /** A run's transitions in the order they were recorded; empty for an unknown run. */
  readonly history: (runId: string) => Effect.Effect<ReadonlyArray<Transition>, StorageError>
  /** The runs the history knows, in the order their first transition was recorded. */
  readonly runs: (filter?: RunFilter) => Effect.Effect<ReadonlyArray<RunSummary>, StorageError>
}

/**
 * The `RunLog` service.
 *
 * @category services
 * @since 0.2.0
 */
export class RunLog extends Context.Service<RunLog, RunLogShape>()("@runstate/core/RunLog") {}

const matches = (summary: RunSummary, filter: RunFilter | undefined): boolean =>
  (filter?.kind === undefined || summary.kind === filter.kind) &&
  (filter?.flowRunId === undefined || summary.flowRunId === filter.flowRunId)

/**
 * A history kept in this process's memory: each call makes a new, empty one.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RunLog, State } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const log = yield* RunLog.makeMemory
 *   const to = State.Pending()
 *   yield* log.record({ runId: "r", kind: "task", name: "t", runCount: 0, from: undefined, to })
 *   return (yield* log.history("r")).length // 1
 * })
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeMemory: Effect.Effect<RunLogShape> = Effect.sync(() => {
  const byRun = new Map<string, Array<Transition>>()
  const record: RunLogShape["record"] = (transition) =>
    Effect.sync(() => {
      const list = byRun.get(transition.runId)
      if (list === undefined) byRun.set(transition.runId, [transition])
      else list.push(transition)
    })
  const history: RunLogShape["history"] = (runId) => Effect.sync(() => byRun.get(runId)?.slice() ?? [])
  const runs: RunLogShape["runs"] = (filter) =>
    Effect.sync(() => {
      const out: Array<RunSummary> = []
      for (const list of byRun.values()) {
        const first = list[0]!
        const summary: RunSummary = {
          runId: first.runId,
          kind: first.kind,
          name: first.name,
          flowRunId: first.flowRunId,
          state: list[list.length - 1]!.to,
          transitions: list.length
        }
        if (matches(summary, filter)) out.push(summary)
      }
      return out
    })
  return { record, history, runs }
})

/**
 * A layer with a fresh in-memory history (see {@link makeMemory}); the
 * embedded default.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerMemory: Layer.Layer<RunLog> = Layer.effect(RunLog, makeMemory)

// -----------------------------------------------------------------------------
// KeyValueStore layer
// -----------------------------------------------------------------------------

/**
 * Options of {@link makeKeyValueStore}.
 *
 * @category models
 * @since 0.2.0
 */
export interface KeyValueStoreOptions {
  /**
   * The prefix of every key the history writes, so that it can share a store
   * with results (default `"runstate-history/"`).
   */
  readonly prefix?: string | undefined
}

/** A state's data as the history stores it, next to the state's Wire JSON. */
type DataDocument =
  | null
  | { readonly json: unknown }
  | { readonly metadata: { readonly [k: string]: unknown } }
  | { readonly record: string }
  | { readonly value: string }
  | { readonly repr: string }

interface StateDocument {
  readonly state: Wire.StateResponseEncoded
  readonly data: DataDocument
}

interface TransitionDocument {
  readonly run_count: number
  readonly from: StateDocument | null
  readonly to: StateDocument
}

/** A transition this process holds: its place in recording order and its encoding (none when it has none). */
interface Entry {
  readonly seq: number
  readonly transition: Transition
  readonly doc: TransitionDocument | undefined
}

interface HistoryDocument {
  readonly version: 1
  readonly run_id: string
  readonly kind: RunKind
  readonly name: string
  readonly flow_run_id: string | null
  readonly transitions: ReadonlyArray<TransitionDocument>
}

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder()

const storageError = (message: string, key: string | undefined, cause: unknown): StorageError =>
  new StorageError({
    message: cause instanceof Error && cause.message.length > 0 ? `${message}: ${cause.message}` : message,
    key,
    cause
  })

const encodeData = (data: unknown): Effect.Effect<DataDocument> => {
  if (data === null || data === undefined) return Effect.succeed(null)
  if (ResultRecord.isResultRecordMetadata(data)) {
    return Effect.succeed({ metadata: ResultRecord.metadataToJson(data) })
  }
  // A persisted record's value is in the result store: the history keeps its
  // metadata, which reads back as a state whose result is read from the store.
  if (ResultRecord.isResultRecord(data) && data.persisted) {
    return Effect.succeed({ metadata: ResultRecord.metadataToJson(data.metadata) })
  }
  if (ResultRecord.isResultRecord(data)) {
    return ResultRecord.serialize(data).pipe(
      Effect.map((bytes): DataDocument => ({ record: utf8Decoder.decode(bytes) })),
      Effect.orElseSucceed((): DataDocument => ({ metadata: ResultRecord.metadataToJson(data.metadata) }))
    )
  }
  if (Wire.isJson(data)) return Effect.succeed({ json: data })
  return Serializer.json.dumps(data).pipe(
    Effect.map((bytes): DataDocument => ({ value: utf8Decoder.decode(bytes) })),
    Effect.orElseSucceed((): DataDocument => ({ repr: String(data) }))
  )
}

const decodeData = (doc: DataDocument): Effect.Effect<unknown, unknown> => {
  if (doc === null) return Effect.succeed(null)
  if ("json" in doc) return Effect.succeed(doc.json)
  if ("metadata" in doc) return ResultRecord.metadataFromJson(doc.metadata)
  if ("record" in doc) return ResultRecord.deserialize(utf8Encoder.encode(doc.record))
  if ("value" in doc) return Serializer.json.loads(utf8Encoder.encode(doc.value))
  return Effect.succeed(doc.repr)
}

const encodeState = (state: State.State<unknown>): Effect.Effect<StateDocument, unknown> =>
  Effect.zipWith(
    Wire.encodeStateResponse(State.update(state, { data: null as unknown })),
    encodeData(state.data),
    (encoded, data) => ({ state: encoded, data })
  )

const decodeState = (doc: StateDocument): Effect.Effect<State.State<unknown>, unknown> =>
  Effect.zipWith(
    Wire.decodeStateResponse(doc.state),
    decodeData(doc.data),
    (state, data) => data === null ? state : State.update(state, { data })
  )

const isObject = (u: unknown): u is { readonly [k: string]: unknown } => typeof u === "object" && u !== null

const isStateDocument = (u: unknown): u is StateDocument =>
  isObject(u) && isObject(u.state) && (u.data === null || isObject(u.data))

const isHistoryDocument = (u: unknown): u is HistoryDocument =>
  isObject(u) && typeof u.run_id === "string" && (u.kind === "task" || u.kind === "flow") &&
  typeof u.name === "string" && (u.flow_run_id === null || typeof u.flow_run_id === "string") &&
  Array.isArray(u.transitions) &&
  u.transitions.every((t: unknown) =>
    isObject(t) && typeof t.run_count === "number" && (t.from === null || isStateDocument(t.from)) &&
    isStateDocument(t.to)
  )

const hashOf = (s: string): number => {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0
  return h >>> 0
}

/** The flow-run segment of an index key: never empty (file-system stores turn `//` into `/`). */
const flowPart = (flowRunId: string | null): string => flowRunId === null ? "n" : `f${encodeURIComponent(flowRunId)}`

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

/**
 * A history persisted through the `KeyValueStore` in context — the one the
 * result store uses, so the history lives where the results live (memory,
 * files, Redis, SQL) and outlives the process.
 *
 * Layout, under the prefix: `h/{run id}` holds one run's whole history
 * (its name, kind, flow run and transitions; states in Prefect's REST JSON,
 * `Wire.StateResponse`, their data beside them), so {@link RunLogShape.history}
 * is one read and an append rewrites only its own run's key — appends of
 * different runs never touch the same key and are safe from any number of
 * processes; appends to one run are serialized in this process (a run records
 * its own transitions one after the other). `r/{kind}/{flow run}/{time}.{n}/{run id}`
 * is written at a run's first transition, before its history, so
 * {@link RunLogShape.runs} lists the keys of one kind or one flow run and
 * reads only the histories it returns, in the order their first transitions
 * were recorded; a process that dies between the two writes leaves an entry
 * without a history (skipped), and the run is indexed again, and listed once,
 * when another process records it.
 *
 * Data is written so that it reads back equal: result-record metadata as
 * Prefect's metadata JSON; a persisted result record as its metadata (its
 * value is in the result store, where `StateResult.getStateResult` reads it,
 * and is not copied into the history); an unpersisted one as Prefect's record
 * envelope; JSON
 * as is, anything else through Prefect's `json` serializer (an `Error` reads
 * back as an `Error` with its name and message, a `Date` as a `DateTime.Utc`
 * of the same instant); a value nothing can write is kept as its text.
 *
 * A storage failure is a `StorageError`, and the transition is not lost: it
 * stays in this process's history (what `history` and `runs` answer) and is
 * written again with the next `record`. A transition Prefect's JSON cannot
 * hold (a run id in its details that is not a UUID) is a `StorageError` too;
 * it is kept in this process only (listed after the written transitions) and
 * does not hold back later transitions.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { KeyValueStore } from "effect/persistence"
 * import { RunLog, State } from "@runstate/core"
 *
 * const program = Effect.gen(function*() {
 *   const log = yield* RunLog.makeKeyValueStore()
 *   yield* log.record({ runId: "r", kind: "task", name: "t", runCount: 0, from: undefined, to: State.Pending() })
 *   return (yield* log.history("r")).length // 1
 * }).pipe(Effect.provide(KeyValueStore.layerMemory))
 * ```
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeKeyValueStore = (
  options?: KeyValueStoreOptions
): Effect.Effect<RunLogShape, never, KeyValueStore.KeyValueStore> =>
  Effect.map(Effect.service(KeyValueStore.KeyValueStore), (kv) => {
    const prefix = options?.prefix ?? "runstate-history/"
    const historyKey = (runId: string) => `${prefix}h/${encodeURIComponent(runId)}`
    const indexPrefix = `${prefix}r/`
    const locks = Array.from({ length: 32 }, () => Semaphore.makeUnsafe(1))
    const lockOf = (runId: string) => locks[hashOf(runId) % locks.length]!
    // Transitions a failed write left unwritten, by run: kept in this process and written with the next record.
    const pending = new Map<string, Array<Entry>>()
    // Transitions that cannot be encoded (a run id in their details that is not a UUID): this process only.
    const local = new Map<string, Array<Entry>>()
    let sequence = 0
    let entries = 0
    const push = (map: Map<string, Array<Entry>>, entry: Entry) => {
      const list = map.get(entry.transition.runId)
      if (list === undefined) map.set(entry.transition.runId, [entry])
      else list.push(entry)
    }
    const inMemory = (runId: string): Array<Transition> =>
      [...(pending.get(runId) ?? []), ...(local.get(runId) ?? [])]
        .sort((a, b) => a.seq - b.seq)
        .map((e) => e.transition)

    const readDocument = (runId: string): Effect.Effect<HistoryDocument | undefined, StorageError> => {
      const key = historyKey(runId)
      return kv.get(key).pipe(
        Effect.mapError((cause) => storageError(`Cannot read the history of run ${runId}`, key, cause)),
        Effect.flatMap((text) =>
          text === undefined
            ? Effect.succeed(undefined)
            : Effect.try({
              try: () => JSON.parse(text) as HistoryDocument,
              catch: (cause) => storageError(`The history of run ${runId} is not valid JSON`, key, cause)
            })
        )
      )
    }

    const decodeDocument = (doc: HistoryDocument, key: string): Effect.Effect<Array<Transition>, StorageError> =>
      !isHistoryDocument(doc)
        ? Effect.fail(
          storageError(
            `Cannot decode the history of run ${
              String((doc as { readonly run_id?: unknown } | null)?.run_id)
            }: unexpected layout`,
            key,
            doc
          )
        )
        : Effect.forEach(doc.transitions, (t) =>
          Effect.zipWith(
            t.from === null ? Effect.succeed(undefined) : decodeState(t.from),
            decodeState(t.to),
            (from, to): Transition => ({
              runId: doc.run_id,
              kind: doc.kind,
              name: doc.name,
              flowRunId: doc.flow_run_id ?? undefined,
              runCount: t.run_count,
              from,
              to
            })
          )).pipe(
            Effect.mapError((cause) => storageError(`Cannot decode the history of run ${doc.run_id}`, key, cause))
          )

    const encodeTransition = (t: Transition): Effect.Effect<TransitionDocument, StorageError> =>
      Effect.zipWith(
        t.from === undefined ? Effect.succeed(null) : encodeState(t.from),
        encodeState(t.to),
        (from, to) => ({ run_count: t.runCount, from, to })
      ).pipe(Effect.mapError((cause) => storageError(`Cannot encode a transition of run ${t.runId}`, undefined, cause)))

    const writeRun = (runId: string): Effect.Effect<void, StorageError> =>
      Effect.suspend(() => {
        const unwritten = pending.get(runId)
        if (unwritten === undefined || unwritten.length === 0) return Effect.void
        const batch = unwritten.slice()
        const first = batch[0]!.transition
        const key = historyKey(runId)
        return Effect.gen(function*() {
          const existing = yield* readDocument(runId)
          const encoded = batch.map((e) => e.doc!)
          const doc: HistoryDocument = {
            version: 1,
            run_id: runId,
            kind: existing?.kind ?? first.kind,
            name: existing?.name ?? first.name,
            flow_run_id: existing?.flow_run_id ?? first.flowRunId ?? null,
            transitions: [...(existing?.transitions ?? []), ...encoded]
          }
          // The index entry goes first: a process that dies between the two
          // writes leaves an entry whose history is missing (skipped by `runs`),
          // never a history that `runs` cannot find. A run indexed twice this way
          // (its first writer died, another wrote it again) is listed once.
          if (existing === undefined) {
            const now = yield* Clock.currentTimeMillis
            const order = `${pad(now, 15)}.${pad(sequence++, 9)}`
            const index = `${indexPrefix}${doc.kind}/${flowPart(doc.flow_run_id)}/${order}/${encodeURIComponent(runId)}`
            yield* kv.set(index, doc.name).pipe(
              Effect.mapError((cause) => storageError(`Cannot index the history of run ${runId}`, index, cause))
            )
          }
          yield* kv.set(key, JSON.stringify(doc)).pipe(
            Effect.mapError((cause) => storageError(`Cannot write the history of run ${runId}`, key, cause))
          )
          const rest = (pending.get(runId) ?? []).slice(batch.length)
          if (rest.length === 0) pending.delete(runId)
          else pending.set(runId, rest)
        })
      })

    const record: RunLogShape["record"] = (transition) =>
      Effect.andThen(
        // Runs whose earlier writes failed are written first, each under its own lock (never two at once).
        Effect.suspend(() =>
          Effect.forEach(
            [...pending.keys()].filter((id) => id !== transition.runId),
            (id) => Effect.ignore(lockOf(id).withPermit(writeRun(id))),
            { discard: true }
          )
        ),
        lockOf(transition.runId).withPermit(
          Effect.matchEffect(encodeTransition(transition), {
            onFailure: (error) =>
              Effect.andThen(
                Effect.sync(() => push(local, { seq: entries++, transition, doc: undefined })),
                Effect.fail(
                  new StorageError({
                    message: `${error.message}; it is kept in this process only`,
                    key: error.key,
                    cause: error.cause
                  })
                )
              ),
            onSuccess: (doc) =>
              Effect.andThen(
                Effect.sync(() => push(pending, { seq: entries++, transition, doc })),
                writeRun(transition.runId)
              )
          })
        )
      )

    const history: RunLogShape["history"] = (runId) =>
      lockOf(runId).withPermit(Effect.gen(function*() {
        const doc = yield* readDocument(runId)
        const stored = doc === undefined ? [] : yield* decodeDocument(doc, historyKey(runId))
        return [...stored, ...inMemory(runId)]
      }))

    const summaryOf = (transitions: ReadonlyArray<Transition>): RunSummary | undefined => {
      const first = transitions[0]
      if (first === undefined) return undefined
      return {
        runId: first.runId,
        kind: first.kind,
        name: first.name,
        flowRunId: first.flowRunId,
        state: transitions[transitions.length - 1]!.to,
        transitions: transitions.length
      }
    }

    const runs: RunLogShape["runs"] = (filter) =>
      Effect.gen(function*() {
        const keys = yield* kv.keys.pipe(
          Effect.mapError((cause) => storageError("Cannot list the runs of the history", indexPrefix, cause))
        )
        let wanted = indexPrefix
        if (filter?.kind !== undefined) {
          wanted += `${filter.kind}/`
          if (filter.flowRunId !== undefined) wanted += `${flowPart(filter.flowRunId)}/`
        }
        const wantedFlow = filter?.flowRunId === undefined ? undefined : flowPart(filter.flowRunId)
        const found: Array<{ readonly order: string; readonly runId: string }> = []
        for (const key of keys) {
          if (!key.startsWith(wanted)) continue
          const [, flow, order, run] = key.slice(indexPrefix.length).split("/")
          if (order === undefined || run === undefined) continue
          if (wantedFlow !== undefined && flow !== wantedFlow) continue
          found.push({ order, runId: decodeURIComponent(run) })
        }
        found.sort((a, b) => a.order < b.order ? -1 : a.order > b.order ? 1 : 0)
        const listed = new Set<string>()
        const entries = found.filter((e) => !listed.has(e.runId) && listed.add(e.runId) !== undefined)
        const summaries = yield* Effect.forEach(
          entries,
          (e) => Effect.map(history(e.runId), summaryOf),
          { concurrency: 16 }
        )
        // Runs known only to this process (their first write failed).
        const unlisted: Array<RunSummary> = []
        for (const runId of new Set([...pending.keys(), ...local.keys()])) {
          if (listed.has(runId)) continue
          const summary = summaryOf(inMemory(runId))
          if (summary !== undefined && matches(summary, filter)) unlisted.push(summary)
        }
        return [...summaries.filter((s): s is RunSummary => s !== undefined && matches(s, filter)), ...unlisted]
      })

    return { record, history, runs }
  })

/**
 * A layer persisting the history through the `KeyValueStore` in context (see
 * {@link makeKeyValueStore}).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { KeyValueStore } from "effect/persistence"
 * import { RunLog } from "@runstate/core"
 *
 * const History = RunLog.layerKeyValueStore().pipe(Layer.provide(KeyValueStore.layerMemory))
 * ```
 *
 * @category layers
 * @since 0.2.0
 */
export const layerKeyValueStore = (
  options?: KeyValueStoreOptions
): Layer.Layer<RunLog, never, KeyValueStore.KeyValueStore> => Layer.effect(RunLog, makeKeyValueStore(options))
