import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ResultStore } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"

const directory = mkdtempSync(join(tmpdir(), "runstate-"))

export const program = Effect.gen(function*() {
  const store = yield* ResultStore.ResultStore
  yield* store.write("The results are in...", { key: "the-key" })
  const record = yield* store.read("the-key")
  return record.metadata.storageKey === join(directory, "the-key") // the absolute path, as Prefect records it
}).pipe(Effect.provide(NodeResultStore.layerFileSystem(directory)))
