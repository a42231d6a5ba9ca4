import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { RunLog, State, Timeline } from "@runstate/core"

const t0 = Date.UTC(2026, 10, 30, 8, 0, 0)
const at = (ms: number) => new Date(t0 + ms)

/** A run's history from its states, as the task lifecycle records it. */
const history = (
  runId: string,
  name: string,
  states: ReadonlyArray<State.State<unknown>>,
  options: { kind?: RunLog.RunKind; flowRunId?: string } = {}
): Timeline.RunHistory => ({
  runId,
  name,
  transitions: states.map((to, i) => ({
    runId,
    kind: options.kind ?? "task",
    name,
    flowRunId: options.flowRunId,
    runCount: 1,
    from: states[i - 1],
    to
  }))
})

const retried = history("t-retry", "fetch-1", [
  State.Pending({ timestamp: at(0) }),
  State.Running({ timestamp: at(10) }),
  State.AwaitingRetry({ timestamp: at(110), scheduledTime: at(310) }),
  State.Retrying({ timestamp: at(310) }),
  State.Failed({ timestamp: at(400), message: "Task run encountered an exception ValueError: boom" })
])

describe("Timeline.layout", () => {
  it("draws each attempt as a RUNNING span coloured by the state it ended in, and the wait between them", () => {
    const l = Timeline.layout({ flow: undefined, tasks: [retried] })
    const row = l.rows[0] as Timeline.RunRow
    expect(row.segments.map((s) => [s.kind, s.state.name, s.colour, s.start - t0, s.end - t0])).toEqual([
      ["pending", "Pending", "PENDING", 0, 10],
      ["running", "Running", "SCHEDULED", 10, 110],
      ["waiting", "AwaitingRetry", "SCHEDULED", 110, 310],
      ["running", "Retrying", "FAILED", 310, 400]
    ])
    expect(row.final?.type).toBe("FAILED")
    expect(row.notes).toEqual([])
  })

  it("marks a cache hit, which never ran, as a final marker", () => {
    const cached = history("t-cached", "load", [
      State.Pending({ timestamp: at(0) }),
      State.Completed({ timestamp: at(1), name: "Cached" })
    ])
    const row = Timeline.layout({ flow: undefined, tasks: [cached] }).rows[0] as Timeline.RunRow
    expect(row.segments.map((s) => [s.kind, s.state.name])).toEqual([["pending", "Pending"], ["final", "Cached"]])
  })

  it("extends a run with no final state to the end of the history and says so", () => {
    const killed = history("t-open", "slow", [State.Pending({ timestamp: at(0) }), State.Running({ timestamp: at(5) })])
    const done = history("t-done", "quick", [
      State.Pending({ timestamp: at(0) }),
      State.Completed({ timestamp: at(900) })
    ])
    const l = Timeline.layout({ flow: undefined, tasks: [killed, done] })
    const row = l.taskRows.find((r) => r.runId === "t-open")!
    expect(row.segments.at(-1)).toMatchObject({ kind: "open", end: t0 + 900 })
    expect(row.notes.join()).toContain("no final state recorded")
  })

  it("draws states recorded out of time order in time order and notes it", () => {
    const shuffled = history("t-shuffled", "x", [
      State.Running({ timestamp: at(10) }),
      State.Pending({ timestamp: at(0) }),
      State.Completed({ timestamp: at(20) })
    ])
    const row = Timeline.layout({ flow: undefined, tasks: [shuffled] }).rows[0] as Timeline.RunRow
    expect(row.segments.map((s) => s.state.name)).toEqual(["Pending", "Running"])
    expect(row.notes).toContain("states recorded out of time order: drawn in time order")
  })

  it("orders task rows by start and groups them past the row limit, counting every run once", () => {
    const tasks = Array.from({ length: 1000 }, (_, i) =>
      history(`t${i}`, `task-${i}`, [
        State.Pending({ timestamp: at(1000 - i) }),
        i % 10 === 0 ? State.Failed({ timestamp: at(2000) }) : State.Completed({ timestamp: at(2000) })
      ]))
    const l = Timeline.layout({ flow: undefined, tasks }, { maxRows: 200 })
    const starts = l.taskRows.map((r) => r.start)
    expect(starts).toEqual(starts.toSorted((a, b) => a - b))
    expect(l.rows).toHaveLength(200)
    const counts = new Map<string, number>()
    for (const row of l.rows) {
      expect(row._tag).toBe("GroupRow")
      for (const [type, n] of (row as Timeline.GroupRow).counts) counts.set(type, (counts.get(type) ?? 0) + n)
    }
    expect(Object.fromEntries(counts)).toEqual({ COMPLETED: 900, FAILED: 100 })
  })
})

