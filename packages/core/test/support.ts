/**
 * Test support shared by the core test files: a log capture, a memory store whose
 * writes fail, and Prefect's worked aggregate examples (`return_value_to_state`).
 */
import { Effect, Layer, Logger } from "effect"
import { ResultStore, RunError, State, type StateType } from "@runstate/core"

/** Captures log lines as `${level}: ${message}`. */
export const captureLogs = () => {
  const messages: Array<string> = []
  const logger = Logger.make((options) => {
    const m = options.message
    messages.push(`${options.logLevel}: ${Array.isArray(m) ? m.join(" ") : String(m)}`)
  })
  return { messages, layer: Logger.layer([logger]) }
}

/** The memory store whose writes always fail with a `StorageError` "disk full". */
export const failingStore = Layer.effect(
  ResultStore.ResultStore,
  Effect.map(Effect.service(ResultStore.ResultStore), (store) =>
    ResultStore.ResultStore.of({
      ...store,
      persistResultRecord: () => Effect.fail(new RunError.StorageError({ message: "disk full", key: "k" }))
    }))
).pipe(Layer.provide(ResultStore.layerMemory))

/** Prefect's aggregate examples: states, the aggregate type and the exact message. */
export const aggregateExamples: ReadonlyArray<
  readonly [string, () => Array<State.State<unknown>>, StateType.StateType, string]
> = [
  ["[Completed, Completed]", () => [State.Completed(), State.Completed()], "COMPLETED", "All states completed."],
  [
    "[Completed, Failed, Failed]",
    () => [State.Completed(), State.Failed(), State.Failed()],
    "FAILED",
    "2/3 states failed."
  ],
  [
    "[Completed, Running, Pending]",
    () => [State.Completed(), State.Running(), State.Pending()],
    "FAILED",
    "2/3 states are not final."
  ],
  ["[Completed, Cancelled]", () => [State.Completed(), State.Cancelled()], "CANCELLED", "1/2 states cancelled."],
  ["[Completed, Paused]", () => [State.Completed(), State.Paused()], "PAUSED", "1/2 states paused."],
  ["[Cancelled, Failed]", () => [State.Cancelled(), State.Failed()], "CANCELLED", "1/2 states cancelled."],
  ["[Paused, Failed]", () => [State.Paused(), State.Failed()], "PAUSED", "1/2 states paused."],
  ["[Paused, Cancelled]", () => [State.Paused(), State.Cancelled()], "CANCELLED", "1/2 states cancelled."],
  [
    "[Crashed, Failed, Running]",
    () => [State.Crashed(), State.Failed(), State.Running()],
    "FAILED",
    "2/3 states failed."
  ],
  ["[Cancelling]", () => [State.Cancelling()], "FAILED", "1/1 states are not final."],
  [
    "[Completed, Failed, Running, Cancelled]",
    () => [State.Completed(), State.Failed(), State.Running(), State.Cancelled()],
    "CANCELLED",
    "1/4 states cancelled."
  ]
]

/** A value every inspection of which throws (property reads, `in`, its prototype, its keys): hostile error data. */
export const throwingProxy = new Proxy({}, {
  get: () => {
    throw new Error("get")
  },
  has: () => {
    throw new Error("has")
  },
  getPrototypeOf: () => {
    throw new Error("getPrototypeOf")
  },
  ownKeys: () => {
    throw new Error("ownKeys")
  },
  getOwnPropertyDescriptor: () => {
    throw new Error("getOwnPropertyDescriptor")
  }
})
