/**
 * Process signals as run states: while a run is in progress, SIGINT and
 * SIGTERM do not kill the process — they interrupt the run's effect with an
 * `InterruptSignal` / `TerminationSignal`, the run ends CRASHED with Prefect's
 * message (`Execution was aborted by an interrupt signal.` /
 * `Execution was aborted by a termination signal.`), the program goes on to
 * persist or report that state, and only then does the process exit — with
 * the shell's conventional code for death by that signal, 128 + the signal
 * number: 130 after SIGINT, 143 after SIGTERM.
 *
 * `runWithSignals` is `Failure.run` with the signal handling; `runMain`
 * replaces `NodeRuntime.runMain` for programs that use it (NodeRuntime's own
 * handlers would interrupt the whole program, persistence included).
 *
 * @since 0.1.0
 */
import * as Failure from "@runstate/core/Failure"
import type { ResultStore } from "@runstate/core/ResultStore"
import type * as State from "@runstate/core/State"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Runtime from "effect/Runtime"
import { constants } from "node:os"

/**
 * The signals a run turns into crashes: SIGINT becomes an `InterruptSignal`
 * (Prefect's `KeyboardInterrupt`), the others a `TerminationSignal` carrying
 * the signal number.
 *
 * @category models
 * @since 0.1.0
 */
export type Signal = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGQUIT" | "SIGBREAK"

/**
 * The signals handled by default.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSignals: ReadonlyArray<Signal> = ["SIGINT", "SIGTERM"]

/**
 * The signal's number (`SIGINT` 2, `SIGTERM` 15, `SIGHUP` 1, `SIGQUIT` 3, `SIGBREAK` 21).
 *
 * @category getters
 * @since 0.1.0
 */
export const signalNumber = (signal: Signal): number =>
  (constants.signals as Record<string, number | undefined>)[signal] ?? fallbackNumbers[signal]

const fallbackNumbers: Record<Signal, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15, SIGBREAK: 21 }

/**
 * The exit code of a process that stopped because of the signal: 128 + its
 * number (130 for SIGINT, 143 for SIGTERM), as shells report it.
 *
 * @category getters
 * @since 0.1.0
 */
export const exitCode = (signal: Signal): number => 128 + signalNumber(signal)

/**
 * The error a run fails with when the signal arrives.
 *
 * @example
 * ```ts
 * import { NodeSignals } from "@runstate/node"
 *
 * NodeSignals.toError("SIGTERM") // TerminationSignal { signal: 15 }
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const toError = (signal: Signal): Failure.InterruptSignal | Failure.TerminationSignal =>
  signal === "SIGINT"
    ? new Failure.InterruptSignal()
    : new Failure.TerminationSignal({ signal: signalNumber(signal) })

// -----------------------------------------------------------------------------
// process-wide dispatch (signals are process-global)
// -----------------------------------------------------------------------------

type RunListener = (signal: Signal) => void
type MainListener = (signal: Signal, handledByRun: boolean) => void

interface Registry {
  readonly runs: Map<RunListener, ReadonlyArray<Signal>>
  readonly mains: Map<MainListener, ReadonlyArray<Signal>>
  readonly installed: Map<Signal, () => void>
}

const registry: Registry = { runs: new Map(), mains: new Map(), installed: new Map() }

/**
 * Main listeners hear of the signal before any run does: waking a run can finish
 * the whole program synchronously (when nothing asynchronous follows the run), and
 * the exit code must already know the signal by then.
 */
const dispatch = (signal: Signal): void => {
  const runs = Array.from(registry.runs).filter(([, signals]) => signals.includes(signal))
  const handledByRun = runs.length > 0
  for (const [listener, signals] of Array.from(registry.mains)) {
    if (handledByRun || signals.includes(signal)) listener(signal, handledByRun)
  }
  for (const [listener] of runs) listener(signal)
}

/** Installs a process handler for every signal someone listens to, and removes the others. */
const sync = (): void => {
  const wanted = new Set<Signal>()
  for (const signals of registry.runs.values()) for (const s of signals) wanted.add(s)
  for (const signals of registry.mains.values()) for (const s of signals) wanted.add(s)
  for (const [signal, handler] of Array.from(registry.installed)) {
    if (!wanted.has(signal)) {
      process.removeListener(signal, handler)
      registry.installed.delete(signal)
    }
  }
  for (const signal of wanted) {
    if (!registry.installed.has(signal)) {
      const handler = () => dispatch(signal)
      registry.installed.set(signal, handler)
      process.on(signal, handler)
    }
  }
}

