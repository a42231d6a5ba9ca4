/**
 * The shared fast-check arbitraries of the core tests: those of the public
 * testing entry point (`@runstate/core/testing`), plus this process's seed.
 */
import { Arbitraries } from "@runstate/core/testing"

export * from "../src/testing/Arbitraries.ts"

/** The fast-check seed of this process: `FC_SEED` when set, otherwise random. */
export const seed: number = Arbitraries.seedFromEnv()
