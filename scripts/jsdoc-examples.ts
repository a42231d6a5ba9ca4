/**
 * Type-checks every `@example` of the public modules' JSDoc: each fenced ```ts block
 * under an `@example` tag of `packages/{core,node}/src/*.ts` is written out as a module
 * of a scratch project (in `packages/examples/build/jsdoc-examples/`, where the
 * packages and `effect` resolve as they do for a user) and the project is checked with
 * `tsc` under the repository's strict options. An example that stops compiling after
 * an API change fails here, with the source file and line of its block.
 *
 * Usage: `node scripts/jsdoc-examples.ts`. Exits 1 on any type error or when no
 * example is found.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"

const root = resolve(import.meta.dirname, "..")

/** One fenced example: where it starts in its source file and its code. */
export interface Example {
  readonly file: string
  readonly line: number
  readonly code: string
}

/** The ```ts blocks of every `@example` section of the JSDoc comments of `text`. */
export const examplesOf = (file: string, text: string): Array<Example> => {
  const examples: Array<Example> = []
  const lines = text.split("\n")
  let inComment = false
  let inExample = false
  let block: Array<string> | undefined
  let blockStart = 0
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!
    if (!inComment) {
      if (/^\s*\/\*\*/.test(raw)) {
        inComment = true
        inExample = false
      } else continue
    }
    const content = raw.replace(/^\s*\/?\*\*?\/?\s?/, "").replace(/\s*\*\/\s*$/, "")
    if (block !== undefined) {
      if (/^```\s*$/.test(content.trim())) {
        examples.push({ file, line: blockStart, code: block.join("\n") })
        block = undefined
      } else {
        // Keep the example's own indentation: strip the comment's ` * ` prefix only.
        block.push(raw.replace(/^\s*\* ?/, ""))
      }
    } else if (/^@example\b/.test(content.trim())) {
      inExample = true
    } else if (/^@\w+/.test(content.trim())) {
      inExample = false
    } else if (inExample && /^```(ts|typescript)\b/.test(content.trim())) {
      block = []
      blockStart = i + 1
    }
    if (/\*\/\s*$/.test(raw)) {
      inComment = false
      inExample = false
      block = undefined
    }
  }
  return examples
}

const publicModules = (pkg: string): Array<string> => {
  const dir = join(root, "packages", pkg, "src")
  return readdirSync(dir).filter((f) => f.endsWith(".ts")).sort().map((f) => join(dir, f))
}

if (import.meta.main) {
  const out = join(root, "packages", "examples", "build", "jsdoc-examples")
  rmSync(out, { recursive: true, force: true })
  mkdirSync(join(out, "src"), { recursive: true })
  const names = new Map<string, Example>()
  for (const pkg of ["core", "node"]) {
    for (const file of publicModules(pkg)) {
      const base = file.slice(file.lastIndexOf("/") + 1, -3)
      for (const example of examplesOf(file, readFileSync(file, "utf8"))) {
        const name = `${pkg}-${base}-${example.line}.ts`
        names.set(name, example)
        // `export {}` makes each example a module of its own (no clashes between their names).
        writeFileSync(join(out, "src", name), `${example.code}\n\nexport {}\n`)
      }
    }
  }
  if (names.size === 0) {
    console.error("jsdoc-examples: no @example found")
    process.exit(1)
  }
  writeFileSync(
    join(out, "tsconfig.json"),
    JSON.stringify(
      {
        extends: "../../../../tsconfig.base.json",
        compilerOptions: {
          composite: false,
          declaration: false,
          declarationMap: false,
          sourceMap: false,
          noEmit: true,
          emitDeclarationOnly: false,
          // Examples show a call and often leave its result unused.
          noUnusedLocals: false,
          noUnusedParameters: false,
          types: ["node"]
        },
        include: ["src"]
      },
      null,
      2
    )
  )
  const tsc = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", out], {
    encoding: "utf8"
  })
  const report = `${tsc.stdout}${tsc.stderr}`.replace(
    /(?:[^\s(]*\/)?src\/((?:core|node)-\w+-\d+\.ts)\((\d+),(\d+)\)/g,
    (whole, name: string, line: string, column: string) => {
      const example = names.get(name)
      if (example === undefined) return whole
      // The block's first code line is the line after the fence.
      return `${relative(root, example.file)}:${example.line + Number(line)}:${column} (@example)`
    }
  )
  if (tsc.status !== 0) {
    console.log(report.trim())
    console.log(`jsdoc-examples: type errors in the @example blocks above (${names.size} examples checked)`)
    process.exit(1)
  }
  console.log(`jsdoc-examples: ${names.size} @example blocks type-check`)
}
