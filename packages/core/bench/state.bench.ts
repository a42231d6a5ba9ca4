/**
 * `state.construct`: build 1,000,000 states with `State.Completed({ data })`
 * against equivalent plain object literals; goal: time ratio ≤ 3 and retained
 * heap per state ≤ 2× the plain object.
 */
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import * as State from "../src/State.ts"
import * as StateDetails from "../src/StateDetails.ts"
import { type Benchmark, compare, round } from "../../../scripts/benchmark.ts"

const N = 1_000_000

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

const buildStates = (n: number): Array<unknown> => {
  const out = new Array<unknown>(n)
  for (let i = 0; i < n; i++) out[i] = State.Completed({ data: i })
  return out
}

const buildPlain = (n: number): Array<unknown> => {
  const out = new Array<unknown>(n)
  for (let i = 0; i < n; i++) {
    out[i] = {
      type: "COMPLETED",
      name: "Completed",
      timestamp: Date.now(),
      message: null,
      stateDetails: StateDetails.empty,
      data: i
    }
  }
  return out
}

const retained = (build: (n: number) => Array<unknown>): number => {
  gc()
  gc()
  const before = process.memoryUsage().heapUsed
  const kept = build(N)
  gc()
  gc()
  const after = process.memoryUsage().heapUsed
  if (kept.length !== N) throw new Error("unreachable")
  return (after - before) / N
}

const benchmarks: ReadonlyArray<Benchmark> = [
  {
    name: "state.construct",
    goal: "time ratio ≤ 3 and retained heap per state ≤ 2× the plain object",
    run: async () => {
      const timing = await compare({ subject: () => buildStates(N), baseline: () => buildPlain(N), rounds: 7 })
      const plainBytes = retained(buildPlain)
      const stateBytes = retained(buildStates)
      const heapRatio = stateBytes / plainBytes
      return {
        ratio: timing.ratio,
        pass: timing.ratio <= 3 && heapRatio <= 2,
        subjectMs: timing.subjectMs,
        baselineMs: timing.baselineMs,
        bytesPerState: round(stateBytes),
        bytesPerPlainObject: round(plainBytes),
        heapRatio: round(heapRatio),
        states: N
      }
    }
  }
]

export default benchmarks
