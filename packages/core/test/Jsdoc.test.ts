import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"
import { examplesOf } from "../../../scripts/jsdoc-examples.ts"

// House rule: every export of a package's public modules carries JSDoc with `@since`
// (and a `@category` for everything but namespace re-exports, `export * as`).
const root = resolve(import.meta.dirname, "../../..")

const sources = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? entry.name === "internal" ? [] : sources(join(dir, entry.name))
      : entry.name.endsWith(".ts")
      ? [join(dir, entry.name)]
      : []
  )

const undocumented = (file: string): Array<string> => {
  const lines = readFileSync(file, "utf8").split("\n")
  const missing: Array<string> = []
  let depth = 0
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (depth === 0 && /^export (const|function|class|interface|type|declare|abstract|\* as)/.test(line)) {
      let j = i - 1
      while (j >= 0 && lines[j]!.trim() === "") j--
      if (!lines[j]?.trim().endsWith("*/")) {
        missing.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`)
      } else {
        let k = j
        while (k >= 0 && !lines[k]!.trim().startsWith("/**")) k--
        const doc = lines.slice(k, j + 1).join("\n")
        if (!doc.includes("@since")) missing.push(`${relative(root, file)}:${i + 1}: no @since: ${line.trim()}`)
        if (!line.startsWith("export * as") && !doc.includes("@category")) {
          missing.push(`${relative(root, file)}:${i + 1}: no @category: ${line.trim()}`)
        }
      }
    }
    for (const ch of line) {
      if (ch === "{") depth++
      else if (ch === "}") depth--
    }
  }
  return missing
}

describe("JSDoc", () => {
  for (const pkg of ["core", "node"]) {
    it(`every export of @runstate/${pkg} has JSDoc with @since`, () => {
      const files = sources(join(root, "packages", pkg, "src")).filter((f) => !f.endsWith("bin.ts"))
      expect(files.length).toBeGreaterThan(0)
      expect(files.flatMap(undocumented)).toEqual([])
    })
  }
})

describe("@example extraction (scripts/jsdoc-examples.ts, run by CI to type-check every example)", () => {
  it("takes the ts blocks of @example sections only, with their own indentation and source line", () => {
    const text = [
      "/**",
      " * Summary.",
      " *",
      " * ```ts",
      " * notAnExample()",
      " * ```",
      " *",
      " * @example",
      " * ```ts",
      " * import { Effect } from \"effect\"",
      " *",
      " * const x = Effect.gen(function*() {",
      " *   return 1",
      " * })",
      " * ```",
      " *",
      " * @category constructors",
      " * ```ts",
      " * afterAnotherTag()",
      " * ```",
      " * @since 0.2.0",
      " */",
      "export const x = 1"
    ].join("\n")
    expect(examplesOf("M.ts", text)).toEqual([{
      file: "M.ts",
      line: 9,
      code: "import { Effect } from \"effect\"\n\nconst x = Effect.gen(function*() {\n  return 1\n})"
    }])
  })

  it("finds the examples of the public modules", () => {
    const file = join(root, "packages/core/src/State.ts")
    const examples = examplesOf(file, readFileSync(file, "utf8"))
    expect(examples.length).toBeGreaterThan(0)
    for (const example of examples) expect(example.code).toContain("@runstate/core")
  })
})
