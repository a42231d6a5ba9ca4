/**
 * Which `ResultStore` layer the demo runs on, from one `--store` value: the
 * file-system store in a directory (the default, `./.runstate`), Redis
 * (`redis://HOST:PORT`), PostgreSQL (`postgres://…`) or memory (`memory`).
 * The pipeline never changes: only the layer provided to it does.
 */
import * as path from "node:path"
import { Layer, Redacted } from "effect"
import { KeyValueStore } from "effect/persistence"
import { PgClient } from "@effect/sql-pg"
import { ResultStore, RunLog } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"
import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"

/** A parsed `--store` value. */
export type StoreSpec =
  | { readonly _tag: "FileSystem"; readonly directory: string }
  | { readonly _tag: "Redis"; readonly url: string }
  | { readonly _tag: "Postgres"; readonly url: string }
  | { readonly _tag: "Memory" }

/** The default store: the file-system store in `./.runstate`, relative to the current directory. */
export const defaultDirectory = ".runstate"

/** Parses a `--store` value (absent: the file-system store in `./.runstate`). */
export const parseStore = (value: string | undefined, cwd: string = process.cwd()): StoreSpec => {
  if (value === undefined || value === "") return { _tag: "FileSystem", directory: path.resolve(cwd, defaultDirectory) }
  if (value === "memory") return { _tag: "Memory" }
  if (/^rediss?:\/\//.test(value)) return { _tag: "Redis", url: value }
  if (/^postgres(ql)?:\/\//.test(value)) return { _tag: "Postgres", url: value }
  return { _tag: "FileSystem", directory: path.resolve(cwd, value.replace(/^file:\/\//, "")) }
}

/** A human description of where results go. */
export const describeStore = (spec: StoreSpec): string => {
  switch (spec._tag) {
    case "FileSystem":
      return `file system, ${spec.directory}`
    case "Redis":
      return `Redis, ${redactUrl(spec.url)} (keys prefixed "runstate-demo:")`
    case "Postgres":
      return `PostgreSQL, ${redactUrl(spec.url)} (table runstate_results)`
    case "Memory":
      return "memory (this process only)"
  }
}

const redactUrl = (url: string): string => url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@")

/** The `ResultStore` layer of a spec. Each use builds a fresh store (its own connection, its own cache). */
export const storeLayer = (spec: StoreSpec): Layer.Layer<ResultStore.ResultStore, unknown> => {
  switch (spec._tag) {
    case "FileSystem":
      return NodeResultStore.layerFileSystem(spec.directory, { fsync: false })
    case "Redis":
      return NodeRedisResultStore.layerRedis({ prefix: "runstate-demo:" }).pipe(
        Layer.provide(NodeRedisResultStore.layerRedisClient({ url: spec.url }))
      )
    case "Postgres":
      return ResultStore.layer().pipe(
        Layer.provide(KeyValueStore.layerSql({ table: "runstate_results" })),
        Layer.provide(PgClient.layer({ url: Redacted.make(spec.url) }))
      )
    case "Memory":
      return ResultStore.layerMemory
  }
}

/**
 * The run history of a spec, kept where its results are (under the prefix
 * `runstate-history/`), so that `runstate inspect` and `runstate timeline`
 * read it back later; memory for `memory`.
 */
export const historyLayer = (spec: StoreSpec): Layer.Layer<RunLog.RunLog, unknown> => {
  switch (spec._tag) {
    case "FileSystem":
      return RunLog.layerKeyValueStore().pipe(
        Layer.provide(NodeResultStore.layerFileSystemKeyValueStore(spec.directory))
      )
    case "Redis":
      return RunLog.layerKeyValueStore().pipe(
        Layer.provide(NodeRedisResultStore.layerRedisKeyValueStore({ prefix: "runstate-demo:" })),
        Layer.provide(NodeRedisResultStore.layerRedisClient({ url: spec.url }))
      )
    case "Postgres":
      return RunLog.layerKeyValueStore().pipe(
        Layer.provide(KeyValueStore.layerSql({ table: "runstate_results" })),
        Layer.provide(PgClient.layer({ url: Redacted.make(spec.url) }))
      )
    case "Memory":
      return RunLog.layerMemory
  }
}
