/**
 * `exception.failed`: `Failure.exceptionToFailedState` of one error (no
 * store, no span), 100,000 times in one `Effect.forEach`, against
 * `Failure.formatException` of the same error 100,000 times in a plain loop —
 * the text every FAILED state carries — in the same process run. Goal: time
 * ratio ≤ 3; the per-call cost is printed too (goal ≤ 1.5 µs on a quiet
 * machine, which Python Prefect's `exception_to_failed_state` does not beat).
 */
import * as Effect from "effect/Effect"
import * as Failure from "../src/Failure.ts"
import { type Benchmark, compare, round } from "../../../scripts/benchmark.ts"

const N = 100_000
const GOAL = 3

class ValueError extends Error {
  override readonly name = "ValueError"
}

const error = new ValueError("test error")
const indices = Array.from({ length: N }, (_, i) => i)

const subject = Effect.forEach(indices, () => Failure.exceptionToFailedState(error), { discard: true })

const baseline = (): number => {
  let length = 0
  for (let i = 0; i < N; i++) length += Failure.formatException(error).length
  return length
}

const benchmarks: ReadonlyArray<Benchmark> = [
  {
    name: "exception.failed",
    goal: `time ratio ≤ ${GOAL} (exceptionToFailedState vs formatException of the same error, no store, no span)`,
    run: async () => {
      const check = Effect.runSync(Failure.exceptionToFailedState(error))
      if (check.message !== "ValueError: test error") throw new Error(`unexpected message ${check.message}`)
      const timing = await compare({
        subject: () => Effect.runSync(subject),
        baseline,
        rounds: 7,
        warmup: 2
      })
      const perCallMicros = round((timing.subjectMs / N) * 1000)
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= GOAL,
        subjectMs: timing.subjectMs,
        baselineMs: timing.baselineMs,
        perCallMicros,
        perFormatMicros: round((timing.baselineMs / N) * 1000)
      }
    }
  }
]

export default benchmarks
