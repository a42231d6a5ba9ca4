/**
 * Prefect's eighteen `StateDetails` fields, declared once: each camelCase name
 * (its wire name is the snake_case form) with the shape of its values. Plain
 * data with no dependency, so that `State` (which needs the field list and the
 * defaults) does not pull the schema machinery into a bundle; the
 * `StateDetails.schema` built from it is what the codecs use.
 *
 * @internal
 */

/** The shape of a field's values (`flag`: a boolean defaulting to `false`; the rest default to `null`). */
export type FieldKind = "uuid" | "dateTime" | "string" | "boolean" | "flag" | "keyset"

/** The fields, in Prefect's order. */
export const declaration = {
  flowRunId: "uuid",
  taskRunId: "uuid",
  childFlowRunId: "uuid",
  scheduledTime: "dateTime",
  cacheKey: "string",
  cacheExpiration: "dateTime",
  deferred: "boolean",
  untrackableResult: "flag",
  pauseTimeout: "dateTime",
  pauseReschedule: "flag",
  pauseKey: "string",
  runInputKeyset: "keyset",
  refreshCache: "boolean",
  retriable: "boolean",
  transitionId: "uuid",
  taskParametersId: "uuid",
  traceparent: "string",
  deploymentConcurrencyLeaseId: "uuid"
} as const satisfies Record<string, FieldKind>

/** The default of a field of `kind`: `false` for flags, `null` for the rest. */
export const defaultOf = (kind: FieldKind): false | null => kind === "flag" ? false : null
