import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { MachineTokenType } from "../gen/tokenserver/machine_token_pb.js";
import {
  type ErrorCode,
  MachineTokenRequestSchema,
  type MintMachineTokenRequest,
  type MintMachineTokenResponse,
  MintMachineTokenResponseSchema,
  SignatureAlgorithm,
} from "../gen/tokenserver/minter/token_minter_pb.js";
import { responseTooBig } from "../protocol-prpc/response-too-big.js";
import { createFakeClock, type FakeClock } from "../testing/fake-clock.js";
import { recordingLogger } from "../testing/recording-logger.js";
import { MAX_MACHINE_TOKEN_CHARS } from "./check-minted-token.js";
import { type MintTokenOptions, mintToken, type TokenMinterClient } from "./mint-token.js";
import { MintTokenError } from "./mint-token-error.js";
import { outcomeFromError } from "./outcome-from-error.js";
import { unusableResponse } from "./unusable-response.js";
import type { Signer } from "./x509-signer.js";

const CERT_DER = new Uint8Array([0x30, 0x82, 1, 2, 3]);
const SIGNATURE = new Uint8Array([9, 8, 7]);

/** A signer that records what it signed. */
function fakeSigner(): Signer & { signed: Uint8Array[] } {
  const signed: Uint8Array[] = [];
  return {
    signed,
    algorithm: SignatureAlgorithm.SHA256_RSA_ALGO,
    certificateDer: CERT_DER,
    sign: async (data) => {
      signed.push(data);
      return SIGNATURE;
    },
  };
}

const tokenResponse = (token = "token-1") =>
  create(MintMachineTokenResponseSchema, {
    serviceVersion: "unit-tests/mocked-ver",
    tokenResponse: {
      serviceVersion: "unit-tests/mocked-ver",
      tokenType: {
        case: "luciMachineToken",
        value: { machineToken: token, expiry: timestampFromDate(new Date(1422939906_000)) },
      },
    },
  });

interface Call {
  request: MintMachineTokenRequest | { serializedTokenRequest: Uint8Array; signature: Uint8Array };
  timeoutMs?: number;
  signal?: AbortSignal;
  at: number;
}

/** A TokenMinterClient whose answers are chosen per call (`n` from 1); it records each call. */
function fakeClient(
  clock: FakeClock,
  answer: (n: number) => MintMachineTokenResponse | Error,
): TokenMinterClient & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    async mintMachineToken(request, options) {
      calls.push({
        request: request as Call["request"],
        timeoutMs: options?.timeoutMs,
        signal: options?.signal,
        at: clock.ms(),
      });
      const a = answer(calls.length);
      if (a instanceof Error) throw a;
      return a;
    },
  } as TokenMinterClient & { calls: Call[] };
}

const unavailable = () => new ConnectError("Service unavailable", Code.Unavailable);

function setup(
  answer: (n: number) => MintMachineTokenResponse | Error,
  extra: Partial<MintTokenOptions> = {},
) {
  const clock = createFakeClock();
  const client = fakeClient(clock, answer);
  const signer = fakeSigner();
  const logger = recordingLogger();
  const run = () =>
    mintToken({
      client,
      signer,
      now: clock.now,
      sleep: clock.sleep,
      logger,
      jitter: false,
      timeoutMs: 60_000,
      ...extra,
    });
  return { clock, client, signer, logger, run };
}

async function failure(p: Promise<unknown>): Promise<MintTokenError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MintTokenError);
  return err as MintTokenError;
}

describe("mintToken: the request", () => {
  it("signs the exact serialized MachineTokenRequest and sends both", async () => {
    const { client, signer, run, clock } = setup(() => tokenResponse());
    const minted = await run();
    expect(minted).toEqual({
      token: "token-1",
      expiry: new Date(1422939906_000),
      serviceVersion: "unit-tests/mocked-ver",
      attempts: 1,
    });
    const sent = client.calls[0]?.request;
    expect(sent?.signature).toEqual(SIGNATURE);
    expect(signer.signed).toEqual([sent?.serializedTokenRequest]);
    const inner = fromBinary(MachineTokenRequestSchema, sent?.serializedTokenRequest ?? new Uint8Array());
    expect(inner.certificate).toEqual(CERT_DER);
    expect(inner.signatureAlgorithm).toBe(SignatureAlgorithm.SHA256_RSA_ALGO);
    expect(inner.tokenType).toBe(MachineTokenType.LUCI_MACHINE_TOKEN);
    expect(inner.issuedAt?.seconds).toBe(BigInt(Math.floor(clock.ms() / 1000)));
    expect(inner.issuedAt?.nanos).toBe(500_000_000);
  });

  it("gives each attempt the time left until the deadline", async () => {
    const { client, run } = setup((n) => (n < 3 ? unavailable() : tokenResponse()));
    await run();
    expect(client.calls.map((c) => c.timeoutMs)).toEqual([60_000, 59_800, 59_500]);
  });

  it("signs once and resends the same bytes on retries", async () => {
    const { client, signer, run } = setup((n) => (n < 3 ? unavailable() : tokenResponse()));
    expect((await run()).attempts).toBe(3);
    expect(signer.signed).toHaveLength(1);
    expect(new Set(client.calls.map((c) => c.request.serializedTokenRequest)).size).toBe(1);
  });
});

