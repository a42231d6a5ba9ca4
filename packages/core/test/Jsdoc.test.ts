import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"

// House rule: every export of a package's public modules carries JSDoc with `@since`
// (and a `@category` for everything but re-exports and type-only namespace members).
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
