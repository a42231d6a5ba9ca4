/**
 * `pnpm docs:api` — generates the API reference from the JSDoc of the public
 * modules into `docs/api/` (gitignored): one markdown page per module with
 * each export's name, category, since, summary and examples, plus an index.
 *
 * The parser is deliberately simple (TypeScript 7 has no JS compiler API): a
 * `/** … *\/` block directly above a top-level `export const | function |
 * class | interface | type | declare | abstract class` line documents that
 * export; the first block of a file documents the module.
 *
 * `pnpm docs:api -- --sync` copies each docs example file (packages/examples/src/docs)
 * into the ```ts block of docs/*.md (and of the root README.md) that names it with
 * `<!-- example: src/docs/NAME.ts -->`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { basename, join, relative, resolve } from "node:path"

const root = resolve(import.meta.dirname, "..")

interface Doc {
  readonly summary: string
  readonly category: string | undefined
  readonly since: string | undefined
  readonly examples: ReadonlyArray<string>
}

interface Export extends Doc {
  readonly name: string
  readonly kind: string
  readonly signature: string
}

interface Module {
  readonly name: string
  readonly pkg: string
  readonly file: string
  readonly doc: Doc | undefined
  readonly exports: ReadonlyArray<Export>
}

/** Parses the inside of a JSDoc block (lines without the comment markers). */
export const parseDoc = (lines: ReadonlyArray<string>): Doc => {
  const summary: Array<string> = []
  const examples: Array<Array<string>> = []
  let category: string | undefined
  let since: string | undefined
  let section: Array<string> | undefined = summary
  for (const line of lines) {
    const tag = /^@(\w+)\s*(.*)$/.exec(line.trim())
    // An `@` inside an example's code fence is code, not a tag.
    if (tag !== null && !(section !== undefined && section !== summary && inFence(section))) {
      const name = tag[1]!
      const rest = tag[2]!.trim()
      if (name === "category") category = rest
      else if (name === "since") since = rest
      if (name === "example") {
        section = rest === "" ? [] : [rest]
        examples.push(section)
      } else section = undefined
      continue
    }
    if (section !== undefined) section.push(line)
  }
  return {
    summary: summary.join("\n").trim(),
    category,
    since,
    examples: examples.map((e) => e.join("\n").trim()).filter((e) => e !== "")
  }
}

const inFence = (lines: ReadonlyArray<string>): boolean =>
  lines.filter((l) => l.trim().startsWith("```")).length % 2 === 1

const exportLine =
  /^export\s+(?:declare\s+)?(?:abstract\s+)?(const|function|class|interface|type|namespace)\s+([A-Za-z_$][\w$]*)/

/** Parses one source file: its module doc and its documented top-level exports. */
export const parseModule = (pkg: string, file: string): Module => {
  const lines = readFileSync(file, "utf8").split("\n")
  const exports: Array<Export> = []
  let moduleDoc: Doc | undefined
  let pending: Doc | undefined
  let sawCode = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.startsWith("/**")) {
      const body: Array<string> = []
      let j = i
      const first = line.slice(3)
      if (first.includes("*/")) body.push(first.slice(0, first.indexOf("*/")).trim())
      else {
        if (first.trim() !== "") body.push(first.trim())
        for (j = i + 1; j < lines.length && !lines[j]!.includes("*/"); j++) {
          body.push(lines[j]!.replace(/^\s*\* ?/, ""))
        }
      }
      const doc = parseDoc(body)
      if (!sawCode && moduleDoc === undefined && !nextCode(lines, j + 1).startsWith("export ")) moduleDoc = doc
      else pending = doc
      i = j
      continue
    }
    if (line.trim() === "" || line.startsWith("//")) continue
    const match = exportLine.exec(line)
    if (match !== null) {
      if (pending !== undefined) {
        exports.push({ ...pending, kind: match[1]!, name: match[2]!, signature: signatureOf(lines, i) })
      }
    }
    if (!line.startsWith("#!")) sawCode = true
    pending = undefined
  }
  return { name: basename(file, ".ts"), pkg, file: relative(root, file), doc: moduleDoc, exports }
}

const nextCode = (lines: ReadonlyArray<string>, from: number): string => {
  for (let i = from; i < lines.length; i++) if (lines[i]!.trim() !== "") return lines[i]!
  return ""
}

