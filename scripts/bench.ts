/**
 * Runs every benchmark (`packages/*\/bench/*.bench.ts`) and prints one JSON
 * object per line: `{"name", "ratio", "goal", "pass", ...}`. `ratio` is the
 * subject's time divided by a baseline measured in the same process run, so
 * the figure survives a noisy machine.
 *
 * Usage: `pnpm bench` or `pnpm bench -- --filter NAME` (substring match; repeatable).
 * Exits 1 when a benchmark misses its goal and `--strict` is given.
 */
import { readdirSync } from "node:fs"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import type { Benchmark } from "./benchmark.ts"

const root = resolve(import.meta.dirname, "..")
const args = process.argv.slice(2).filter((a) => a !== "--")
const filters: Array<string> = []
let strict = false
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--filter" && args[i + 1] !== undefined) filters.push(args[++i]!)
  else if (args[i]!.startsWith("--filter=")) filters.push(args[i]!.slice("--filter=".length))
  else if (args[i] === "--strict") strict = true
}

const files: Array<string> = []
for (const pkg of readdirSync(join(root, "packages"))) {
  const dir = join(root, "packages", pkg, "bench")
  let entries: Array<string> = []
  try {
    entries = readdirSync(dir)
  } catch {
    continue
  }
  for (const f of entries.sort()) if (f.endsWith(".bench.ts")) files.push(join(dir, f))
}

let failed = 0
let ran = 0
for (const file of files) {
  const mod = (await import(pathToFileURL(file).href)) as { default: ReadonlyArray<Benchmark> }
  for (const bench of mod.default) {
    if (filters.length > 0 && !filters.some((f) => bench.name.includes(f))) continue
    ran++
    try {
      const result = await bench.run()
      const { ratio, pass, ...rest } = result
      if (!pass) failed++
      process.stdout.write(
        JSON.stringify({ name: bench.name, ratio: round(ratio), goal: bench.goal, pass, ...rest }) + "\n"
      )
    } catch (error) {
      failed++
      process.stdout.write(
        JSON.stringify({ name: bench.name, ratio: null, goal: bench.goal, pass: false, error: String(error) }) + "\n"
      )
    }
  }
}
if (ran === 0) {
  process.stderr.write(`no benchmark matches ${JSON.stringify(filters)}\n`)
  process.exit(1)
}
process.stderr.write(`${ran} benchmarks, ${ran - failed} met their goal, ${failed} missed\n`)
if (strict && failed > 0) process.exit(1)

function round(n: number): number {
  return Math.round(n * 1000) / 1000
}
