/**
 * States in the workflow journal: a task run's or flow run's final state as
 * the activity or workflow result, in Prefect's REST JSON, and back — with a
 * way out when a journaled outcome cannot be decoded.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as ResultRecord from "@runstate/core/ResultRecord"
import { RunLog } from "@runstate/core/RunLog"
import * as State from "@runstate/core/State"
import * as Wire from "@runstate/core/Wire"

/**
 * A state as the workflow journal keeps it: Prefect's REST JSON
 * (`Wire.StateResponse`). A result record travels as its metadata (the value
 * itself is in the result store, where any process reads it); JSON data as
 * it is; other data (an error, a list of states) is left out.
 */
export const journalData = (data: unknown): unknown => {
  if (ResultRecord.isResultRecord(data)) return data.metadata
  if (ResultRecord.isResultRecordMetadata(data)) return data
  if (Wire.isJson(data)) return data
  return null
}

export const toJournal = (state: State.State<unknown>): Effect.Effect<Schema.Json> =>
  Effect.orDie(
    Wire.encodeStateResponse(State.update(state, { data: journalData(state.data) })) as unknown as Effect.Effect<
      Schema.Json,
      unknown
    >
  )

/**
 * A journaled state read back. An outcome that does not decode (written by an
 * incompatible version, or damaged) is not a defect: the run's final state is
 * read from the run history instead, and without one the run ends CRASHED,
 * saying what could not be read.
 */
export const fromJournal = (json: Schema.Json, runId: string): Effect.Effect<State.State<unknown>> =>
  Effect.matchEffect(Wire.decodeStateResponse(json), {
    onSuccess: Effect.succeed,
    onFailure: (error) =>
      Effect.gen(function*() {
        const log = yield* Effect.serviceOption(RunLog)
        if (Option.isSome(log)) {
          const history = yield* Effect.orElseSucceed(log.value.history(runId), () => [])
          const last = history[history.length - 1]?.to
          if (last !== undefined && State.isFinal(last)) return last
        }
        return State.Crashed<unknown>({
          message: `The recorded outcome of run ${runId} could not be read back: ${error.message.slice(0, 500)}`
        })
      })
  })
