#!/usr/bin/env node
/**
 * The `runstate` executable: runs {@link Cli.main} on the process's arguments
 * with Node's platform services and exits with its status (130 after
 * SIGINT or SIGTERM, which interrupt it at once).
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cli from "./Cli.ts"

Cli.main(process.argv.slice(2)).pipe(
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 130)
  })
)
