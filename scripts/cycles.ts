/**
 * Import-cycle check: builds the graph of imports between the source modules of
 * every package (`packages/*\/src/**\/*.ts`; relative imports and `@runstate/<pkg>/X`
 * deep imports, which name the same files) and fails on any cycle.
 *
 * Every `import` / `export ... from` counts — also `import { type X }`, which
 * `verbatimModuleSyntax` keeps as a runtime import — except `import type` /
 * `export type`, which leave no trace in the JavaScript. `--types` counts those too.
 *
 * Usage: `node scripts/cycles.ts [--types]`. Prints each cycle as `a.ts -> b.ts -> a.ts`
 * and exits 1 when there is one.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"

const root = resolve(import.meta.dirname, "..")

/** The specifiers a module imports at run time (or also for types, when `withTypes`). */
export const importsOf = (text: string, withTypes: boolean): Array<string> => {
  const out: Array<string> = []
  // Comments out first (JSDoc examples import the packages' barrels).
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "")
  const clause = String.raw`(?:\*\s+as\s+\w+|\*|\{[^}]*\}|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)`
  const statement = new RegExp(
    String.raw`^[ \t]*(import|export)\s+(type\s+)?(?:${clause}\s+from\s+)?["']([^"']+)["']`,
    "gm"
  )
  for (const m of code.matchAll(statement)) {
    if (m[2] !== undefined && !withTypes) continue
    out.push(m[3]!)
  }
  return out
}

const walk = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const full = join(dir, name)
    return statSync(full).isDirectory() ? walk(full) : name.endsWith(".ts") ? [full] : []
  })

/** Maps a specifier to a source file of the repository, or undefined for outside modules. */
const resolveSpecifier = (from: string, specifier: string): string | undefined => {
  if (specifier.startsWith(".")) return resolve(dirname(from), specifier)
  const deep = /^@runstate\/([\w-]+)(?:\/(.+))?$/.exec(specifier)
  if (deep === null) return undefined
  const file = join(root, "packages", deep[1]!, "src", `${deep[2] ?? "index"}.ts`)
  return existsSync(file) ? file : undefined
}

/** Every elementary cycle found by a depth-first search (each reported once, from its smallest member). */
export const findCycles = (graph: ReadonlyMap<string, ReadonlyArray<string>>): Array<Array<string>> => {
  const cycles: Array<Array<string>> = []
  const seen = new Set<string>()
  const state = new Map<string, "open" | "done">()
  const stack: Array<string> = []
  const visit = (node: string): void => {
    state.set(node, "open")
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next)
      if (s === "open") {
        const cycle = stack.slice(stack.indexOf(next))
        const start = cycle.indexOf([...cycle].sort()[0]!)
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)]
        const key = canonical.join("\0")
        if (!seen.has(key)) {
          seen.add(key)
          cycles.push([...canonical, canonical[0]!])
        }
      } else if (s === undefined) {
        visit(next)
      }
    }
    stack.pop()
    state.set(node, "done")
  }
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node)
  return cycles
}

/** The import graph of every package's sources. */
export const sourceGraph = (withTypes: boolean): Map<string, Array<string>> => {
  const graph = new Map<string, Array<string>>()
  for (const pkg of readdirSync(join(root, "packages"))) {
    const src = join(root, "packages", pkg, "src")
    if (!existsSync(src)) continue
    for (const file of walk(src)) {
      const targets = importsOf(readFileSync(file, "utf8"), withTypes)
        .map((s) => resolveSpecifier(file, s))
        .filter((t): t is string => t !== undefined)
      graph.set(file, [...new Set(targets)])
    }
  }
  return graph
}

if (import.meta.main) {
  const withTypes = process.argv.includes("--types")
  const graph = sourceGraph(withTypes)
  const cycles = findCycles(graph)
  const edges = [...graph.values()].reduce((n, targets) => n + targets.length, 0)
  const what = withTypes ? "imports (type imports included)" : "run-time imports"
  if (cycles.length === 0) {
    console.log(`cycles: none among ${graph.size} modules, ${edges} ${what}`)
  } else {
    for (const cycle of cycles) console.log(cycle.map((f) => relative(root, f)).join(" -> "))
    console.log(`cycles: ${cycles.length} import cycle(s) among ${graph.size} modules (${what})`)
    process.exit(1)
  }
}
