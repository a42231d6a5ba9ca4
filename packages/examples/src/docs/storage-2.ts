import { Effect } from "effect"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeResultStore } from "@runstate/node"
import { report } from "./storage-1.ts"

// Prefect's default is ~/.prefect/storage; here, a fresh directory.
const directory = mkdtempSync(join(tmpdir(), "prefect-storage-"))

export const FileStore = NodeResultStore.layerFileSystem(directory)

export const program = Effect.gen(function*() {
  const result = yield* report.pipe(Effect.provide(FileStore)) // { rows: 42 }
  return { result, file: existsSync(join(directory, "daily-report")) } // the record is <directory>/daily-report
})
