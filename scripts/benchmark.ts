/**
 * The shape of a benchmark and helpers to measure one against a baseline in the
 * same process run.
 */

/** One benchmark: `run` measures the subject and its baseline and returns their ratio. */
export interface Benchmark {
  readonly name: string
  /** The goal in words, e.g. `ratio ≤ 3`. */
  readonly goal: string
  readonly run: () => Promise<Record<string, unknown> & { readonly ratio: number; readonly pass: boolean }>
}

/** The median of some numbers. */
export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Times `f` once, in milliseconds. */
export const time = async (f: () => unknown): Promise<number> => {
  const start = performance.now()
  await f()
  return performance.now() - start
}

/**
 * Measures subject and baseline alternately over `rounds` rounds after `warmup`
 * rounds, and returns their median times and the ratio subject / baseline.
 */
export const compare = async (options: {
  readonly subject: () => unknown
  readonly baseline: () => unknown
  readonly rounds?: number
  readonly warmup?: number
}): Promise<{ readonly subjectMs: number; readonly baselineMs: number; readonly ratio: number }> => {
  const rounds = options.rounds ?? 7
  const warmup = options.warmup ?? 2
  for (let i = 0; i < warmup; i++) {
    await options.baseline()
    await options.subject()
  }
  const s: Array<number> = []
  const b: Array<number> = []
  for (let i = 0; i < rounds; i++) {
    b.push(await time(options.baseline))
    s.push(await time(options.subject))
  }
  const subjectMs = median(s)
  const baselineMs = median(b)
  return { subjectMs: round(subjectMs), baselineMs: round(baselineMs), ratio: subjectMs / baselineMs }
}

/** Rounds to 3 decimals for printing. */
export const round = (n: number): number => Math.round(n * 1000) / 1000
