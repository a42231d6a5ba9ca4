/**
 * Type-level tests of the public API of @runstate/core: `pnpm check` (tsc) fails when a
 * signature drifts — an `expectTypeOf` no longer matches, or a `@ts-expect-error` line
 * starts to compile. At run time the assertions are no-ops; the values are built so that
 * the file also runs.
 */
import { describe, expectTypeOf, it } from "@effect/vitest"
import { Effect, type Layer, Schema } from "effect"
import type { ResultRecord, RunError, StateDetails } from "@runstate/core"
import {
  Aggregate,
  Failure,
  Flow,
  ResultStore,
  Run,
  Serializer,
  State,
  StateGroup,
  StateResult,
  StateType,
  Task
} from "@runstate/core"

describe("type-level API of @runstate/core", () => {
  it("StateType is the union of Prefect's nine types", () => {
    expectTypeOf<StateType.StateType>().toEqualTypeOf<
      | "SCHEDULED"
      | "PENDING"
      | "RUNNING"
      | "COMPLETED"
      | "FAILED"
      | "CANCELLED"
      | "CRASHED"
      | "PAUSED"
      | "CANCELLING"
    >()
    expectTypeOf(StateType.all).toEqualTypeOf<ReadonlyArray<StateType.StateType>>()
    expectTypeOf(StateType.isTerminal).toEqualTypeOf<(self: StateType.StateType) => boolean>()
    // @ts-expect-error not a state type
    const wrong: StateType.StateType = "DONE"
    void wrong
  })

  it("constructors keep the data type and the literal state type", () => {
    const completed = State.Completed({ data: 42 })
    expectTypeOf(completed).toEqualTypeOf<State.Completed<number>>()
    expectTypeOf(completed.type).toEqualTypeOf<"COMPLETED">()
    expectTypeOf(completed.data).toEqualTypeOf<number>()
    expectTypeOf(State.Failed()).toEqualTypeOf<State.Failed<null>>()
    expectTypeOf(State.Completed({ data: 42 })).toExtend<State.State<number>>()
    expectTypeOf(State.make({ type: "RUNNING" }).type).toEqualTypeOf<"RUNNING">()
    // @ts-expect-error make takes one of the nine types only
    const invalid = () => State.make({ type: "DONE" })
    void invalid
  })

  it("predicates narrow the union; format and inspect are Prefect's str/repr", () => {
    const check = (state: State.State<string>) => {
      if (State.isCompleted(state)) expectTypeOf(state).toEqualTypeOf<State.Completed<string>>()
      if (State.isFailed(state)) expectTypeOf(state.type).toEqualTypeOf<"FAILED">()
      expectTypeOf(state.stateDetails).toEqualTypeOf<StateDetails.StateDetails>()
      expectTypeOf(state.message).toEqualTypeOf<string | null>()
      expectTypeOf(state.type).toEqualTypeOf<StateType.StateType>()
    }
    check(State.Completed({ data: "x" }))
    expectTypeOf(State.isState).guards.toEqualTypeOf<State.State<unknown>>()
    expectTypeOf(State.format).toEqualTypeOf<(self: State.State<unknown>) => string>()
  })

  it("StateGroup.aggregate is the pure rule: a type and a message", () => {
    const group = StateGroup.make([State.Completed(), State.Failed()])
    expectTypeOf(group).toEqualTypeOf<StateGroup.StateGroup>()
    expectTypeOf(StateGroup.aggregate(group)).toEqualTypeOf<StateGroup.Aggregated>()
    expectTypeOf<StateGroup.Aggregated>().toEqualTypeOf<
      { readonly type: StateType.StateType; readonly message: string }
    >()
  })

  it("runs and aggregation need the ResultStore and never fail", () => {
    expectTypeOf(Run.run(null as unknown as Effect.Effect<number, Error, "R">)).toEqualTypeOf<
      Effect.Effect<Run.RunState<number, Error>, never, "R" | ResultStore.ResultStore>
    >()
    expectTypeOf(Aggregate.returnValueToState([State.Completed()])).toExtend<
      Effect.Effect<State.State<unknown>, never, ResultStore.ResultStore>
    >()
    expectTypeOf(Failure.formatException).toEqualTypeOf<(error: unknown) => string>()
    expectTypeOf(new Failure.TerminationSignal({ signal: 15 }).signal).toEqualTypeOf<number>()
  })

  it("getStateResult maps the state's data type to the result", () => {
    const completed = State.Completed({ data: { rows: 42 } })
    expectTypeOf(StateResult.getStateResult(completed)).toEqualTypeOf<
      Effect.Effect<{ rows: number }, StateResult.GetStateResultError, ResultStore.ResultStore>
    >()
    expectTypeOf<StateResult.Result<ResultRecord.ResultRecord<string>>>().toEqualTypeOf<string>()
    expectTypeOf<StateResult.Result<null>>().toEqualTypeOf<StateResult.StateException>()
  })

  it("ResultStore is a service with its memory layer; serializers share one interface", () => {
    expectTypeOf(Effect.gen(function*() {
      return yield* ResultStore.ResultStore
    })).toEqualTypeOf<Effect.Effect<ResultStore.ResultStoreShape, never, ResultStore.ResultStore>>()
    expectTypeOf(ResultStore.layerMemory).toEqualTypeOf<Layer.Layer<ResultStore.ResultStore>>()
    expectTypeOf(Serializer.json).toEqualTypeOf<Serializer.Serializer>()
    expectTypeOf<Serializer.Serializer["dumps"]>().toEqualTypeOf<
      (value: unknown) => Effect.Effect<Uint8Array, RunError.SerializationError>
    >()
  })

  it("Task and Flow states are Run states: results typed A, errors typed E, no casts", () => {
    class Upstream extends Schema.TaggedError<Upstream>()("Upstream", { status: Schema.Number }) {}
    expectTypeOf<Task.TaskState<number, Upstream>>().toEqualTypeOf<Run.RunState<number, Upstream>>()
    expectTypeOf<Flow.FlowState<{ rows: number }, Error>>().toEqualTypeOf<Run.RunState<{ rows: number }, Error>>()
    const program = Effect.gen(function*() {
      const plain = yield* Task.make(
        { name: "plain" },
        (n: number) => n > 0 ? Effect.succeed(`${n}`) : Effect.fail(new Upstream({ status: n }))
      )
      expectTypeOf(plain).toEqualTypeOf<Task.Task<number, string, Upstream, never>>()
      const state = yield* Task.run(plain, 1)
      expectTypeOf(state).toEqualTypeOf<Run.RunState<string, Upstream>>()
      expectTypeOf<Run.ErrorOf<typeof state>>().toEqualTypeOf<Upstream>()
      expectTypeOf(yield* StateResult.getStateResult(state)).toEqualTypeOf<string>()
      expectTypeOf(yield* StateResult.getStateResult(yield* Task.run(plain, 2))).toEqualTypeOf<string>()
      expectTypeOf(yield* plain.pipe(Task.run(3))).toEqualTypeOf<Run.RunState<string, Upstream>>()
      // Without an error schema the stored error is Prefect's exception shape: unknown.
      expectTypeOf(yield* Task.getError(plain, state)).toEqualTypeOf<unknown>()
      // With one, it is decoded to E, data-first and data-last.
      const typed = yield* Task.make(
        { name: "typed", errorSchema: Upstream },
        (_: void) => Effect.fail(new Upstream({ status: 503 }))
      )
      expectTypeOf(typed).toEqualTypeOf<Task.WithErrorSchema<void, never, Upstream, never>>()
      expectTypeOf(typed).toExtend<Task.Task<void, never, Upstream, never>>()
      const failed = yield* Task.run(typed)
      expectTypeOf(failed).toEqualTypeOf<Run.RunState<never, Upstream>>()
      expectTypeOf(yield* Task.getError(typed, failed)).toEqualTypeOf<Upstream>()
      expectTypeOf(yield* typed.pipe(Task.getError(failed))).toEqualTypeOf<Upstream>()
      expectTypeOf(yield* plain.pipe(Task.getError(failed))).toEqualTypeOf<unknown>()
      // @ts-expect-error an error schema must describe the body's error
      yield* Task.make({ name: "wrong", errorSchema: Schema.String }, () => Effect.fail(new Upstream({ status: 1 })))
      const effectState = yield* Effect.succeed(1).pipe(Task.task({ name: "one" }))
      expectTypeOf(effectState).toEqualTypeOf<Run.RunState<number, never>>()
      const flowState = yield* Effect.succeed({ rows: 1 }).pipe(
        Effect.flatMap((v) => v.rows > 0 ? Effect.succeed(v) : Effect.fail(new Upstream({ status: 0 }))),
        Flow.run({ name: "rows" })
      )
      expectTypeOf(flowState).toEqualTypeOf<Run.RunState<{ rows: number }, Upstream>>()
      expectTypeOf(yield* StateResult.getStateResult(flowState)).toEqualTypeOf<{ rows: number }>()
      // A flow returning task states ends in their aggregate.
      const aggregate = yield* Effect.forEach([1, 2], (n) => Task.run(plain, n)).pipe(Flow.run({ name: "fan" }))
      expectTypeOf(aggregate).toExtend<State.State<unknown>>()
    })
    void program
  })
})
