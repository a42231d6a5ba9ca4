/**
 * `run.trivial`: `Run.run` over 100,000 trivial successful effects (memory
 * store, `writeResult` off) against a baseline that does by hand the work
 * every run must do, per effect: `Effect.exit` of the effect, a 32-hex random
 * storage key from `crypto.randomUUID()`, the clock, and one object literal
 * for the state — in one `Effect.forEach` each, in the same process run.
 * Goal: time ratio ≤ 2.
 *
 * What the subject does beyond the baseline: mask interruption, ask the store
 * for a result record (its metadata included), and build a real COMPLETED
 * state with the caller's traceparent (none here: `run` opens no span by
 * default).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as ResultStore from "../src/ResultStore.ts"
import * as Run from "../src/Run.ts"
import * as StateDetails from "../src/StateDetails.ts"
import { type Benchmark, compare } from "../../../scripts/benchmark.ts"

const N = 100_000
const GOAL = 2

const effects: ReadonlyArray<Effect.Effect<number>> = Array.from({ length: N }, (_, i) => Effect.succeed(i))

const runtime = ManagedRuntime.make(ResultStore.layerMemory)

const subject = Effect.forEach(effects, (effect) => Run.run(effect), { discard: true })

/** The inherent work of one run, by hand. */
const byHand = (effect: Effect.Effect<number>) =>
  Effect.flatMap(Effect.exit(effect), (exit) =>
    Clock.clockWith((clock) =>
      Effect.succeed({
        type: "COMPLETED",
        name: "Completed",
        timestamp: clock.currentTimeMillisUnsafe(),
        message: null,
        stateDetails: StateDetails.empty,
        data: { key: crypto.randomUUID().replaceAll("-", ""), exit }
      })
    ))

const baseline = Effect.forEach(effects, byHand, { discard: true })

const benchmarks: ReadonlyArray<Benchmark> = [
  {
    name: "run.trivial",
    goal:
      `time ratio ≤ ${GOAL} (Run.run vs Effect.exit + randomUUID key + clock + object literal, 100,000 trivial successes, memory store)`,
    run: async () => {
      const check = await runtime.runPromise(Run.run(Effect.succeed(1)))
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
        pass: timing.ratio <= GOAL,
        subjectMs: timing.subjectMs,
        baselineMs: timing.baselineMs,
        perRunMicros: Math.round((timing.subjectMs / N) * 1000 * 100) / 100,
        perBaselineMicros: Math.round((timing.baselineMs / N) * 1000 * 100) / 100
      }
    }
  }
]

export default benchmarks
