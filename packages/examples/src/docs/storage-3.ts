import { Effect, Layer } from "effect"
import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"
import { report } from "./storage-1.ts"

export const RedisStore = (url: string) =>
  NodeRedisResultStore.layerRedis({ prefix: "myapp:" }).pipe(
    Layer.provide(NodeRedisResultStore.layerRedisClient({ url }))
  )

// e.g. run("redis://127.0.0.1:6379"): the record is the Redis key "myapp:daily-report"
export const run = (url: string) => report.pipe(Effect.provide(RedisStore(url)))