/** The export's first line, or its declaration up to the body (at most 8 lines). */
const signatureOf = (lines: ReadonlyArray<string>, at: number): string => {
  const out: Array<string> = []
  for (let i = at; i < lines.length && out.length < 8; i++) {
    const line = lines[i]!
    out.push(line)
    if (/[{=]\s*$/.test(line) || line.endsWith(")") || /^\S.*[^,(]$/.test(line) && i > at) break
    if (i === at && !/[(<,]\s*$/.test(line)) break
  }
  return out.join("\n").replace(/\s*(=>|=|\{)\s*$/, "").trim()
}

/** `{@link Name}` → `` `Name` `` (headings of this page are not reliably linkable). */
const links = (text: string): string => text.replace(/\{@link\s+([^}\s]+)(?:\s+[^}]*)?\}/g, "`$1`")

const render = (m: Module): string => {
  const out: Array<string> = [`# ${m.name}`, "", `\`${m.pkg}/${m.name}\` — [source](../../${m.file})`, ""]
  if (m.doc !== undefined) {
    out.push(links(m.doc.summary), "")
    if (m.doc.since !== undefined) out.push(`Since ${m.doc.since}.`, "")
  }
  const byCategory = new Map<string, Array<Export>>()
  for (const e of m.exports) {
    const category = e.category ?? "other"
    byCategory.set(category, [...(byCategory.get(category) ?? []), e])
  }
  const categories = [...byCategory.keys()].sort()
  out.push("## Contents", "")
  for (const c of categories) {
    out.push(`- **${c}**: ${byCategory.get(c)!.map((e) => `[${e.name}](#${e.name.toLowerCase()})`).join(", ")}`)
  }
  out.push("")
  for (const c of categories) {
    out.push(`## ${c}`, "")
    for (const e of byCategory.get(c)!.sort((a, b) => a.name.localeCompare(b.name))) {
      out.push(`### ${e.name}`, "")
      out.push("```ts", e.signature, "```", "")
      if (e.summary !== "") out.push(links(e.summary), "")
      for (const example of e.examples) {
        out.push("**Example**", "", example.startsWith("```") ? example : ["```ts", example, "```"].join("\n"), "")
      }
      out.push(`*${e.kind}* · category: ${e.category ?? "—"} · since ${e.since ?? "—"}`, "")
    }
  }
  return out.join("\n")
}

const modulesOf = (pkg: string, dir: string): Array<Module> =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && f !== "index.ts" && f !== "bin.ts")
    .sort()
    .map((f) => parseModule(pkg, join(dir, f)))

/** Generates docs/api/: one page per module and an index. */
export const generate = (outDir: string = join(root, "docs", "api")): Array<Module> => {
  const modules = [
    ...modulesOf("@runstate/core", join(root, "packages", "core", "src")),
    ...modulesOf("@runstate/node", join(root, "packages", "node", "src"))
  ]
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const index = ["# API reference", "", "Generated by `pnpm docs:api` from the JSDoc of the sources. Do not edit.", ""]
  let pkg = ""
  for (const m of modules) {
    if (m.pkg !== pkg) {
      pkg = m.pkg
      index.push(`## ${pkg}`, "")
    }
    writeFileSync(join(outDir, `${m.name}.md`), render(m))
    const summary = (m.doc?.summary ?? "").split(/\n\n/)[0]!.replace(/\n/g, " ")
    index.push(`- [${m.name}](${m.name}.md) — ${m.exports.length} exports. ${summary}`)
  }
  index.push("")
  writeFileSync(join(outDir, "README.md"), index.join("\n"))
  return modules
}

/** Copies every named example file into its ```ts block in docs/**.md and README.md; answers the pages changed. */
export const sync = (): Array<string> => {
  const examples = join(root, "packages", "examples")
  const changed: Array<string> = []
  const walk = (dir: string): Array<string> =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? e.name === "api" ? [] : walk(join(dir, e.name))
        : e.name.endsWith(".md")
        ? [join(dir, e.name)]
        : []
    )
  for (const page of [...walk(join(root, "docs")), join(root, "README.md")]) {
    const text = readFileSync(page, "utf8")
    const next = text.replace(
      /<!-- example: (\S+) -->\n```ts\n[\s\S]*?\n```/g,
      (block, file: string) => {
        const path = join(examples, file)
        if (!existsSync(path)) return block
        return `<!-- example: ${file} -->\n\`\`\`ts\n${readFileSync(path, "utf8").trimEnd()}\n\`\`\``
      }
    )
    if (next !== text) {
      writeFileSync(page, next)
      changed.push(relative(root, page))
    }
  }
  return changed
}

if (import.meta.main) {
  if (process.argv.includes("--sync")) {
    const changed = sync()
    process.stdout.write(
      changed.length === 0 ? "docs: all examples in sync\n" : `docs: updated ${changed.join(", ")}\n`
    )
  } else {
    const modules = generate()
    const exports = modules.reduce((n, m) => n + m.exports.length, 0)
    process.stdout.write(`docs: ${modules.length} modules, ${exports} exports → docs/api/\n`)
  }
}
