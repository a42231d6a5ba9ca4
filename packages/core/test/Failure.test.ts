import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { Cause, Data, DateTime, Effect, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import { HttpClientError, HttpClientRequest } from "effect/http"
import * as fc from "fast-check"
import { createServer, type AddressInfo } from "node:net"
import { Failure, RunError, type State } from "@runstate/core"
import * as ResultRecord from "@runstate/core/ResultRecord"
import * as ResultStore from "@runstate/core/ResultStore"
import { captureLogs, failingStore, throwingProxy } from "./support.ts"

const seed = process.env.FC_SEED === undefined ? Date.now() : Number(process.env.FC_SEED)
console.log(`Failure.test.ts fast-check seed: ${seed} (replay with FC_SEED=${seed})`)

class ValueError extends Error {
  override name = "ValueError"
}
class KeyboardInterrupt extends Error {}
class Boom extends Data.TaggedError("Boom")<{ readonly message: string }> {}
class SchemaBoom extends Schema.TaggedError<SchemaBoom>()("SchemaBoom", { message: Schema.String }) {}

const traceparentPattern = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/

const systemError = (code: string, message: string, extra: Record<string, unknown>) =>
  Object.assign(new Error(message), { code, errno: -111, syscall: "connect", ...extra })

const transportError = (url: string) =>
  new HttpClientError.HttpClientError({
    reason: new HttpClientError.TransportError({
      request: HttpClientRequest.get(url),
      cause: systemError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:4200", {})
    })
  })

/** A closed loopback port: listen, note the port, close. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      server.close(() => resolve(port))
    })
  })

describe("formatException", () => {
  it("formats errors as `${name}: ${message}`", () => {
    assert.strictEqual(Failure.formatException(new ValueError("test error")), "ValueError: test error")
    assert.strictEqual(Failure.formatException(new Error("plain")), "Error: plain")
    assert.strictEqual(Failure.formatException(new TypeError("bad")), "TypeError: bad")
    assert.strictEqual(Failure.formatException(new RangeError("")), "RangeError: ")
  })

  it("keeps the trailing space of an empty message", () => {
    assert.strictEqual(Failure.formatException(new KeyboardInterrupt()), "KeyboardInterrupt: ")
    assert.strictEqual(Failure.formatException(new Failure.InterruptSignal()), "InterruptSignal: ")
  })

  it("names subclasses that keep the inherited name by their class", () => {
    class CustomFailure extends Error {}
    assert.strictEqual(Failure.formatException(new CustomFailure("x")), "CustomFailure: x")
  })

  it("names tagged errors by their _tag", () => {
    assert.strictEqual(Failure.formatException(new Boom({ message: "bang" })), "Boom: bang")
    assert.strictEqual(Failure.formatException(new SchemaBoom({ message: "schema" })), "SchemaBoom: schema")
    assert.strictEqual(Failure.formatException(new RunError.InvalidState({ message: "nope" })), "InvalidState: nope")
    assert.strictEqual(
      Failure.formatException(new Cause.TimeoutError("Operation timed out")),
      "TimeoutError: Operation timed out"
    )
    assert.strictEqual(Failure.formatException(new Cause.NoSuchElementError("none")), "NoSuchElementError: none")
  })

  it("formats the signal and exit errors as Prefect formats their counterparts", () => {
    assert.strictEqual(Failure.formatException(new Failure.TerminationSignal({ signal: 15 })), "TerminationSignal: 15")
    assert.strictEqual(Failure.formatException(new Failure.ProcessExit({ code: 1 })), "ProcessExit: 1")
    const sig = new Failure.TerminationSignal({ signal: 15 })
    assert.strictEqual(sig._tag, "TerminationSignal")
    assert.strictEqual(sig.signal, 15)
    assert.instanceOf(sig, Error)
  })

  it("formats AggregateError and DOMException", () => {
    assert.strictEqual(
      Failure.formatException(new AggregateError([new Error("a"), new Error("b")], "many")),
      "AggregateError: many"
    )
    assert.strictEqual(
      Failure.formatException(new DOMException("This operation was aborted", "AbortError")),
      "AbortError: This operation was aborted"
    )
  })

  it("formats a cause by its first failure or defect", () => {
    assert.strictEqual(Failure.formatException(Cause.fail(new ValueError("v"))), "ValueError: v")
    assert.strictEqual(Failure.formatException(Cause.die("dead")), "Error: dead")
    assert.strictEqual(
      Failure.formatException(Cause.combine(Cause.interrupt(1), Cause.die(new TypeError("t")))),
      "TypeError: t"
    )
    assert.strictEqual(
      Failure.formatException(Cause.interrupt(3)),
      "InterruptError: All fibers interrupted without error"
    )
    assert.strictEqual(Failure.formatException(Cause.empty), "Error: Empty cause")
    assert.strictEqual(Failure.formatException(Cause.fail(Cause.fail("nested"))), "Error: nested")
  })

  it("renders non-errors as `Error: ` and their text", () => {
    assert.strictEqual(Failure.formatException("boom"), "Error: boom")
    assert.strictEqual(Failure.formatException(""), "Error: ")
    assert.strictEqual(Failure.formatException(42), "Error: 42")
    assert.strictEqual(Failure.formatException(10n), "Error: 10")
    assert.strictEqual(Failure.formatException(true), "Error: true")
    assert.strictEqual(Failure.formatException(null), "Error: null")
    assert.strictEqual(Failure.formatException(undefined), "Error: undefined")
    assert.strictEqual(Failure.formatException(Symbol("s")), "Error: Symbol(s)")
    assert.strictEqual(Failure.formatException({ a: 1 }), "Error: {\"a\":1}")
    assert.strictEqual(Failure.formatException([1, "x"]), "Error: [1,\"x\"]")
    assert.strictEqual(
      Failure.formatException({ _tag: "NotFound", id: 7 }),
      "NotFound: {\"_tag\":\"NotFound\",\"id\":7}"
    )
    assert.strictEqual(Failure.formatException({ toString: () => "custom text" }), "Error: custom text")
  })

  it("formats error-like objects by their name/_tag and message", () => {
    assert.strictEqual(Failure.formatException({ message: "m" }), "Error: m")
    assert.strictEqual(Failure.formatException({ name: "HttpError", message: "m" }), "HttpError: m")
    assert.strictEqual(Failure.formatException({ _tag: "Tagged", message: "m" }), "Tagged: m")
  })

  it("never throws: cyclic objects, throwing getters and toString, hostile proxies", () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    assert.strictEqual(Failure.formatException(cyclic), "Error: {\"a\":1,\"self\":[Circular]}")

    const badToString = {
      toString() {
        throw new Error("no")
      }
    }
    assert.match(Failure.formatException(badToString), /^Error: /)

    const badGetter = Object.defineProperty({}, "message", {
      get() {
        throw new Error("getter")
      },
      enumerable: true
    })
    assert.match(Failure.formatException(badGetter), /^Error: /)

    const errorWithBadMessage = Object.defineProperty(new Error("x"), "message", {
      get() {
        throw new Error("getter")
      }
    })
    assert.match(Failure.formatException(errorWithBadMessage), /^Error: /)

    assert.match(Failure.formatException(throwingProxy), /^Error: /)
    const revocable = Proxy.revocable({}, {})
    revocable.revoke()
    assert.match(Failure.formatException(revocable.proxy), /^Error: /)
  })

  it("is total: any value gives a `name: message` string (property)", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withNullPrototype: true }), (u) => {
        const text = Failure.formatException(u)
        return typeof text === "string" && /^[^:]+: /.test(text)
      }),
      { seed, numRuns: 300 }
    )
  })

  it("is exactly `Error: ` + message for any Error message (property)", () => {
    fc.assert(
      fc.property(fc.string(), (m) => Failure.formatException(new Error(m)) === `Error: ${m}`),
      { seed, numRuns: 200 }
    )
  })
})

describe("exceptionToCrashedState", () => {
  const crashedMessage = (error: unknown) =>
    Effect.map(Failure.exceptionToCrashedState(error), (state) => state.message ?? "")

  it.effect("an interruption is a cancellation by the runtime", () =>
    Effect.gen(function*() {
      const expected = "Execution was cancelled by the runtime environment."
      assert.strictEqual(yield* crashedMessage(Cause.interrupt(1)), expected)
      assert.strictEqual(yield* crashedMessage(Cause.combine(Cause.interrupt(1), Cause.interrupt(2))), expected)
      assert.strictEqual(yield* crashedMessage(new DOMException("aborted", "AbortError")), expected)
      assert.strictEqual(yield* crashedMessage({ name: "AbortError", message: "gone" }), expected)
      const state = yield* Failure.exceptionToCrashedState(Cause.interrupt(1))
      assert.instanceOf(state.data, Error)
      assert.strictEqual(Failure.formatException(state.data), "InterruptError: All fibers interrupted without error")
    }))

  it.effect("signals and process exits have Prefect's messages", () =>
    Effect.gen(function*() {
      assert.strictEqual(
        yield* crashedMessage(new Failure.InterruptSignal()),
        "Execution was aborted by an interrupt signal."
      )
      assert.strictEqual(
        yield* crashedMessage(new Failure.TerminationSignal({ signal: 15 })),
        "Execution was aborted by a termination signal."
      )
      assert.strictEqual(
        yield* crashedMessage(new Failure.ProcessExit({ code: 0 })),
        "Execution was aborted by a process exit call."
      )
      assert.strictEqual(
        yield* crashedMessage(Cause.fail(new Failure.TerminationSignal({ signal: 1 }))),
        "Execution was aborted by a termination signal."
      )
    }))

  it.effect("an HttpClientError transport failure names the request URL, redacted", () =>
    Effect.gen(function*() {
      const error = transportError("http://user:secret@localhost:4200/api/flows?page=1")
      const message = yield* crashedMessage(error)
      assert.strictEqual(
        message,
        `Request to http://REDACTED:REDACTED@localhost:4200/api/flows?page=1 failed: ${Failure.formatException(error)}.`
      )
      assert.isFalse(message.includes("secret"))
      assert.match(message, /^Request to .* failed: HttpClientError: Transport error \(GET /)
    }))

  it.effect("Node system network errors name address:port, a url or a hostname", () =>
    Effect.gen(function*() {
      const refused = systemError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432", {
        address: "127.0.0.1",
        port: 5432
      })
      assert.strictEqual(
        yield* crashedMessage(refused),
        "Request to 127.0.0.1:5432 failed: Error: connect ECONNREFUSED 127.0.0.1:5432."
      )
      const v6 = systemError("ETIMEDOUT", "connect ETIMEDOUT ::1:80", { address: "::1", port: 80 })
      assert.strictEqual(yield* crashedMessage(v6), "Request to [::1]:80 failed: Error: connect ETIMEDOUT ::1:80.")
      const withUrl = systemError("ECONNRESET", "socket hang up", { url: "https://api.example.test/x" })
      assert.strictEqual(
        yield* crashedMessage(withUrl),
        "Request to https://api.example.test/x failed: Error: socket hang up."
      )
      const dns = systemError("ENOTFOUND", "getaddrinfo ENOTFOUND nowhere.invalid", { hostname: "nowhere.invalid" })
      assert.strictEqual(
        yield* crashedMessage(dns),
        "Request to nowhere.invalid failed: Error: getaddrinfo ENOTFOUND nowhere.invalid."
      )
      const bare = systemError("EAI_AGAIN", "getaddrinfo EAI_AGAIN", {})
      assert.strictEqual(
        yield* crashedMessage(bare),
        "Request failed while attempting to contact the server: Error: getaddrinfo EAI_AGAIN"
      )
      const undici = Object.assign(new Error("Connect Timeout Error"), {
        name: "ConnectTimeoutError",
        code: "UND_ERR_CONNECT_TIMEOUT"
      })
      assert.strictEqual(
        yield* crashedMessage(undici),
        "Request failed while attempting to contact the server: ConnectTimeoutError: Connect Timeout Error"
      )
    }))

  it.effect("fetch's `fetch failed` with a network cause is a request failure; other TypeErrors are not", () =>
    Effect.gen(function*() {
      const cause = systemError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1", { address: "127.0.0.1", port: 1 })
      assert.strictEqual(
        yield* crashedMessage(new TypeError("fetch failed", { cause })),
        "Request to 127.0.0.1:1 failed: TypeError: fetch failed."
      )
      assert.strictEqual(
        yield* crashedMessage(new TypeError("fetch failed", { cause: new Error("invalid header") })),
        "Execution was interrupted by an unexpected exception: TypeError: fetch failed"
      )
      assert.strictEqual(
        yield* crashedMessage(systemError("ENOENT", "no such file", { path: "/x" })),
        "Execution was interrupted by an unexpected exception: Error: no such file"
      )
    }))

  it.effect("a real refused fetch on loopback crashes as a request failure", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(closedPort)
      const error = yield* Effect.flip(
        Effect.tryPromise({ try: () => fetch(`http://127.0.0.1:${port}/`), catch: (e) => e })
      )
      assert.strictEqual(
        yield* crashedMessage(error),
        `Request to 127.0.0.1:${port} failed: TypeError: fetch failed.`
      )
    }))

  it.effect("anything else is an unexpected exception", () =>
    Effect.gen(function*() {
      assert.strictEqual(
        yield* crashedMessage(new ValueError("test error")),
        "Execution was interrupted by an unexpected exception: ValueError: test error"
      )
      assert.strictEqual(
        yield* crashedMessage("boom"),
        "Execution was interrupted by an unexpected exception: Error: boom"
      )
      assert.strictEqual(
        yield* crashedMessage(new Cause.TimeoutError("late")),
        "Execution was interrupted by an unexpected exception: TimeoutError: late"
      )
      assert.match(
        yield* crashedMessage(throwingProxy),
        /^Execution was interrupted by an unexpected exception: Error: /
      )
    }))

  it.effect("without a store the error is the data; timestamp from Clock; traceparent from the span", () =>
    Effect.gen(function*() {
      const error = new ValueError("x")
      yield* TestClock.setTime(Date.UTC(2030, 0, 1))
      const state = yield* Failure.exceptionToCrashedState(error)
      assert.strictEqual(state.type, "CRASHED")
      assert.strictEqual(state.name, "Crashed")
      assert.strictEqual(state.data, error)
      assert.strictEqual(DateTime.toEpochMillis(state.timestamp), Date.UTC(2030, 0, 1))
      assert.isNull(state.stateDetails.traceparent)
      const traced = yield* Failure.exceptionToCrashedState(error).pipe(Effect.withSpan("crash"))
      assert.match(traced.stateDetails.traceparent ?? "", traceparentPattern)
    }))

  it.effect("with a store the data is a new unpersisted record with a random UUID4-hex key", () =>
    Effect.gen(function*() {
      const error = new Failure.TerminationSignal({ signal: 15 })
      const a = yield* Failure.exceptionToCrashedState(error)
      const b = yield* Failure.exceptionToCrashedState(error)
      assert.isTrue(ResultRecord.isResultRecord(a.data))
      const record = a.data as ResultRecord.ResultRecord<unknown>
      assert.strictEqual(record.result, error)
      assert.isFalse(record.persisted)
      assert.match(record.metadata.storageKey ?? "", /[0-9a-f]{32}$/)
      assert.notStrictEqual(
        record.metadata.storageKey,
        (b.data as ResultRecord.ResultRecord<unknown>).metadata.storageKey
      )
      const store = yield* ResultStore.ResultStore
      assert.isFalse(yield* store.exists(record.metadata.storageKey ?? ""))
    }).pipe(Effect.provide(ResultStore.layerMemory)))
})

describe("exceptionToFailedState", () => {
  it.effect("fails with Prefect's InvalidState when given no exception (undefined or null)", () =>
    Effect.gen(function*() {
      for (const missing of [undefined, null]) {
        const error = yield* Effect.flip(Failure.exceptionToFailedState(missing))
        assert.instanceOf(error, RunError.InvalidState)
        assert.strictEqual(error.message, "Exception was not passed and no active exception could be found.")
      }
      // Falsy values that are not "no exception" are still errors to convert.
      for (const [value, text] of [[0, "Error: 0"], ["", "Error: "], [false, "Error: false"]] as const) {
        assert.strictEqual((yield* Failure.exceptionToFailedState(value)).message, text)
      }
    }))

  it("types: only an argument that may be undefined or null can fail", () => {
    expectTypeOf(Failure.exceptionToFailedState(new Error("e"))).toEqualTypeOf<
      Effect.Effect<State.Failed<unknown>>
    >()
    expectTypeOf(Failure.exceptionToFailedState(undefined as unknown)).toEqualTypeOf<
      Effect.Effect<State.Failed<unknown>, RunError.InvalidState>
    >()
  })

  it.effect("applies Prefect's prefix rule", () =>
    Effect.gen(function*() {
      const error = new ValueError("test error")
      const message = (prefix?: string) =>
        Effect.map(
          Failure.exceptionToFailedState(error, prefix === undefined ? {} : { message: prefix }),
          (s) => s.message
        )
      assert.strictEqual(yield* message(), "ValueError: test error")
      assert.strictEqual(yield* message(""), "ValueError: test error")
      assert.strictEqual(yield* message("Context:"), "Context: ValueError: test error")
      assert.strictEqual(yield* message("Context: "), "Context: ValueError: test error")
      assert.strictEqual(
        yield* message("Task run encountered an exception"),
        "Task run encountered an exception ValueError: test error"
      )
    }))

  it("applies the prefix rule to any prefix and error (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (prefix, text) => {
        const state = Effect.runSync(Failure.exceptionToFailedState(new Error(text), { message: prefix }))
        const expectedPrefix = prefix === "" || prefix.endsWith(" ") ? prefix : prefix + " "
        return state.message === `${expectedPrefix}Error: ${text}` && state.stateDetails.retriable === false
      }),
      { seed, numRuns: 200 }
    )
  })

  it.effect("forces retriable false and keeps the other options", () =>
    Effect.gen(function*() {
      const flowRunId = "0190b3c2-8f4e-7cde-9a3b-1234567890ab"
      const state = yield* Failure.exceptionToFailedState(new Error("x"), {
        name: "Custom",
        stateDetails: { flowRunId, retriable: true }
      })
      assert.strictEqual(state.type, "FAILED")
      assert.strictEqual(state.name, "Custom")
      assert.strictEqual(state.stateDetails.retriable, false)
      assert.strictEqual(state.stateDetails.flowRunId, flowRunId)
    }))

  it.effect("without a store the error is the data", () =>
    Effect.gen(function*() {
      const error = new Boom({ message: "b" })
      const state = yield* Failure.exceptionToFailedState(error, { writeResult: true })
      assert.strictEqual(state.data, error)
      assert.strictEqual(state.message, "Boom: b")
    }))

  it.effect("with a store: an unpersisted record, persisted when writeResult is set", () =>
    Effect.gen(function*() {
      const store = yield* ResultStore.ResultStore
      const plain = yield* Failure.exceptionToFailedState(new Error("x"))
      const record = plain.data as ResultRecord.ResultRecord<unknown>
      assert.isTrue(ResultRecord.isResultRecord(record))
      assert.isFalse(record.persisted)
      assert.isFalse(yield* store.exists(record.metadata.storageKey ?? ""))

      const written = yield* Failure.exceptionToFailedState({ reason: "bad input" }, { writeResult: true })
      const writtenRecord = written.data as ResultRecord.ResultRecord<unknown>
      assert.isTrue(writtenRecord.persisted)
      assert.isTrue(yield* store.exists(writtenRecord.metadata.storageKey ?? ""))
    }).pipe(Effect.provide(ResultStore.layerMemory)))

  it.effect("a failed write logs Prefect's warning and still returns the state", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const state = yield* Failure.exceptionToFailedState(new Error("x"), { writeResult: true })
      assert.strictEqual(state.type, "FAILED")
      assert.strictEqual(state.message, "Error: x")
      assert.isFalse((state.data as ResultRecord.ResultRecord<unknown>).persisted)
      assert.deepStrictEqual(logs.messages, [
        "Warn: Failed to write result: disk full Execution will continue, but the result has not been written"
      ])
    }).pipe(Effect.provide(Layer.merge(failingStore, logs.layer)))
  })
})