describe("mintToken: retry schedule", () => {
  it("without jitter sleeps exactly 200, 300, 450, 675, 1012.5, … ms", async () => {
    const { clock, run } = setup((n) => (n <= 6 ? unavailable() : tokenResponse()));
    await run();
    expect(clock.delays).toEqual([200, 300, 450, 675, 1012.5, 1518.75]);
  });

  it("caps each delay at timeoutMs", async () => {
    const { clock, run } = setup((n) => (n <= 8 ? unavailable() : tokenResponse()), {
      timeoutMs: 1000,
      deadline: new Date(createFakeClock().ms() + 60_000),
    });
    await run();
    expect(clock.delays).toEqual([200, 300, 450, 675, 1000, 1000, 1000, 1000]);
  });

  it("stops at the deadline, cutting the last sleep to the time left, and reports DEADLINE_EXCEEDED", async () => {
    const { clock, client, run } = setup(() => unavailable(), { timeoutMs: 5000 });
    const start = clock.ms();
    const err = await failure(run());
    // 200+300+450+675+1012.5+1518.75 = 4156.25; the next delay (2278.125) is cut to the time left,
    // 844 ms as the clock's Dates hold whole milliseconds.
    expect(clock.delays).toEqual([200, 300, 450, 675, 1012.5, 1518.75, 844]);
    expect(Math.floor(clock.ms() - start)).toBe(5000);
    expect(client.calls).toHaveLength(7);
    expect(err.grpcCode).toBe(Code.DeadlineExceeded);
    // Go's text, then the last attempt's error (Go stops after "exceeded").
    expect(err.message).toBe(
      "rpc error: code = DeadlineExceeded desc = prpc: overall deadline exceeded: context deadline exceeded; last attempt: rpc error: code = Unavailable desc = Service unavailable",
    );
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
  });

  it("does not use a reply that came in past the deadline (a blocked event loop held back its timer)", async () => {
    const clock = createFakeClock();
    const client = fakeClient(clock, () => {
      clock.advance(5001); // the call took longer than the whole run had
      return tokenResponse();
    });
    const err = await failure(
      mintToken({ client, signer: fakeSigner(), now: clock.now, sleep: clock.sleep, timeoutMs: 5000 }),
    );
    expect(err.grpcCode).toBe(Code.DeadlineExceeded);
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
  });

  it("counts the time attempts take against the deadline", async () => {
    const clock = createFakeClock();
    const client = fakeClient(clock, () => {
      clock.advance(1500);
      return unavailable();
    });
    const err = await failure(
      mintToken({
        client,
        signer: fakeSigner(),
        now: clock.now,
        sleep: clock.sleep,
        jitter: false,
        timeoutMs: 4000,
      }),
    );
    expect(err.grpcCode).toBe(Code.DeadlineExceeded);
    // Calls at t=0, 1700, 3500 each take 1.5 s; after the third (t=5000) no time is left to sleep.
    expect(clock.delays).toEqual([200, 300]);
    expect(client.calls.map((c) => c.timeoutMs)).toEqual([4000, 2300, 500]);
  });

  it("jitters delays within [0.5×, 1.5×] with the injected random, still capped", async () => {
    const low = setup((n) => (n <= 3 ? unavailable() : tokenResponse()), { jitter: true, random: () => 0 });
    await low.run();
    expect(low.clock.delays).toEqual([100, 150, 225]);

    const high = setup((n) => (n <= 3 ? unavailable() : tokenResponse()), {
      jitter: true,
      random: () => 0.999999,
    });
    await high.run();
    const expected = [200, 300, 450];
    high.clock.delays.forEach((d, i) => {
      expect(d).toBeGreaterThan((expected[i] ?? 0) * 1.49);
      expect(d).toBeLessThanOrEqual((expected[i] ?? 0) * 1.5);
    });

    const capped = setup((n) => (n <= 3 ? unavailable() : tokenResponse()), {
      jitter: true,
      random: () => 0.999999,
      timeoutMs: 400,
      deadline: new Date(createFakeClock().ms() + 60_000),
    });
    await capped.run();
    expect(capped.clock.delays[0]).toBeCloseTo(300, 3);
    expect(capped.clock.delays.slice(1)).toEqual([400, 400]);
  });

  it("jitters by default", async () => {
    const { clock, run } = setup((n) => (n <= 1 ? unavailable() : tokenResponse()), {
      jitter: undefined,
      random: () => 0,
    });
    await run();
    expect(clock.delays).toEqual([100]);
  });

  it("logs `RPC failed transiently (retry in …)` before each sleep", async () => {
    const { logger, run } = setup((n) => (n <= 2 ? unavailable() : tokenResponse()));
    await run();
    expect(logger.at("warning")).toEqual([
      "RPC failed transiently (retry in 200ms): rpc error: code = Unavailable desc = Service unavailable",
      "RPC failed transiently (retry in 300ms): rpc error: code = Unavailable desc = Service unavailable",
    ]);
  });

  it.each([
    [Code.Unknown, "UNKNOWN"],
    [Code.Internal, "INTERNAL"],
    [Code.Unavailable, "UNAVAILABLE"],
    [Code.DeadlineExceeded, "per-attempt DEADLINE_EXCEEDED"],
  ])("retries code %i (%s)", async (code) => {
    const { client, run } = setup((n) => (n === 1 ? new ConnectError("x", code) : tokenResponse()));
    expect((await run()).token).toBe("token-1");
    expect(client.calls).toHaveLength(2);
  });

  it("retries errors that are not ConnectErrors as INTERNAL", async () => {
    const { client, logger, run } = setup((n) => (n === 1 ? new TypeError("fetch failed") : tokenResponse()));
    await run();
    expect(client.calls).toHaveLength(2);
    expect(logger.at("warning")[0]).toMatch(/code = Internal desc = .*fetch failed/);
  });

  it.each([
    Code.Canceled,
    Code.InvalidArgument,
    Code.NotFound,
    Code.PermissionDenied,
    Code.ResourceExhausted,
    Code.Unimplemented,
    Code.Unauthenticated,
  ])("does not retry code %i", async (code) => {
    const { client, clock, run } = setup(() => new ConnectError("no", code));
    const err = await failure(run());
    expect(client.calls).toHaveLength(1);
    expect(clock.delays).toEqual([]);
    expect(err.grpcCode).toBe(code);
    expect(outcomeFromError(err)).toBe(`GRPC_ERROR_${code}`);
  });

  // The reference binary: `rpc error: code = Unavailable desc = prpc: the response size 33521674
  // exceeds the client limit 33521664`, one request, UNKNOWN_RPC_ERROR.
  it("does not retry a response over the size cap (UNAVAILABLE, UNKNOWN_RPC_ERROR as Go)", async () => {
    const { client, run } = setup(() => responseTooBig("prpc", 10, 12));
    const err = await failure(run());
    expect(client.calls).toHaveLength(1);
    expect(err.kind).toBe("bad-reply");
    expect(err.message).toBe(
      "rpc error: code = Unavailable desc = prpc: the response size 12 exceeds the client limit 10",
    );
    expect(outcomeFromError(err)).toBe("UNKNOWN_RPC_ERROR");
  });

  it("does not retry an unusable reply (wrong Content-Type, undecodable body): UNKNOWN_RPC_ERROR", async () => {
    const { client, run } = setup(() =>
      unusableResponse("prpc: failed to unmarshal the response: x", Code.Internal),
    );
    const err = await failure(run());
    expect(client.calls).toHaveLength(1);
    expect(err.message).toBe("rpc error: code = Internal desc = prpc: failed to unmarshal the response: x");
    expect(outcomeFromError(err)).toBe("UNKNOWN_RPC_ERROR");
    expect(err.serviceVersion).toBeUndefined();
  });

  it("does not retry codes above 16 (Go: `Code(17)`, GRPC_ERROR_17)", async () => {
    const { client, run } = setup(() => new ConnectError("boom", 17 as Code));
    const err = await failure(run());
    expect(client.calls).toHaveLength(1);
    expect(err.message).toBe("rpc error: code = Code(17) desc = boom");
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_17");
  });

  it("names the protocol in deadline and cancellation errors", async () => {
    const { run } = setup(unavailable, { protocol: "connect", timeoutMs: 1000 });
    expect((await failure(run())).message).toMatch(
      /^rpc error: code = DeadlineExceeded desc = connect: overall deadline exceeded: context deadline exceeded; last attempt: /,
    );
  });

  it("does not retry token server logic errors", async () => {
    const { client, run } = setup(() =>
      create(MintMachineTokenResponseSchema, {
        errorCode: 3,
        errorMessage: "bad clock",
        serviceVersion: "sv/1",
      }),
    );
    const err = await failure(run());
    expect(client.calls).toHaveLength(1);
    expect(err).toMatchObject({ kind: "token-server", errorCode: 3, serviceVersion: "sv/1" });
    expect(err.message).toBe("token server error BAD_TIMESTAMP - bad clock");
  });
});

