import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { findCycles, importsOf, sourceGraph } from "../../../scripts/cycles.ts"

const root = resolve(import.meta.dirname, "../../..")

/** The URL of every module a fresh Node process resolves while it imports `specifier` (from packages/examples). */
const modulesLoadedBy = (specifier: string): Array<string> => {
  const script = `
    import { registerHooks } from "node:module"
    const seen = []
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r } })
    await import(${JSON.stringify(specifier)})
    process.stdout.write(JSON.stringify(seen))
  `
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: join(root, "packages/examples"),
    encoding: "utf8"
  })
  assert.strictEqual(child.status, 0, child.stderr)
  return JSON.parse(child.stdout) as Array<string>
}

describe("the @runstate/node barrel", () => {
  it("loads neither the Redis client nor the CLI", () => {
    const loaded = modulesLoadedBy("@runstate/node")
    assert.isTrue(loaded.some((url) => url.endsWith("/packages/node/src/NodeResultStore.ts")))
    assert.isTrue(loaded.some((url) => url.endsWith("/packages/node/src/NodeSignals.ts")))
    const unwanted = loaded.filter((url) =>
      /\/(redis|@redis|@effect\/platform-node|@effect\/platform-node-shared)\//.test(url) ||
      /\/packages\/node\/src\/(Cli|NodeRedisResultStore|bin)\.ts$/.test(url) ||
      url.includes("/effect/dist/unstable/cli/") || url.includes("/effect/dist/cli/")
    )
    assert.deepStrictEqual(unwanted, [])
  })

  it("the Redis entry point does load the Redis client (so the check above can see it)", () => {
    const loaded = modulesLoadedBy("@runstate/node/NodeRedisResultStore")
    assert.isTrue(loaded.some((url) => url.includes("/@effect/platform-node/")))
  })

  it("redis and @effect/platform-node are optional peers of @runstate/node", () => {
    const pkg = JSON.parse(readFileSync(join(root, "packages/node/package.json"), "utf8")) as {
      peerDependencies: Record<string, string>
      peerDependenciesMeta: Record<string, { optional?: boolean }>
    }
    assert.property(pkg.peerDependencies, "redis")
    assert.isTrue(pkg.peerDependenciesMeta["redis"]?.optional)
    assert.isTrue(pkg.peerDependenciesMeta["@effect/platform-node"]?.optional)
  })
})

describe("the import-cycle check (scripts/cycles.ts)", () => {
  it("reads run-time imports, skips type-only ones and imports in comments", () => {
    const text = [
      `/**`,
      ` * @example`,
      ` * import { X } from "./InExample.ts"`,
      ` */`,
      `import * as A from "./A.ts"`,
      `import type { B } from "./B.ts"`,
      `import { type C } from "./C.ts"`,
      `import {`,
      `  D,`,
      `  E`,
      `} from "./DE.ts"`,
      `export * as F from "./F.ts"`,
      `export type { G } from "./G.ts"`,
      `export const h = 1`,
      `import "./side-effect.ts"`
    ].join("\n")
    assert.deepStrictEqual(importsOf(text, false), ["./A.ts", "./C.ts", "./DE.ts", "./F.ts", "./side-effect.ts"])
    assert.deepStrictEqual(importsOf(text, true), [
      "./A.ts",
      "./B.ts",
      "./C.ts",
      "./DE.ts",
      "./F.ts",
      "./G.ts",
      "./side-effect.ts"
    ])
  })

  it("finds every cycle once, and none in an acyclic graph", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c", "d"]],
      ["c", ["a"]],
      ["d", ["d"]],
      ["e", ["a"]]
    ])
    assert.deepStrictEqual(findCycles(graph), [["a", "b", "c", "a"], ["d", "d"]])
    assert.deepStrictEqual(findCycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", []]])), [])
  })

  it("the sources have no run-time import cycle", () => {
    const graph = sourceGraph(false)
    assert.isAbove(graph.size, 20)
    assert.deepStrictEqual(findCycles(graph), [])
  })
})
