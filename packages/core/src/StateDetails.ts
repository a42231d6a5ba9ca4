/**
 * The details attached to a state: run ids, scheduling and pause information,
 * cache settings, the retry flag, the W3C trace context and the deployment
 * concurrency lease — Prefect's eighteen `StateDetails` fields in camelCase and
 * in Prefect's field order. Details are immutable plain values; states that
 * carry no details share the single {@link empty} value.
 *
 * @since 0.1.0
 */
import { dual } from "effect/Function"
import * as Schema from "effect/Schema"
import { declaration, defaultOf } from "./internal/detailsDeclaration.ts"
import { isBuilt, register } from "./internal/detailsRegistry.ts"
import { Field } from "./internal/wireSchemas.ts"

type Declaration = typeof declaration

/** Each declared field's schema, by its kind (one schema object per kind, so readers can tell a shape by identity). */
const schemaFields = (d: Declaration): { readonly [K in keyof Declaration]: (typeof Field)[Declaration[K]] } =>
  Object.fromEntries(Object.entries(d).map(([key, kind]) => [key, Field[kind]])) as {
    readonly [K in keyof Declaration]: (typeof Field)[Declaration[K]]
  }

/**
 * The eighteen fields as a schema: name (camelCase; the wire name is its
 * snake_case form), shape and default, built from the one declaration of the
 * fields (a table of names and shapes, which {@link fields} and {@link empty}
 * read without loading any schema code, so a bundle of `State` stays small).
 * The {@link StateDetails} type, {@link make} and the wire codec
 * (`Wire.StateDetailsJson`, the same fields under their snake_case names)
 * derive from this schema. Its own encoded form is camelCase JSON: decoding
 * fills every missing key with its default, reads datetimes and UUIDs as
 * Prefect's models do and normalises UUIDs to lowercase hyphenated.
 *
 * @category schemas
 * @since 0.2.0
 */
export const schema = /*#__PURE__*/ Schema.Struct(/*#__PURE__*/ schemaFields(declaration))

/**
 * Prefect's `StateDetails`. Every field is present; absent values are `null`
 * (Prefect's `None`), and the two boolean fields `untrackableResult` and
 * `pauseReschedule` default to `false`.
 *
 * @category models
 * @since 0.1.0
 */
export interface StateDetails extends Schema.Schema.Type<typeof schema> {}

/**
 * What a constructor accepts for details: any subset of the fields; missing
 * fields take their defaults.
 *
 * @category models
 * @since 0.1.0
 */
export type Input = { readonly [K in keyof StateDetails]?: StateDetails[K] | undefined }

/**
 * The field names, in Prefect's order (also the JSON key order on the wire).
 *
 * @category constructors
 * @since 0.1.0
 */
export const fields: ReadonlyArray<keyof StateDetails> = Object.keys(declaration) as Array<keyof StateDetails>

/**
 * A camelCase name in snake_case, as a type (`"flowRunId"` → `"flow_run_id"`).
 *
 * @category models
 * @since 0.2.0
 */
export type SnakeCase<S extends string> = S extends `${infer C}${infer Rest}`
  ? `${C extends Lowercase<C> ? C : `_${Lowercase<C>}`}${SnakeCase<Rest>}`
  : S

/**
 * Each field's name on Prefect's wire: its snake_case form.
 *
 * @category constructors
 * @since 0.2.0
 */
export const jsonKeys: { readonly [K in keyof StateDetails]: SnakeCase<K> } = Object.fromEntries(
  fields.map((key) => [key, key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)])
) as { readonly [K in keyof StateDetails]: SnakeCase<K> }

/**
 * The empty details, shared by every state built without details (Prefect's
 * `StateDetails()`: all `null`, `untrackableResult` and `pauseReschedule` false).
 *
 * @category constructors
 * @since 0.1.0
 */
export const empty: StateDetails = Object.freeze(
  Object.fromEntries(fields.map((key) => [key, defaultOf(declaration[key])]))
) as StateDetails

const defaults: ReadonlyArray<unknown> = fields.map((key) => empty[key])

/**
 * Builds details from any subset of the fields. Unknown keys are ignored (as
 * Prefect's `extra = ignore`), `undefined` means "use the default", and an
 * input that sets nothing returns the shared {@link empty} value.
 *
 * @example
 * ```ts
 * import { StateDetails } from "@runstate/core"
 *
 * const details = StateDetails.make({ flowRunId: "0190c6a4-7b2e-7d3c-9a1f-2b3c4d5e6f70" })
 * details.taskRunId // null
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (input?: Input | StateDetails): StateDetails => {
  if (input === undefined || input === empty) return empty
  // Details built here are frozen and complete: reuse them as they are.
  if (isBuilt(input)) return input as StateDetails
  // One fixed-shape literal: fast to allocate, one hidden class for all details. Typed as
  // `StateDetails`, so the compiler holds it to the schema's fields, no more and no fewer; a test
  // holds its defaults to the schema's (`make({})` is `empty`).
  const out: StateDetails = {
    flowRunId: input.flowRunId ?? null,
    taskRunId: input.taskRunId ?? null,
    childFlowRunId: input.childFlowRunId ?? null,
    scheduledTime: input.scheduledTime ?? null,
    cacheKey: input.cacheKey ?? null,
    cacheExpiration: input.cacheExpiration ?? null,
    deferred: input.deferred ?? null,
    untrackableResult: input.untrackableResult ?? false,
    pauseTimeout: input.pauseTimeout ?? null,
    pauseReschedule: input.pauseReschedule ?? false,
    pauseKey: input.pauseKey ?? null,
    runInputKeyset: input.runInputKeyset ?? null,
    refreshCache: input.refreshCache ?? null,
    retriable: input.retriable ?? null,
    transitionId: input.transitionId ?? null,
    taskParametersId: input.taskParametersId ?? null,
    traceparent: input.traceparent ?? null,
    deploymentConcurrencyLeaseId: input.deploymentConcurrencyLeaseId ?? null
  }
  return isDefault(out) ? empty : register(out)
}

const isDefault = (d: StateDetails): boolean => {
  for (let i = 0; i < fields.length; i++) if (d[fields[i]!] !== defaults[i]) return false
  return true
}

/**
 * Returns details with some fields replaced (a new value; the input is not touched).
 * Data-first (`update(details, patch)`) or data-last (`update(patch)`, as in
 * `pipe(details, StateDetails.update(patch))`).
 *
 * @category combinators
 * @since 0.1.0
 */
export const update: {
  (patch: Input): (self: StateDetails) => StateDetails
  (self: StateDetails, patch: Input): StateDetails
} = dual(2, (self: StateDetails, patch: Input): StateDetails => {
  let changed = false
  for (const key in patch) {
    const value = (patch as Record<string, unknown>)[key]
    if (value !== undefined && (self as unknown as Record<string, unknown>)[key] !== value) {
      changed = true
      break
    }
  }
  if (!changed) return self
  return make({ ...self, ...stripUndefined(patch) })
})

const stripUndefined = (patch: Input): Input => {
  const out: Record<string, unknown> = {}
  for (const key in patch) {
    const value = (patch as Record<string, unknown>)[key]
    if (value !== undefined) out[key] = value
  }
  return out as Input
}

/**
 * Tells whether the details are all defaults.
 *
 * @category predicates
 * @since 0.1.0
 */
export const isEmpty = (self: StateDetails): boolean => self === empty || make(self) === empty
