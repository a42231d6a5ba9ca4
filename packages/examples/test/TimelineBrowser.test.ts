/**
 * The timeline page in a real browser: Debian's Chromium, driven by
 * playwright-core with the system binary (nothing downloads a browser). The
 * page must draw its rows with Prefect's colours, carry the hover texts, load
 * nothing from the network, and open a 10,000-task history in time. A
 * screenshot is kept in `build/artifacts/`. The docs show a committed copy of
 * it; beside it is the hash of the page it was taken of, so when the page
 * changes this test fails until the picture is refreshed
 * (`RUNSTATE_UPDATE_SCREENSHOT=1 pnpm vitest run TimelineBrowser`).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { chromium, type Browser } from "playwright-core"
import { Effect } from "effect"
import { State, Timeline } from "@runstate/core"
import { runDemo } from "../src/demo.ts"

const root = path.resolve(import.meta.dirname, "../../..")
const artifacts = path.join(root, "build", "artifacts")

const browserPath = (): string => {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"]
  const found = candidates.find((p): p is string => p !== undefined && existsSync(p))
  if (found === undefined) {
    throw new Error("Chromium not found (Debian: apt-get install chromium; or set CHROMIUM_PATH)")
  }
  return found
}

const t0 = Date.UTC(2026, 10, 30, 9, 0, 0)
const at = (ms: number) => new Date(t0 + ms)

const history = (
  runId: string,
  name: string,
  states: ReadonlyArray<State.State<unknown>>,
  kind: "task" | "flow" = "task"
): Timeline.RunHistory => ({
  runId,
  name,
  transitions: states.map((to, i) => ({ runId, kind, name, runCount: 1, from: states[i - 1], to }))
})

const sampleRun: Timeline.Input = {
  flow: history("flow-1", "nightly-etl", [
    State.Pending({ timestamp: at(0) }),
    State.Running({ timestamp: at(2) }),
    State.Failed({ timestamp: at(900), message: "1/4 states failed." })
  ], "flow"),
  tasks: [
    history("t-ok", "extract", [
      State.Pending({ timestamp: at(5) }),
      State.Running({ timestamp: at(10) }),
      State.Completed({ timestamp: at(300) })
    ]),
    history("t-retry", "transform", [
      State.Pending({ timestamp: at(20) }),
      State.Running({ timestamp: at(320) }),
      State.AwaitingRetry({ timestamp: at(400), scheduledTime: at(600) }),
      State.Retrying({ timestamp: at(600) }),
      State.Failed({ timestamp: at(700), message: "Task run encountered an exception Error: <b>boom</b> & \"more\"" })
    ]),
    history("t-cached", "load", [
      State.Pending({ timestamp: at(30) }),
      State.Completed({ timestamp: at(31), name: "Cached" })
    ]),
    history("t-crash", "notify", [
      State.Pending({ timestamp: at(40) }),
      State.Running({ timestamp: at(50) }),
      State.Crashed({ timestamp: at(800), message: "Execution was cancelled by the runtime environment." })
    ])
  ]
}

describe("the timeline page in Chromium", () => {
  let browser: Browser
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "runstate-timeline-"))
    browser = await chromium.launch({
      executablePath: browserPath(),
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync"
      ]
    })
  })

  afterAll(async () => {
    await browser?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const open = async (html: string, name: string) => {
    const file = path.join(dir, `${name}.html`)
    writeFileSync(file, html)
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } })
    const requests: Array<string> = []
    page.on("request", (request) => {
      if (request.url() !== pathToFileURL(file).href) requests.push(request.url())
    })
    // A page that does not finish loading within 20 s fails the test.
    await page.goto(pathToFileURL(file).href, { waitUntil: "load", timeout: 20_000 })
    return { page, requests }
  }

  it("draws the rows with Prefect's colours and hover texts, and fetches nothing", async () => {
    const html = Timeline.render(sampleRun)
    const { page, requests } = await open(html, "sample")
    expect(requests).toEqual([])
    const rows = await page.$$eval(
      "svg g.row",
      (gs) => gs.map((g) => [g.getAttribute("data-run-id"), g.getAttribute("data-final")])
    )
    expect(rows).toEqual([
      ["flow-1", "FAILED"],
      ["t-ok", "COMPLETED"],
      ["t-retry", "FAILED"],
      ["t-cached", "COMPLETED"],
      ["t-crash", "CRASHED"]
    ])
    const fills = await page.$$eval(
      "svg .seg",
      (els) =>
        els.map((el) => [el.getAttribute("data-state"), el.getAttribute("data-colour"), getComputedStyle(el).fill])
    )
    // Prefect's UI colours (light scheme): completed #219d4b, failed #de0529, crashed #ea580c, scheduled #e08504.
    expect(fills).toContainEqual(["Running", "COMPLETED", "rgb(33, 157, 75)"])
    expect(fills).toContainEqual(["Retrying", "FAILED", "rgb(222, 5, 41)"])
    expect(fills).toContainEqual(["Running", "CRASHED", "rgb(234, 88, 12)"])
    expect(fills).toContainEqual(["AwaitingRetry", "SCHEDULED", "rgb(224, 133, 4)"])
    expect(fills).toContainEqual(["Cached", "COMPLETED", "rgb(33, 157, 75)"])
    const titles = await page.$$eval("svg .seg title", (ts) => ts.map((t) => t.textContent))
    expect(titles).toContain(
      "transform · Retrying → Failed · 2026-11-30 09:00:00.600 UTC – 2026-11-30 09:00:00.700 UTC (100 ms) · " +
        "Task run encountered an exception Error: <b>boom</b> & \"more\""
    )
    // The message's markup stays text: no element was made from it.
    expect(await page.$$("svg b, table b")).toHaveLength(0)
    const markers = await page.$$eval("svg text.marker", (ts) => ts.map((t) => t.textContent))
    expect(markers).toEqual(["Cached", "CRASHED"])
    const tableRows = await page.$$eval("#segments tbody tr", (trs) => trs.length)
    expect(tableRows).toBe(2 + 2 + 4 + 2 + 2)
    mkdirSync(artifacts, { recursive: true })
    const shot = path.join(artifacts, "timeline.png")
    await page.screenshot({ path: shot, fullPage: true })
    expect(existsSync(shot)).toBe(true)
    const pageHash = createHash("sha256").update(html).digest("hex")
    const hashFile = path.join(root, "docs", "images", "timeline.png.page-sha256")
    if (process.env.RUNSTATE_UPDATE_SCREENSHOT === "1") {
      copyFileSync(shot, path.join(root, "docs", "images", "timeline.png"))
      writeFileSync(hashFile, `${pageHash}\n`)
    }
    expect(readFileSync(hashFile, "utf8").trim(), "the docs' screenshot is of an older page: refresh it").toBe(pageHash)
    await page.close()
  })

  it("opens the page `pnpm demo` writes: a row per task run, retries, the timeout and the cancelled export", async () => {
    const file = path.join(dir, "demo-timeline.html")
    const report = await Effect.runPromise(runDemo({ _tag: "Memory" }, { timelineFile: file }))
    const { page, requests } = await open(readFileSync(file, "utf8"), "demo")
    expect(requests).toEqual([])
    const rows = await page.$$eval(
      "svg g.row",
      (gs) => gs.map((g) => [g.querySelector("text")!.textContent, g.getAttribute("data-final")])
    )
    expect(rows[0]![0]).toMatch(/^daily-orders-/)
    expect(rows[0]![1]).toBe(report.run.flow.type)
    expect(rows.slice(1).map(([name]) => name!.replace(/-\d+$/, "")).sort()).toEqual(
      report.run.tasks.map((t) => t.name).sort()
    )
    expect(rows).toContainEqual(["enrich-customers-0", "FAILED"])
    expect(rows).toContainEqual(["legacy-export-0", "CANCELLED"])
    const kinds = await page.$$eval("svg .seg", (els) => els.map((el) => el.getAttribute("data-state")))
    // fetch-prices failed twice before it succeeded: two waits, two Retrying attempts.
    expect(kinds.filter((k) => k === "AwaitingRetry")).toHaveLength(2)
    expect(kinds.filter((k) => k === "Retrying")).toHaveLength(2)
    const titles = await page.$$eval("svg .seg title", (ts) => ts.map((t) => t.textContent ?? ""))
    expect(titles.some((t) => t.includes("Task run exceeded timeout of 0.06 second(s)"))).toBe(true)
    await page.screenshot({ path: path.join(artifacts, "demo-timeline.png"), fullPage: true })
    await page.close()
  })

  it("switches to the dark palette when the browser prefers it", async () => {
    const { page } = await open(Timeline.render(sampleRun), "dark")
    await page.emulateMedia({ colorScheme: "dark" })
    const fill = await page.$eval("svg .seg[data-state='Retrying']", (el) => getComputedStyle(el).fill)
    expect(fill).toBe("rgb(227, 171, 171)")
    await page.close()
  })

  it("opens a 10,000-task history as aggregate rows within the test's time", async () => {
    const tasks = Array.from({ length: 10_000 }, (_, i) =>
      history(`t${i}`, `task-${i}`, [
        State.Pending({ timestamp: at(i) }),
        State.Running({ timestamp: at(i + 1) }),
        i % 100 === 0 ? State.Failed({ timestamp: at(i + 50) }) : State.Completed({ timestamp: at(i + 50) })
      ]))
    const html = Timeline.render({ flow: undefined, tasks })
    const { page, requests } = await open(html, "large")
    expect(requests).toEqual([])
    expect(await page.$$eval("svg g.group", (gs) => gs.length)).toBe(200)
    expect(await page.$$eval("#segments tbody tr", (trs) => trs.length)).toBe(20_000)
    await page.close()
  })
})
