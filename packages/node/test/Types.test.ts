/**
 * Type-level tests of the public API of @runstate/node and its Redis entry point: `pnpm check`
 * (tsc) fails when a signature drifts. At run time the assertions are no-ops.
 */
import { describe, expectTypeOf, it } from "@effect/vitest"
import type { Effect, Layer } from "effect"
import type { KeyValueStore, Redis } from "effect/persistence"
import type { Failure, ResultStore, RunError, State } from "@runstate/core"
import { NodeResultStore, NodeSignals } from "@runstate/node"
import * as NodeRedisResultStore from "@runstate/node/NodeRedisResultStore"

describe("type-level API of @runstate/node", () => {
  it("the file-system store is a ResultStore layer that can fail to open its directory", () => {
    expectTypeOf(NodeResultStore.layerFileSystem("dir")).toEqualTypeOf<
      Layer.Layer<ResultStore.ResultStore, RunError.StorageError>
    >()
    expectTypeOf(NodeResultStore.layerFileSystemKeyValueStore("dir")).toEqualTypeOf<
      Layer.Layer<KeyValueStore.KeyValueStore, RunError.StorageError>
    >()
    // @ts-expect-error the directory is required
    const noDirectory = () => NodeResultStore.layerFileSystem()
    void noDirectory
  })

  it("the Redis store needs the Redis service, provided by its client layer", () => {
    expectTypeOf(NodeRedisResultStore.layerRedis()).toEqualTypeOf<
      Layer.Layer<ResultStore.ResultStore, never, Redis.Redis>
    >()
    expectTypeOf(NodeRedisResultStore.layerRedisClient).returns.toExtend<Layer.Layer<Redis.Redis, Redis.RedisError>>()
    // The barrel has no Redis layers: they live in their own entry point.
    expectTypeOf<typeof NodeResultStore>().not.toHaveProperty("layerRedis")
  })

  it("signal handling: runs end in a state, signals are a closed set", () => {
    expectTypeOf(NodeSignals.runWithSignals(null as unknown as Effect.Effect<number, Error, "R">)).toEqualTypeOf<
      Effect.Effect<State.State<unknown>, never, "R" | ResultStore.ResultStore>
    >()
    expectTypeOf(NodeSignals.toError("SIGINT")).toEqualTypeOf<Failure.InterruptSignal | Failure.TerminationSignal>()
    expectTypeOf(NodeSignals.exitCode).toEqualTypeOf<(signal: NodeSignals.Signal) => number>()
    // @ts-expect-error not a handled signal
    NodeSignals.exitCode("SIGKILL")
  })
})
