/**
 * The layers that decide where durable flows run: the in-process workflow
 * engine (the embedded default: memory, no servers), or Effect's cluster
 * engine on PostgreSQL — runners that execute flows and clients that start,
 * poll and cancel them. A flow's code is the same on both; a program moves
 * from one to the other by changing the layer it is provided.
 *
 * On the cluster, PostgreSQL holds the engine's messages and runner
 * registry (`effect/cluster`'s SQL storage), the result store
 * (`runstate_results`) and the run history (`runstate_history`), so any
 * runner can take over a flow and any process can read its states and
 * results.
 *
 * @since 0.2.0
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as ClusterWorkflowEngine from "effect/cluster/ClusterWorkflowEngine"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import type * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as Redacted from "effect/Redacted"
import * as WorkflowEngine from "effect/workflow/WorkflowEngine"
import * as ResultStore from "@runstate/core/ResultStore"
import * as RunLog from "@runstate/core/RunLog"
import * as DurableFlow from "./DurableFlow.ts"

/**
 * The in-process engine with a memory result store and history: durable
 * flows run in this process, with no servers (tests, the demo, one
 * machine). A flow survives nothing here that the process does not survive.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerInProcess: Layer.Layer<WorkflowEngine.WorkflowEngine | ResultStore.ResultStore | RunLog.RunLog> =
  Layer.mergeAll(WorkflowEngine.layerMemory, ResultStore.layerMemory, RunLog.layerMemory)

/**
 * Where the cluster's PostgreSQL is, and how its runners coordinate.
 *
 * @category models
 * @since 0.2.0
 */
export interface ClusterOptions {
  /** PostgreSQL's URL, e.g. `postgres://user@127.0.0.1:5432/db`. */
  readonly url: string | Redacted.Redacted<string>
  /**
   * How long a runner holds its shards without renewing them (default 10 s):
   * when a runner dies, its flows move to another runner after about this
   * long. A runner renews its locks every third of this; a renewal (a
   * PostgreSQL round trip) slower than that counts as the database being
   * unreachable: the runner stops its flows and takes them up again once
   * the database answers.
   */
  readonly shardLockExpiration?: Duration.Input | undefined
  /** The result store's table (default `runstate_results`). */
  readonly resultsTable?: string | undefined
  /** The run history's table (default `runstate_history`). */
  readonly historyTable?: string | undefined
}

/**
 * Options of {@link layerRunner}: the cluster's, and the address this runner
 * listens on for other runners.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunnerOptions extends ClusterOptions {
  /** The host other runners reach this one at (default `127.0.0.1`). */
  readonly host?: string | undefined
  /** The port this runner listens on. */
  readonly port: number
  /**
   * How many task runs this runner runs at a time, across all flows (see
   * `DurableFlow.TaskSlots`). Default: no limit.
   */
  readonly taskSlots?: number | undefined
}

const sqlLayer = (options: ClusterOptions) =>
  PgClient.layer({ url: typeof options.url === "string" ? Redacted.make(options.url) : options.url })

/**
 * The result store and run history alone on the cluster's PostgreSQL tables
 * (through `KeyValueStore.layerSql`), with no engine: for a process that only
 * reads results and histories, or runs flows on the in-process engine with
 * shared storage.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerStorage = (
  options: ClusterOptions
): Layer.Layer<ResultStore.ResultStore | RunLog.RunLog, unknown> =>
  storage(options).pipe(Layer.provide(sqlLayer(options))) as Layer.Layer<
    ResultStore.ResultStore | RunLog.RunLog,
    unknown
  >

const storage = (options: ClusterOptions) =>
  Layer.mergeAll(
    ResultStore.layer().pipe(
      Layer.provide(KeyValueStore.layerSql({ table: options.resultsTable ?? "runstate_results" }))
    ),
    RunLog.layerKeyValueStore().pipe(
      Layer.provide(KeyValueStore.layerSql({ table: options.historyTable ?? "runstate_history" }))
    )
  )

const sharding = (options: ClusterOptions, address: Option.Option<RunnerAddress.RunnerAddress>) => {
  const expiration = options.shardLockExpiration ?? "10 seconds"
  return {
    runnerAddress: address,
    // Renewed every third of the expiration (the engine's bound): a renewal
    // that takes longer marks the lock storage unhealthy, which stops every
    // flow on the runner, so a busy database must not trip it.
    shardLockExpiration: expiration,
    runnerHealthCheckInterval: "2 seconds"
  } as const
}

/**
 * A cluster runner: executes the durable flows whose layers it is given,
 * takes over the flows of runners that die, and provides the engine, the
 * result store and the history on PostgreSQL.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerRunner = (
  options: RunnerOptions
): Layer.Layer<WorkflowEngine.WorkflowEngine | ResultStore.ResultStore | RunLog.RunLog, unknown> => {
  const address = RunnerAddress.make(options.host ?? "127.0.0.1", options.port)
  const cluster = NodeClusterSocket.layer({
    storage: "sql",
    shardingConfig: sharding(options, Option.some(address))
  })
  const slots = options.taskSlots === undefined ? Layer.empty : DurableFlow.layerTaskSlots(options.taskSlots)
  return Layer.mergeAll(
    ClusterWorkflowEngine.layer.pipe(Layer.provide(cluster)),
    storage(options),
    slots
  ).pipe(Layer.provide(sqlLayer(options))) as Layer.Layer<
    WorkflowEngine.WorkflowEngine | ResultStore.ResultStore | RunLog.RunLog,
    unknown
  >
}

/**
 * A cluster client: starts, polls, awaits and cancels durable flows that the
 * runners execute, and reads their results and histories; it runs no flow
 * itself.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerClient = (
  options: ClusterOptions
): Layer.Layer<WorkflowEngine.WorkflowEngine | ResultStore.ResultStore | RunLog.RunLog, unknown> => {
  const cluster = NodeClusterSocket.layer({
    clientOnly: true,
    storage: "sql",
    shardingConfig: sharding(options, Option.none())
  })
  return Layer.mergeAll(
    ClusterWorkflowEngine.layer.pipe(Layer.provide(cluster)),
    storage(options)
  ).pipe(Layer.provide(sqlLayer(options))) as Layer.Layer<
    WorkflowEngine.WorkflowEngine | ResultStore.ResultStore | RunLog.RunLog,
    unknown
  >
}
