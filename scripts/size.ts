/**
 * Bundle-size check: how many bytes a bundler ships for an import from
 * `@runstate/core`, bundled and minified with esbuild (tree shaking on, as any
 * modern bundler does), so that a module-level call without a
 * `/*#__PURE__*\/` annotation that drags in a whole dependency shows up here.
 *
 * Usage: `node scripts/size.ts ENTRY...` where each ENTRY is a comma-separated list of
 * names exported by `@runstate/core`, optionally followed by `<=KB` as a limit:
 *
 *   node scripts/size.ts "State<=45" "Run,Aggregate,ResultStore"
 *
 * Prints one line per ENTRY (`{ State }  42.6 KB  (limit 45 KB: ok)`); a name the
 * package does not export is reported and left out. Exits 1 when a bundle exceeds
 * its limit or an ENTRY names nothing the package exports.
 */
import { build } from "esbuild"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"

const root = resolve(import.meta.dirname, "..")
/** The barrel's namespaces (`export * as Name from ...`), read from its text so that nothing is loaded. */
const exported = new Set(
  Array.from(
    readFileSync(resolve(root, "packages/core/src/index.ts"), "utf8").matchAll(/^export \* as (\w+) from /gm),
    (m) => m[1]!
  )
)

interface Spec {
  readonly names: ReadonlyArray<string>
  readonly limitKb: number | undefined
}

const parse = (arg: string): Spec => {
  const [list = "", limit] = arg.split("<=")
  const names = list.split(",").map((n) => n.trim()).filter((n) => n.length > 0)
  const limitKb = limit === undefined ? undefined : Number(limit)
  if (limitKb !== undefined && !Number.isFinite(limitKb)) throw new Error(`size: bad limit in ${JSON.stringify(arg)}`)
  return { names, limitKb }
}

/** The minified size in bytes of a bundle that imports `names` from `@runstate/core` and uses them. */
export const bundleSize = async (names: ReadonlyArray<string>): Promise<number> => {
  const result = await build({
    stdin: {
      contents: `export { ${names.join(", ")} } from "@runstate/core"\n`,
      resolveDir: resolve(root, "packages/core"),
      loader: "ts"
    },
    bundle: true,
    minify: true,
    treeShaking: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    write: false,
    logLevel: "silent"
  })
  return result.outputFiles.reduce((total, file) => total + file.contents.byteLength, 0)
}

if (import.meta.main) {
  const specs = process.argv.slice(2).filter((a) => a !== "--").map(parse)
  if (specs.length === 0) {
    console.error("usage: node scripts/size.ts \"State<=45\" \"Run,Aggregate,ResultStore\"")
    process.exit(2)
  }
  let failed = 0
  for (const spec of specs) {
    const missing = spec.names.filter((n) => !exported.has(n))
    const present = spec.names.filter((n) => exported.has(n))
    if (missing.length > 0) console.log(`(not exported by @runstate/core, left out: ${missing.join(", ")})`)
    if (present.length === 0) {
      console.log(`{ ${spec.names.join(", ")} }  nothing to bundle: FAIL`)
      failed++
      continue
    }
    const kb = (await bundleSize(present)) / 1000
    const label = `{ ${present.join(", ")} }`.padEnd(40)
    if (spec.limitKb === undefined) {
      console.log(`${label} ${kb.toFixed(1).padStart(6)} KB`)
    } else {
      const ok = kb <= spec.limitKb
      if (!ok) failed++
      console.log(`${label} ${kb.toFixed(1).padStart(6)} KB  (limit ${spec.limitKb} KB: ${ok ? "ok" : "FAIL"})`)
    }
  }
  if (failed > 0) process.exit(1)
}