describe("mintToken: deadline and cancellation", () => {
  it("with timeoutMs 0 fails with DEADLINE_EXCEEDED without calling", async () => {
    const { client, run } = setup(() => tokenResponse(), { timeoutMs: 0 });
    const err = await failure(run());
    expect(client.calls).toHaveLength(0);
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
  });

  it("with a deadline in the past fails without calling", async () => {
    const { client, run } = setup(() => tokenResponse(), { deadline: new Date(0) });
    expect(outcomeFromError(await failure(run()))).toBe("GRPC_ERROR_4");
    expect(client.calls).toHaveLength(0);
  });

  it("passes the signal to the client", async () => {
    const controller = new AbortController();
    const { client, run } = setup(() => tokenResponse(), { signal: controller.signal });
    await run();
    expect(client.calls[0]?.signal).toBe(controller.signal);
  });

  it("fails with CANCELED when aborted before the call", async () => {
    const controller = new AbortController();
    controller.abort();
    const { client, run } = setup(() => tokenResponse(), { signal: controller.signal });
    const err = await failure(run());
    expect(client.calls).toHaveLength(0);
    expect(err.grpcCode).toBe(Code.Canceled);
    expect(err.message).toContain("call canceled");
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_1");
  });

  it("fails with CANCELED when aborted during a call, whatever the call's error", async () => {
    const controller = new AbortController();
    const { client, run } = setup(
      () => {
        controller.abort();
        return new ConnectError("deadline", Code.DeadlineExceeded);
      },
      { signal: controller.signal },
    );
    const err = await failure(run());
    expect(client.calls).toHaveLength(1);
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_1");
  });

  it("fails with CANCELED when aborted while sleeping between attempts", async () => {
    const controller = new AbortController();
    const clock = createFakeClock();
    const client = fakeClient(clock, () => unavailable());
    const sleep = async (_ms: number, signal?: AbortSignal) => {
      controller.abort();
      throw signal?.reason;
    };
    const err = await failure(
      mintToken({
        client,
        signer: fakeSigner(),
        now: clock.now,
        sleep,
        signal: controller.signal,
        jitter: false,
      }),
    );
    expect(client.calls).toHaveLength(1);
    expect(err.grpcCode).toBe(Code.Canceled);
    expect(err.message).toContain("call canceled");
  });
});

