/**
 * `failure.run`: `Failure.run` over 100,000 trivial successful effects (memory
 * store, `writeResult` off) against `Effect.exit` over the same effects, in one
 * `Effect.forEach` each, in the same process run; goal: time ratio ≤ 3.
 *
 * What the subject does per effect that the baseline does not: mask
 * interruption, and build the run's state — a result record with a random
 * UUID4 storage key, a COMPLETED state with a timestamp from `Clock` and the
 * caller's traceparent (none here: `run` opens no span by default).
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Failure from "../src/Failure.ts"
import * as ResultStore from "../src/ResultStore.ts"
import { type Benchmark, compare } from "../../../scripts/benchmark.ts"

const N = 100_000

const effects: ReadonlyArray<Effect.Effect<number>> = Array.from({ length: N }, (_, i) => Effect.succeed(i))

const runtime = ManagedRuntime.make(Layer.mergeAll(ResultStore.layerMemory))

const subject = Effect.forEach(effects, (effect) => Failure.run(effect), { discard: true })
const baseline = Effect.forEach(effects, (effect) => Effect.exit(effect), { discard: true })

const benchmarks: ReadonlyArray<Benchmark> = [
  {
    name: "failure.run",
    goal: "time ratio ≤ 3 (Failure.run vs Effect.exit, 100,000 trivial successes, memory store)",
    run: async () => {
      const check = await runtime.runPromise(Failure.run(Effect.succeed(1)))
      if (check.type !== "COMPLETED") throw new Error(`unexpected state ${check.type}`)
      const timing = await compare({
        subject: () => runtime.runPromise(subject),
        baseline: () => runtime.runPromise(baseline),
        rounds: 7,
        warmup: 2
      })
      await runtime.dispose()
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= 3,
        subjectMs: timing.subjectMs,
        baselineMs: timing.baselineMs,
        perRunMicros: Math.round((timing.subjectMs / N) * 1000 * 100) / 100
      }
    }
  }
]

export default benchmarks
