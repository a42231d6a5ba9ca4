import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { LockManager, ResultStore, RunError } from "@runstate/core"

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) assert.fail("expected a failure")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || reason._tag !== "Fail") assert.fail(`expected a typed failure, got ${String(exit.cause)}`)
  return reason.error
}

describe("LockManager", () => {
  it.effect("makeMemory: acquire, re-acquire by the holder, refuse another holder, release", () =>
    Effect.gen(function*() {
      const locks = yield* LockManager.makeMemory
      assert.isTrue(yield* locks.acquire("k", "a"))
      assert.isTrue(yield* locks.acquire("k", "a", { timeout: 0 }))
      assert.isFalse(yield* locks.acquire("k", "b", { timeout: 0 }))
      assert.isTrue(yield* locks.isLockHolder("k", "a"))
      yield* locks.release("k", "a")
      assert.isFalse(yield* locks.isLocked("k"))
    }))

  it.effect("layerMemory shares one manager", () =>
    Effect.gen(function*() {
      const a = yield* LockManager.LockManager
      const b = yield* LockManager.LockManager
      yield* a.acquire("k", "x")
      assert.isTrue(yield* b.isLocked("k"))
    }).pipe(Effect.provide(LockManager.layerMemory)))

  it.effect("timeoutMillis: the one timeout rule for every lock manager", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* LockManager.timeoutMillis(undefined), undefined)
      assert.strictEqual(yield* LockManager.timeoutMillis(Infinity), undefined)
      assert.strictEqual(yield* LockManager.timeoutMillis(0), 0)
      assert.strictEqual(yield* LockManager.timeoutMillis("2 seconds"), 2000)
      for (const bad of [-5, "soon", NaN, { seconds: "x" }]) {
        const error = failureOf(yield* Effect.exit(LockManager.timeoutMillis(bad as never)))
        assert.instanceOf(error, RunError.InvalidState)
        assert.match(error.message, /^Invalid timeout: .* is not a duration\.$/)
      }
      const huge = failureOf(yield* Effect.exit(LockManager.timeoutMillis("x".repeat(1_000_000) as never)))
      assert.isBelow(huge.message.length, 500)
    }))

  it("ResultStore keeps deprecated aliases for one release", () => {
    assert.strictEqual(ResultStore.lockManagerMemory, LockManager.makeMemory)
    assert.strictEqual(ResultStore.layerLockManagerMemory, LockManager.layerMemory)
    assert.strictEqual(ResultStore.LockManager, LockManager.LockManager)
  })
})