describe("mintToken: responses", () => {
  // Go's tokenclient returns a plain error: the reference binary wrote no service_version.
  it("SUCCESS without token_response → kind no-token → UNKNOWN_RPC_ERROR, no service version", async () => {
    const { run } = setup(() => create(MintMachineTokenResponseSchema, { serviceVersion: "sv/2" }));
    const err = await failure(run());
    expect(err).toMatchObject({ kind: "no-token", serviceVersion: undefined });
    expect(err.message).toBe("token server didn't return a token");
    expect(outcomeFromError(err)).toBe("UNKNOWN_RPC_ERROR");
  });

  it("token_response without luci_machine_token → MALFORMED_RESPONSE", async () => {
    const { run } = setup(() =>
      create(MintMachineTokenResponseSchema, {
        tokenResponse: { serviceVersion: "sv/3" },
        serviceVersion: "sv/3",
      }),
    );
    const err = await failure(run());
    expect(err).toMatchObject({ kind: "malformed", serviceVersion: "sv/3" });
    expect(err.message).toBe("bad response, empty luci_machine_token field");
    expect(outcomeFromError(err)).toBe("MALFORMED_RESPONSE");
  });

  it("an empty error message becomes `no detailed error message`", async () => {
    const { run } = setup(() => create(MintMachineTokenResponseSchema, { errorCode: 6 }));
    const err = await failure(run());
    expect(err.message).toBe("token server error UNTRUSTED_CERTIFICATE - no detailed error message");
    expect(outcomeFromError(err)).toBe("MINT_TOKEN_ERROR_UNTRUSTED_CERTIFICATE");
  });

  it("an unknown error code prints as digits", async () => {
    const { run } = setup(() =>
      create(MintMachineTokenResponseSchema, { errorCode: 1234 as ErrorCode, errorMessage: "blah" }),
    );
    const err = await failure(run());
    expect(err.message).toBe("token server error 1234 - blah");
    expect(outcomeFromError(err)).toBe("MINT_TOKEN_ERROR_1234");
  });
});

