#!/usr/bin/env node
/**
 * The `runstate` executable: runs {@link Cli.command} on the process's
 * arguments with Node's platform services.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Effect from "effect/Effect"
import * as Cli from "./Cli.ts"

Cli.run(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
