/**
 * wire.decode: decoding 100,000 already-parsed `StateResponse` documents
 * (server shape, full state_details, result-record metadata in a quarter of
 * them) into runstate states, against `JSON.parse` of the same documents'
 * text in the same process (both sides keep their results, as a client
 * does). Reports the library's list decoder `Wire.decodeStateResponses`
 * (`ratio`, the goal), its single-document decoder `Wire.decodeStateResponse`
 * run through `Effect.forEach` (`ratioPerDocument`), and the pure
 * `effect/Schema` codec with the interpreter (`ratioNoJit`) and with Effect's
 * Schema JIT compiler enabled for the codec (`ratioJit`).
 */
import * as Wire from "@runstate/core/Wire"
import { Effect, Schema } from "effect"
import * as SchemaJITCompiler from "effect/schema/SchemaJITCompiler"
import { type Benchmark, compare, round } from "../../../scripts/benchmark.ts"

const COUNT = 100_000

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0").slice(-width)
const uuid = (i: number, salt: number) =>
  `${hex(0x0190c6a4 + salt, 8)}-${hex(i & 0xffff, 4)}-7${hex(i >>> 4, 3)}-${hex(0x8000 | (i & 0x3fff), 4)}-${
    hex(i * 7919 + salt, 12)
  }`
const types = ["COMPLETED", "RUNNING", "SCHEDULED", "PENDING", "FAILED", "COMPLETED", "CANCELLED", "CRASHED"] as const

const serializer = {
  type: "json",
  jsonlib: "json",
  object_encoder: "prefect.serializers.prefect_json_object_encoder",
  object_decoder: "prefect.serializers.prefect_json_object_decoder",
  dumps_kwargs: {},
  loads_kwargs: {}
}

const makeDocument = (i: number) => {
  const type = types[i % types.length]!
  const seconds = String(i % 60).padStart(2, "0")
  return {
    id: uuid(i, 1),
    type,
    name: i % 11 === 0 ? "Retrying" : type.charAt(0) + type.slice(1).toLowerCase(),
    timestamp: `2024-01-01T12:${String(i % 60).padStart(2, "0")}:${seconds}.${String(i % 1_000_000).padStart(6, "0")}Z`,
    message: i % 5 === 0 ? `Run ${i} finished with a message` : null,
    data: i % 4 === 0
      ? {
        storage_key: `/root/.prefect/storage/${hex(i * 2654435761, 32)}`,
        expiration: null,
        serializer,
        prefect_version: "3.8.4",
        storage_block_id: null
      }
      : i % 4 === 1
      ? { type: "unpersisted" }
      : null,
    state_details: {
      flow_run_id: uuid(i, 2),
      task_run_id: i % 2 === 0 ? uuid(i, 3) : null,
      child_flow_run_id: null,
      scheduled_time: type === "SCHEDULED" ? "2024-01-01T12:00:00Z" : null,
      cache_key: i % 3 === 0 ? `cache-${i}` : null,
      cache_expiration: null,
      deferred: false,
      untrackable_result: false,
      pause_timeout: null,
      pause_reschedule: false,
      pause_key: null,
      run_input_keyset: null,
      refresh_cache: null,
      retriable: null,
      transition_id: uuid(i, 4),
      task_parameters_id: null,
      traceparent: i % 2 === 0 ? "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" : null,
      deployment_concurrency_lease_id: null
    }
  }
}

const decodeAll = (
  docs: ReadonlyArray<unknown>,
  decode: (u: unknown) => Effect.Effect<unknown, unknown>
) =>
() => {
  const states = Effect.runSync(Effect.forEach(docs, decode))
  if (states.length !== docs.length) throw new Error("decode lost documents")
  return states
}

const wireDecode: Benchmark = {
  name: "wire.decode",
  goal: "decoding 100,000 parsed StateResponse documents into states takes ≤ 1.5× JSON.parse of their text",
  run: async () => {
    const docs = Array.from({ length: COUNT }, (_, i) => makeDocument(i))
    const texts = docs.map((d) => JSON.stringify(d))
    // both sides keep what they produce (parsed documents / decoded states), as a client does
    let sink = 0
    const parseAll = () => {
      const parsed: Array<unknown> = new Array(texts.length)
      for (let i = 0; i < texts.length; i++) parsed[i] = JSON.parse(texts[i]!)
      sink += parsed.length
    }

    // the library's list decoder (hand-written hot path, Schema for errors): the goal
    const library = await compare({
      baseline: parseAll,
      subject: () => {
        const states = Effect.runSync(Wire.decodeStateResponses(docs))
        if (states.length !== docs.length) throw new Error("decode lost documents")
        sink += states.length
      }
    })

    // the library's single-document decoder, one Effect per document
    const perDocument = await compare({ baseline: parseAll, subject: decodeAll(docs, Wire.decodeStateResponse) })

    // the Schema codec, interpreted
    const schemaNoJit = await compare({
      baseline: parseAll,
      subject: decodeAll(docs, Schema.decodeUnknownEffect(Wire.StateResponse))
    })

    // the Schema codec with Effect's JIT compiler enabled for this codec only (scoped, not global)
    SchemaJITCompiler.enable(Wire.StateResponse.ast)
    const schemaJit = await compare({
      baseline: parseAll,
      subject: decodeAll(docs, Schema.decodeUnknownEffect(Wire.StateResponse))
    })

    const ratio = library.ratio
    const ratioNoJit = schemaNoJit.ratio
    const ratioJit = schemaJit.ratio
    return {
      documents: COUNT,
      bytes: texts.reduce((n, t) => n + t.length, 0),
      jsonParseMs: round(library.baselineMs),
      decodeMs: round(library.subjectMs),
      perDocumentMs: round(perDocument.subjectMs),
      schemaNoJitMs: round(schemaNoJit.subjectMs),
      schemaJitMs: round(schemaJit.subjectMs),
      ratio: round(ratio),
      ratioPerDocument: round(perDocument.ratio),
      ratioNoJit: round(ratioNoJit),
      ratioJit: round(ratioJit),
      uses: "Wire.decodeStateResponses: hand-written hot path (Schema interpreter for errors); no JIT",
      sink: sink > 0,
      pass: ratio <= 1.5
    }
  }
}

const benchmarks: Array<Benchmark> = [wireDecode]

export default benchmarks
