/**
 * The nine state types of a Prefect run, in Prefect's declared order, and the
 * set of terminal (final) types: COMPLETED, FAILED, CANCELLED and CRASHED.
 * PAUSED and CANCELLING are not final.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A Prefect state type. The value equals its name, as in Prefect's enum.
 *
 * @category models
 * @since 0.1.0
 */
export type StateType =
  | "SCHEDULED"
  | "PENDING"
  | "RUNNING"
  | "COMPLETED"
  | "FAILED"
  | "CANCELLED"
  | "CRASHED"
  | "PAUSED"
  | "CANCELLING"

/**
 * Every state type, in Prefect's declared order (the order Prefect iterates the enum).
 *
 * @category constructors
 * @since 0.1.0
 */
export const all: ReadonlyArray<StateType> = [
  "SCHEDULED",
  "PENDING",
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "CRASHED",
  "PAUSED",
  "CANCELLING"
]

/**
 * The terminal state types (Prefect's `TERMINAL_STATES`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const terminal: ReadonlySet<StateType> = new Set<StateType>(["COMPLETED", "CANCELLED", "FAILED", "CRASHED"])

/**
 * Tells whether a state type is terminal (final).
 *
 * @example
 * ```ts
 * import { StateType } from "@runstate/core"
 *
 * StateType.isTerminal("FAILED") // true
 * StateType.isTerminal("PAUSED") // false
 * ```
 *
 * @category predicates
 * @since 0.1.0
 */
export const isTerminal = (self: StateType): boolean =>
  self === "COMPLETED" || self === "FAILED" || self === "CANCELLED" || self === "CRASHED"

const names: ReadonlySet<string> = new Set(all)

/**
 * Tells whether an unknown value is one of the nine state types.
 *
 * @category guards
 * @since 0.1.0
 */
export const isStateType = (u: unknown): u is StateType => typeof u === "string" && names.has(u)

/**
 * The schema of a state type: an upper-case literal, as on Prefect's wire.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = /*#__PURE__*/ Schema.Literals([
  "SCHEDULED",
  "PENDING",
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "CRASHED",
  "PAUSED",
  "CANCELLING"
])

/**
 * The default state name for a type: Prefect splits the value on `_` and
 * capitalises each part (`COMPLETED` → `Completed`).
 *
 * @category getters
 * @since 0.1.0
 */
export const defaultName = (self: StateType): string => defaultNames[self]

const defaultNames: Record<StateType, string> = {
  SCHEDULED: "Scheduled",
  PENDING: "Pending",
  RUNNING: "Running",
  COMPLETED: "Completed",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
  CRASHED: "Crashed",
  PAUSED: "Paused",
  CANCELLING: "Cancelling"
}