/** A SUCCESS answer carrying `token` with an expiry of `seconds` and `nanos` (none when undefined). */
const answer = (token: string, seconds?: bigint, nanos = 0) =>
  create(MintMachineTokenResponseSchema, {
    tokenResponse: {
      serviceVersion: "sv/4",
      tokenType: {
        case: "luciMachineToken",
        value: { machineToken: token, ...(seconds !== undefined && { expiry: { seconds, nanos } }) },
      },
    },
  });

describe("mintToken: a token that must not be written is a bad answer", () => {
  const NOT_BASE64 = "the machine token is not base64 text";
  it.each([
    ["an empty token", "", "the machine token is empty"],
    ["a token with a newline", "abc\ndef", NOT_BASE64],
    ["a token with a space", "abc def", NOT_BASE64],
    ["a token with an escape", "abc\u001b[2J", NOT_BASE64],
    [
      "a token too long for the token file reader",
      "A".repeat(MAX_MACHINE_TOKEN_CHARS + 1),
      `the machine token has ${MAX_MACHINE_TOKEN_CHARS + 1} characters, more than the ${MAX_MACHINE_TOKEN_CHARS} a token file may hold`,
    ],
  ])("%s → MALFORMED_RESPONSE with the service version", async (_name, token, problem) => {
    const { run } = setup(() => answer(token, 1422939906n));
    const err = await failure(run());
    expect(err).toMatchObject({
      kind: "malformed",
      serviceVersion: "sv/4",
      message: `bad response, ${problem}`,
    });
    expect(outcomeFromError(err)).toBe("MALFORMED_RESPONSE");
  });

  it.each([
    ["past year 9999 (8.64e12 s crashed Date)", 8_640_000_000_000n, 0],
    ["the largest int64", 9223372036854775807n, 0],
    ["the smallest int64", -9223372036854775808n, 0],
    ["with negative nanos", 1422939906n, -5],
    ["with nanos of a second or more", 1422939906n, 1_000_000_000],
  ])("an expiry %s → MALFORMED_RESPONSE", async (_name, seconds, nanos) => {
    const { run } = setup(() => answer("dG9rZW4", seconds, nanos));
    const err = await failure(run());
    expect(err).toMatchObject({
      kind: "malformed",
      serviceVersion: "sv/4",
      message: `bad response, the expiry (seconds ${seconds}, nanos ${nanos}) is not a valid timestamp`,
    });
    expect(outcomeFromError(err)).toBe("MALFORMED_RESPONSE");
  });

  it.each([
    ["standard base64 with padding", "dG9rZW4+/w=="],
    ["URL-safe base64", "dG9rZW4-_w"],
    ["the longest token the reader accepts", "A".repeat(MAX_MACHINE_TOKEN_CHARS)],
  ])("accepts %s", async (_name, token) => {
    const { run } = setup(() => answer(token, 1422939906n));
    expect((await run()).token).toBe(token);
  });

  // Go takes these as they come: a past expiry is scheduled with the 5-minute floor.
  it.each([
    ["no expiry (Go: the Unix epoch)", undefined, 0],
    ["a negative expiry", -5n, -5000],
    ["the first valid second, 0001-01-01", -62135596800n, -62135596800000],
    ["the last valid second, 9999-12-31", 253402300799n, 253402300799000],
  ])("accepts %s", async (_name, seconds, ms) => {
    const { run } = setup(() => answer("dG9rZW4", seconds));
    expect((await run()).expiry.getTime()).toBe(ms);
  });

  it("escapes the service version and the token server's error message to one line", async () => {
    const { run } = setup(() =>
      create(MintMachineTokenResponseSchema, {
        errorCode: 3,
        errorMessage: "clock\n[I2026-01-01T00:00:00.000000Z 1 0 tokend] The token was updated\u001b[2J",
        serviceVersion: "sv\u202e/1",
      }),
    );
    const err = await failure(run());
    expect(err.message).toBe(
      "token server error BAD_TIMESTAMP - clock\\n[I2026-01-01T00:00:00.000000Z 1 0 tokend] The token was updated\\x1b[2J",
    );
    expect(err.serviceVersion).toBe("sv\\u202e/1");
  });
});