// -----------------------------------------------------------------------------
// runWithSignals
// -----------------------------------------------------------------------------

/**
 * Options of {@link runWithSignals}: those of `Failure.run` plus the signals to handle.
 *
 * @category models
 * @since 0.1.0
 */
export interface RunWithSignalsOptions<R = never> extends Failure.RunOptions<R> {
  /** Default {@link defaultSignals} (SIGINT and SIGTERM). */
  readonly signals?: ReadonlyArray<Signal> | undefined
}

/**
 * Wraps an effect so that, while it runs, the given signals (default SIGINT
 * and SIGTERM) fail it with `InterruptSignal` / `TerminationSignal` instead of
 * killing the process: the effect is interrupted (its finalizers run) and the
 * signal error becomes the failure. The handlers are installed before the
 * effect starts and removed when it ends.
 *
 * @category combinators
 * @since 0.1.0
 */
export const interruptOnSignals = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  signals: ReadonlyArray<Signal> = defaultSignals
): Effect.Effect<A, E | Failure.InterruptSignal | Failure.TerminationSignal, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const received = Deferred.makeUnsafe<never, Failure.InterruptSignal | Failure.TerminationSignal>()
      const listener: RunListener = (signal) => {
        Deferred.doneUnsafe(received, Exit.fail(toError(signal)))
      }
      registry.runs.set(listener, signals)
      sync()
      return { received, listener }
    }),
    ({ received }) => Effect.raceFirst(effect, Deferred.await(received)),
    ({ listener }) =>
      Effect.sync(() => {
        registry.runs.delete(listener)
        sync()
      })
  )

/**
 * `Failure.run` with signal handling: SIGINT / SIGTERM (or `options.signals`)
 * arriving while the effect runs interrupt it, and the run ends CRASHED with
 * `Execution was aborted by an interrupt signal.` /
 * `Execution was aborted by a termination signal.` The state is returned as
 * usual, so the caller can persist it before the process exits; run the
 * program with {@link runMain} to exit with 130 / 143 afterwards.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResultStore } from "@runstate/core"
 * import { NodeSignals } from "@runstate/node"
 *
 * const program = Effect.gen(function*() {
 *   const state = yield* NodeSignals.runWithSignals(Effect.sleep("1 hour"))
 *   yield* Effect.log(state.message) // after SIGTERM: "Execution was aborted by a termination signal."
 * })
 *
 * NodeSignals.runMain(program.pipe(Effect.provide(ResultStore.layerMemory)))
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const runWithSignals = <A, E, R, R2 = never>(
  effect: Effect.Effect<A, E, R>,
  options?: RunWithSignalsOptions<R2>
): Effect.Effect<State.State<unknown>, never, R | R2 | ResultStore> =>
  Failure.run(interruptOnSignals(effect, options?.signals ?? defaultSignals), options)

// -----------------------------------------------------------------------------
// runMain
// -----------------------------------------------------------------------------

/**
 * Runs a program as the process's main effect, like `NodeRuntime.runMain`
 * (error reporting, keep-alive, `teardown`), with signals handled the
 * runstate way:
 *
 * - a signal that arrives while a {@link runWithSignals} run is in progress
 *   crashes that run only; the program continues (to persist the state, say);
 * - a signal that arrives when no run is in progress interrupts the program,
 *   as `NodeRuntime.runMain` does;
 * - either way, once the program has ended, the process exits with
 *   128 + the first signal's number (130 for SIGINT, 143 for SIGTERM);
 *   without a signal the exit code is the teardown's (0 on success, 1 on
 *   failure by default).
 *
 * @category running
 * @since 0.1.0
 */
export const runMain: {
  (
    options?: {
      readonly disableErrorReporting?: boolean | undefined
      readonly teardown?: Runtime.Teardown | undefined
    }
  ): <E, A>(effect: Effect.Effect<A, E>) => void
  <E, A>(
    effect: Effect.Effect<A, E>,
    options?: {
      readonly disableErrorReporting?: boolean | undefined
      readonly teardown?: Runtime.Teardown | undefined
    }
  ): void
} = Runtime.makeRunMain(({ fiber, teardown }) => {
  let received: Signal | undefined
  const listener: MainListener = (signal, handledByRun) => {
    received ??= signal
    if (!handledByRun) fiber.interruptUnsafe(fiber.id)
  }
  registry.mains.set(listener, defaultSignals)
  sync()
  fiber.addObserver((exit) => {
    registry.mains.delete(listener)
    sync()
    teardown(exit, (code) => {
      if (received !== undefined) process.exit(exitCode(received))
      else if (code !== 0) process.exit(code)
    })
  })
})
