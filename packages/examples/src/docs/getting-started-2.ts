import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeResultStore } from "@runstate/node"
import { flow } from "./getting-started-1.ts"

// The same flow, unchanged, on the file-system store (Prefect's local storage layout).
const directory = mkdtempSync(join(tmpdir(), "runstate-"))

export const program = flow.pipe(Effect.provide(NodeResultStore.layerFileSystem(directory)))
