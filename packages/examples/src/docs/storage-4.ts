import { Effect, Layer, Redacted } from "effect"
import { KeyValueStore } from "effect/persistence"
import { PgClient } from "@effect/sql-pg"
import { ResultStore } from "@runstate/core"
import { report } from "./storage-1.ts"

export const PostgresStore = (url: string) =>
  ResultStore.layer().pipe(
    // creates the table when missing: id TEXT PRIMARY KEY, value BYTEA, value_type SMALLINT
    Layer.provide(KeyValueStore.layerSql({ table: "runstate_results" })),
    Layer.provide(PgClient.layer({ url: Redacted.make(url) }))
  )

// e.g. run("postgres://postgres@127.0.0.1:5432/postgres"): the record is a row of runstate_results
export const run = (url: string) => report.pipe(Effect.provide(PostgresStore(url)))
