import { Effect } from "effect"
import { State } from "@runstate/core"
import * as Cli from "@runstate/node/Cli"

// The functions behind `runstate state FILE` and `runstate inspect PATH`.
export const program = Effect.gen(function*() {
  const state = yield* Cli.decodeStateDocument(`{"type": "SCHEDULED", "name": "AwaitingRetry"}`)
  return State.format(state) // "AwaitingRetry(type=SCHEDULED)"
})
