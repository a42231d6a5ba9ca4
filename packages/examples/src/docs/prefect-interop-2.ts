import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ResultStore } from "@runstate/core"
import { NodeResultStore } from "@runstate/node"

// A task result exactly as Python Prefect writes it with the JSON serializer.
const directory = mkdtempSync(join(tmpdir(), "prefect-storage-"))
writeFileSync(
  join(directory, "the-key"),
  `{"metadata":{"storage_key":"${join(directory, "the-key")}","expiration":null,` +
    `"serializer":{"type":"json","jsonlib":"json","object_encoder":"prefect.serializers.prefect_json_object_encoder",` +
    `"object_decoder":"prefect.serializers.prefect_json_object_decoder","dumps_kwargs":{},"loads_kwargs":{}},` +
    `"prefect_version":"3.8.4","storage_block_id":null},"result":"\\"The results are in...\\""}`
)

export const program = Effect.gen(function*() {
  const store = yield* ResultStore.ResultStore
  const record = yield* store.read("the-key")
  return record.result // "The results are in..."
}).pipe(Effect.provide(NodeResultStore.layerFileSystem(directory)))
