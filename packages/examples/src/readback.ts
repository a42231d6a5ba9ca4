/**
 * The other side of the wire: states travel as Prefect's JSON (what a Prefect
 * server stores — for a result, only its metadata: storage key, serializer,
 * expiration), and a reader that has nothing but that JSON and a store gets
 * the values back with `StateResult.getStateResult`, as another process would.
 */
import { Effect } from "effect"
import { type ResultStore, type State, StateResult, Wire } from "@runstate/core"

/** A state as sent to Prefect's API (`set_state`): its `StateCreate` JSON. */
export const toWire = (state: State.State<unknown>): Effect.Effect<Wire.StateCreateEncoded, Wire.WireError> =>
  Wire.encodeStateCreate(Wire.toStateCreate(state))

/** The storage key in a state document's `data`, if it carries result metadata. */
export const storageKeyOf = (document: Wire.StateCreateEncoded): string | undefined => {
  const data = document.data
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined
  const key = (data as { readonly storage_key?: unknown }).storage_key
  return typeof key === "string" ? key : undefined
}

/** What a reader got back for one state document. */
export interface ReadBack {
  readonly name: string
  readonly state: State.State<unknown>
  readonly outcome: { readonly _tag: "Value"; readonly value: unknown } | {
    readonly _tag: "Error"
    readonly error: unknown
  }
}

/**
 * Decodes each document (`Wire.decodeStateResponse`) and reads its result from
 * the store (`StateResult.getStateResult` with `raiseOnFailure: false`, so a
 * failed task's stored error comes back as a value).
 */
export const readBack = (
  documents: ReadonlyArray<{ readonly name: string; readonly json: string }>
): Effect.Effect<Array<ReadBack>, Wire.WireError, ResultStore.ResultStore> =>
  Effect.forEach(documents, ({ json, name }) =>
    Effect.gen(function*() {
      const state = yield* Wire.decodeStateResponse(JSON.parse(json))
      const outcome = yield* StateResult.getStateResult(state, { raiseOnFailure: false }).pipe(
        Effect.match({
          onFailure: (error): ReadBack["outcome"] => ({ _tag: "Error", error }),
          onSuccess: (value): ReadBack["outcome"] => ({ _tag: "Value", value })
        })
      )
      return { name, state, outcome }
    }))
