/**
 * The W3C `traceparent` of a fiber's current span, read without failing and
 * without allocating when there is no span: the one builder behind
 * `State.withTraceparent` and the states `Aggregate`, `Failure` and `Run`
 * build.
 */
import type * as Fiber from "effect/Fiber"
import type * as Tracer from "effect/Tracer"

const traceIdPattern = /^[0-9a-f]{32}$/
const spanIdPattern = /^[0-9a-f]{16}$/

/**
 * `00-<trace id>-<span id>-<flags>` of a local span (the span
 * `Effect.currentSpan` would answer), or `null` without one or when its ids
 * are not W3C ids (a custom tracer's).
 */
export const traceparentOfSpan = (span: Tracer.AnySpan | undefined): string | null => {
  if (span === undefined || span._tag !== "Span") return null
  if (!traceIdPattern.test(span.traceId) || !spanIdPattern.test(span.spanId)) return null
  return `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
}

/** The traceparent of the fiber's current span (Fiber's cached context: no lookup, no error). */
export const traceparentOf = (fiber: Fiber.Fiber<unknown, unknown>): string | null =>
  traceparentOfSpan(fiber.cache.span)