describe("Timeline.ticks", () => {
  it.each([
    [50, "10 ms"],
    [3_000, "500 ms"],
    [95_000, "15 s"],
    [2 * 3_600_000, "15 min"]
  ])("a %d ms run gets at most 9 evenly spaced ticks (second tick %s)", (span, second) => {
    const ticks = Timeline.ticks(t0, t0 + span)
    expect(ticks.length).toBeLessThanOrEqual(9)
    expect(ticks[0]).toEqual({ at: t0, label: "0 ms" })
    expect(ticks[1]!.label).toBe(second)
    const step = ticks[1]!.at - ticks[0]!.at
    ticks.forEach((t, i) => expect(t.at - t0).toBe(i * step))
    expect(ticks.at(-1)!.at).toBeLessThanOrEqual(t0 + span)
  })

  it("formats durations from milliseconds to hours", () => {
    expect(Timeline.formatDuration(0)).toBe("0 ms")
    expect(Timeline.formatDuration(1500)).toBe("1.5 s")
    expect(Timeline.formatDuration(5_400_000)).toBe("1 h 30 min")
  })
})

describe("Timeline.render", () => {
  it("escapes every text from the history: no markup from a message or name reaches the page", () => {
    const hostile = history("t\"><script>", "<img src=x onerror=alert(1)>", [
      State.Pending({ timestamp: at(0) }),
      State.Running({ timestamp: at(1) }),
      State.Failed({ timestamp: at(2), message: "<script>alert('x')</script> & \"quotes\"" })
    ])
    const html = Timeline.render({ flow: undefined, tasks: [hostile] })
    expect(html).not.toMatch(/<script|<img/i)
    expect(html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;")
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;")
  })

  it("loads nothing from anywhere: no external URL, a CSP that forbids fetching", () => {
    const html = Timeline.render({ flow: undefined, tasks: [retried] })
    expect(html).toContain("default-src 'none'")
    expect(html.match(/(?:src|href)=/g)).toBeNull()
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/)
  })

  it("shows the flow's name, final state and duration, and a table row per segment", () => {
    const flow = history("f1", "etl", [
      State.Pending({ timestamp: at(0) }),
      State.Running({ timestamp: at(1) }),
      State.Failed({ timestamp: at(500), message: "1/1 states failed." })
    ], { kind: "flow" })
    const html = Timeline.render({ flow, tasks: [retried] })
    expect(html).toContain("<title>etl</title>")
    expect(html).toContain("Failed — 1/1 states failed.")
    expect(html).toContain("<span id=\"duration\">500 ms</span>")
    expect(html.match(/<tr data-run-id="t-retry">/g)).toHaveLength(4)
    expect(html).toContain("<title>fetch-1 · Running → AwaitingRetry · 2026-11-30 08:00:00.010 UTC")
  })

  it("says what it found for an empty history", () => {
    const html = Timeline.render({ flow: undefined, tasks: [] })
    expect(html).toContain("No runs were found in this history.")
    expect(html).not.toContain("<svg")
  })
})

describe("Timeline.fromRunLog", () => {
  const record = (log: RunLog.RunLogShape, h: Timeline.RunHistory) => Effect.forEach(h.transitions, log.record)

  it.effect("reads the latest flow run and only its task runs; an unknown id is a RunNotFound", () =>
    Effect.gen(function*() {
      const log = yield* RunLog.makeMemory
      const flowA = history("fa", "first", [State.Completed({ timestamp: at(0) })], { kind: "flow" })
      const flowB = history("fb", "second", [State.Completed({ timestamp: at(5) })], { kind: "flow" })
      yield* record(log, flowA)
      yield* record(log, history("ta", "in-a", [State.Completed({ timestamp: at(1) })], { flowRunId: "fa" }))
      yield* record(log, flowB)
      yield* record(log, history("tb", "in-b", [State.Completed({ timestamp: at(6) })], { flowRunId: "fb" }))
      const provide = Effect.provideService(RunLog.RunLog, log)
      const latest = yield* provide(Timeline.fromRunLog())
      expect(latest.flow?.runId).toBe("fb")
      expect(latest.tasks.map((t) => t.runId)).toEqual(["tb"])
      const chosen = yield* provide(Timeline.fromRunLog({ runId: "fa" }))
      expect(chosen.tasks.map((t) => t.runId)).toEqual(["ta"])
      const missing = yield* Effect.flip(provide(Timeline.fromRunLog({ runId: "nope" })))
      expect(missing._tag).toBe("RunNotFound")
      expect(missing.message).toBe("No flow run with id nope in the history (it holds 2; the latest is fb)")
    }))
})
