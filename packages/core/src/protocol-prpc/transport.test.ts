import { verify } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MachineTokenType } from "../gen/tokenserver/machine_token_pb.js";
import {
  MintMachineTokenRequestSchema,
  SignatureAlgorithm,
  TokenMinter,
} from "../gen/tokenserver/minter/token_minter_pb.js";
import { type MintTokenOptions, mintToken } from "../mint/mint-token.js";
import { MintTokenError } from "../mint/mint-token-error.js";
import { outcomeFromError } from "../mint/outcome-from-error.js";
import { createTokenMinterClient } from "../mint/token-minter-client.js";
import { createX509Signer, type X509Signer } from "../mint/x509-signer.js";
import { createFakeClock } from "../testing/fake-clock.js";
import {
  BINARY,
  type FakePrpcServer,
  grpcErrorReply,
  messageReply,
  mintedReply,
  type Reply,
  startFakePrpcServer,
} from "../testing/fake-prpc-server.js";
import { makeTestPki, type TestIdentity } from "../testing/pki.js";
import { recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { hex, RESPONSE_D_HEX, RESPONSE_E_HEX } from "../testing/vectors.js";
import { createPrpcTransport } from "./transport.js";

let server: FakePrpcServer;
let identity: TestIdentity;
let signer: X509Signer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;

beforeAll(async () => {
  [server, identity, tmp] = await Promise.all([
    startFakePrpcServer(),
    makeTestPki().then((pki) => pki.leaf),
    makeTempDir(),
  ]);
  await writeFile(tmp.path("key.pem"), identity.pkcs1Pem);
  await writeFile(tmp.path("cert.pem"), identity.certPem);
  signer = await createX509Signer({ keyPath: tmp.path("key.pem"), certPath: tmp.path("cert.pem") });
});
afterEach(() => server.reset());
afterAll(async () => {
  await server.close();
  await tmp.remove();
});

/** Mints against the fake server with a fake clock (retries cost no real time). */
function mint(extra: Partial<MintTokenOptions> = {}) {
  const clock = createFakeClock();
  const client = createTokenMinterClient(server.backend);
  const promise = mintToken({
    client,
    signer,
    now: clock.now,
    sleep: clock.sleep,
    jitter: false,
    timeoutMs: 2000,
    ...extra,
  });
  return { clock, promise };
}

async function failure(p: Promise<unknown>): Promise<MintTokenError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MintTokenError);
  return err as MintTokenError;
}

const always = (reply: Reply) => server.respond(() => reply);

describe("pRPC wire: the request", () => {
  it("POSTs a signed MintMachineTokenRequest to /prpc/tokenserver.minter.TokenMinter/MintMachineToken", async () => {
    const { clock, promise } = mint({ timeoutMs: 60_000 });
    await promise;
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0];
    expect(req?.method).toBe("POST");
    expect(req?.url).toBe("/prpc/tokenserver.minter.TokenMinter/MintMachineToken");
    expect(req?.headers["content-type"]).toBe("application/prpc; encoding=binary");
    expect(req?.headers.accept).toBe("application/prpc; encoding=binary");
    expect(req?.headers["x-prpc-grpc-timeout"]).toBe("60000000u");
    expect(req?.headers["x-prpc-max-response-size"]).toBe("33521664");
    expect(req?.headers["accept-encoding"]).toBe("gzip");
    expect(req?.headers["user-agent"]).toBe("pRPC Client 1.5");
    expect(req?.headers["content-length"]).toBe(String(req?.body.length));

    const inner = req?.inner;
    expect(inner?.certificate).toEqual(identity.certDer);
    expect(inner?.signatureAlgorithm).toBe(SignatureAlgorithm.SHA256_RSA_ALGO);
    expect(inner?.tokenType).toBe(MachineTokenType.LUCI_MACHINE_TOKEN);
    expect(inner?.issuedAt?.seconds).toBe(1422936306n);
    expect(inner?.issuedAt?.nanos).toBe(500_000_000);
    expect(clock.ms()).toBe(Date.UTC(2015, 1, 3, 4, 5, 6, 500));
    // The server verified the signature over the exact bytes it received.
    expect(req?.signatureValid).toBe(true);
    const outer = fromBinary(MintMachineTokenRequestSchema, req?.body ?? new Uint8Array());
    expect(outer.signature.length).toBe(256);
    expect(verify("sha256", outer.serializedTokenRequest, identity.publicKey, outer.signature)).toBe(true);
  });

  it("encodes the per-attempt timeout like Go (5 minutes → 300000m)", async () => {
    await mint({ timeoutMs: 300_000 }).promise;
    expect(server.requests[0]?.headers["x-prpc-grpc-timeout"]).toBe("300000m");
  });

  it("logs Go's debug line for each call and sends interceptor headers", async () => {
    const logger = recordingLogger();
    const transport = createPrpcTransport({
      baseUrl: server.baseUrl,
      logger,
      interceptors: [
        (next) => async (req) => {
          req.header.set("X-Test", "yes");
          return next(req);
        },
      ],
    });
    await createClient(TokenMinter, transport).mintMachineToken({}, { timeoutMs: 60_000 });
    expect(logger.at("debug")).toEqual([
      `RPC ${server.backend}/tokenserver.minter.TokenMinter.MintMachineToken [deadline 1m0s]`,
    ]);
    expect(server.requests[0]?.headers["x-test"]).toBe("yes");
  });

  it("refuses streaming calls", async () => {
    const transport = createPrpcTransport({ baseUrl: server.baseUrl });
    const method = TokenMinter.method.mintMachineToken as never;
    await expect(
      transport.stream(method, undefined, undefined, undefined, (async function* () {})()),
    ).rejects.toMatchObject({
      code: Code.Unimplemented,
    });
  });
});

describe("pRPC wire: responses", () => {
  it("decodes the reference success response (§2.11 D)", async () => {
    always({
      status: 200,
      headers: { "Content-Type": BINARY, "X-Prpc-Grpc-Code": "0" },
      body: hex(RESPONSE_D_HEX),
    });
    const minted = await mint().promise;
    expect(minted).toEqual({
      token: "token-1",
      expiry: new Date(1422939906_000),
      serviceVersion: "unit-tests/mocked-ver",
      attempts: 1,
    });
  });

  it("turns the reference BAD_TIMESTAMP response (§2.11 E) into a token-server error, not retried", async () => {
    always({
      status: 200,
      headers: { "Content-Type": BINARY, "X-Prpc-Grpc-Code": "0" },
      body: hex(RESPONSE_E_HEX),
    });
    const err = await failure(mint().promise);
    expect(err.kind).toBe("token-server");
    expect(err.message).toBe(
      "token server error BAD_TIMESTAMP - issued_at timestamp is not within acceptable range, check your clock",
    );
    expect(err.serviceVersion).toBe("unit-tests/mocked-ver");
    expect(outcomeFromError(err)).toBe("MINT_TOKEN_ERROR_BAD_TIMESTAMP");
    expect(server.requests).toHaveLength(1);
  });

  it("accepts a gzip-encoded response", async () => {
    always({ ...mintedReply("token-gz"), gzip: true });
    expect((await mint().promise).token).toBe("token-gz");
  });

  it("accepts the other binary content types", async () => {
    for (const contentType of ["application/prpc", "application/grpc", "*/*", ""]) {
      const reply = mintedReply();
      always({ ...reply, headers: { ...reply.headers, "Content-Type": contentType } });
      expect((await mint().promise).token).toBe("token-1");
    }
  });

  it("SUCCESS without token_response → UNKNOWN_RPC_ERROR", async () => {
    always(messageReply({ serviceVersion: "sv" }));
    const err = await failure(mint().promise);
    expect(err.kind).toBe("no-token");
    expect(outcomeFromError(err)).toBe("UNKNOWN_RPC_ERROR");
    expect(server.requests).toHaveLength(1);
  });

  it("token_response without the oneof → MALFORMED_RESPONSE", async () => {
    always(messageReply({ tokenResponse: { serviceVersion: "sv" } }));
    const err = await failure(mint().promise);
    expect(outcomeFromError(err)).toBe("MALFORMED_RESPONSE");
    expect(err.serviceVersion).toBe("sv");
  });

  // The reference binary failed at once with UNKNOWN_RPC_ERROR: `rpc error: code = Internal desc =
  // prpc: failed to unmarshal the response: proto: cannot parse invalid …`.
  it("a 200 whose body is not the message → UNKNOWN_RPC_ERROR at once", async () => {
    always({ status: 200, headers: { "Content-Type": BINARY, "X-Prpc-Grpc-Code": "0" }, body: hex("ffff") });
    const err = await failure(mint().promise);
    expect(outcomeFromError(err)).toBe("UNKNOWN_RPC_ERROR");
    expect(err.message).toMatch(
      /^rpc error: code = Internal desc = prpc: failed to unmarshal the response: /,
    );
    expect(err.serviceVersion).toBeUndefined();
    expect(server.requests).toHaveLength(1);
  });

  // The reference binary failed at once (UNKNOWN_RPC_ERROR), with these texts.
  it.each([
    ["text/html", 'prpc: bad response content type "text/html": unknown content type: "text/html"'],
    [
      "application/json",
      'prpc: output format ("application/json") doesn\'t match expected format ("application/prpc; encoding=binary")',
    ],
  ])("a success with Content-Type %s → UNKNOWN_RPC_ERROR at once, worded as Go", async (type, text) => {
    always({ ...mintedReply(), headers: { "Content-Type": type, "X-Prpc-Grpc-Code": "0" } });
    const err = await failure(mint().promise);
    expect(outcomeFromError(err)).toBe("UNKNOWN_RPC_ERROR");
    expect(err.message).toBe(`rpc error: code = Internal desc = ${text}`);
    expect(server.requests).toHaveLength(1);
  });

  // The reference binary: GRPC_ERROR_17 / GRPC_ERROR_4294967295 / GRPC_ERROR_7, one request each.
  it.each([
    ["17", "GRPC_ERROR_17", "Code(17)"],
    ["-1", "GRPC_ERROR_4294967295", "Code(4294967295)"],
    ["+7", "GRPC_ERROR_7", "PermissionDenied"],
  ])("X-Prpc-Grpc-Code %s → %s, not retried", async (header, outcome, name) => {
    always({ status: 500, headers: { "X-Prpc-Grpc-Code": header }, body: "boom\n" });
    const err = await failure(mint().promise);
    expect(outcomeFromError(err)).toBe(outcome);
    expect(err.message).toBe(`rpc error: code = ${name} desc = boom`);
    expect(server.requests).toHaveLength(1);
  });
});

describe("pRPC wire: error mapping", () => {
  it.each([
    [7, 403],
    [3, 400],
    [12, 501],
    [16, 401],
    [5, 404],
  ])("X-Prpc-Grpc-Code %i → GRPC_ERROR_%i, not retried", async (code, status) => {
    always(grpcErrorReply(code, "nope", status));
    const err = await failure(mint().promise);
    expect(outcomeFromError(err)).toBe(`GRPC_ERROR_${code}`);
    expect(err.message).toMatch(/desc = nope$/);
    expect(server.requests).toHaveLength(1);
  });

  it("the header wins over the HTTP status (code 7 with HTTP 200)", async () => {
    always(grpcErrorReply(7, "denied", 200));
    expect(outcomeFromError(await failure(mint().promise))).toBe("GRPC_ERROR_7");
  });

  it.each([
    [401, 16],
    [403, 7],
  ])("HTTP %i without the code header → GRPC_ERROR_%i, not retried", async (status, code) => {
    always({ status, headers: { "Content-Type": "text/html" }, body: "<h1>Forbidden</h1>" });
    const err = await failure(mint().promise);
    expect(outcomeFromError(err)).toBe(`GRPC_ERROR_${code}`);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [
      "502 HTML",
      {
        status: 502,
        headers: { "Content-Type": "text/html" },
        body: "<html><h1>502 Bad Gateway</h1></html>",
      },
    ],
    ["503", { status: 503, body: "unavailable" }],
    ["500", { status: 500, body: "oops" }],
    ["404", { status: 404, body: "not found" }],
    ["200 without header", { status: 200, headers: { "Content-Type": BINARY }, body: "" }],
    ["non-integer code header", { status: 200, headers: { "X-Prpc-Grpc-Code": "zero" }, body: "" }],
    ["gRPC 13", grpcErrorReply(13, "Internal server error")],
    ["gRPC 14", grpcErrorReply(14, "Service unavailable", 503)],
    ["gRPC 2", grpcErrorReply(2, "Unknown server error")],
  ] as Array<[string, Reply]>)("%s is retried until the deadline → GRPC_ERROR_4", async (_name, reply) => {
    always(reply);
    const logger = recordingLogger();
    const { clock, promise } = mint({ timeoutMs: 2000, logger });
    const err = await failure(promise);
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
    // Requests at 0, 200, 500, 950 and 1625 ms; the last sleep is cut to the 375 ms left.
    expect(clock.delays).toEqual([200, 300, 450, 675, 375]);
    expect(server.requests).toHaveLength(5);
    expect(logger.at("warning")).toHaveLength(5);
    expect(logger.at("warning")[0]).toMatch(/^RPC failed transiently \(retry in 200ms\): rpc error: code = /);
  });

  it("reports the transient code of a retried error in the warning (non-integer header → Internal)", async () => {
    server.respond((_r, n) =>
      n === 1 ? { status: 200, headers: { "X-Prpc-Grpc-Code": "x" } } : mintedReply(),
    );
    const logger = recordingLogger();
    await mint({ logger }).promise;
    expect(logger.at("warning")[0]).toMatch(
      /code = Internal desc = prpc: invalid X-Prpc-Grpc-Code header value "x"$/,
    );
  });

  it("a 503 without the header is UNAVAILABLE in the warning; a 502 INTERNAL with the page's text", async () => {
    const logger = recordingLogger();
    server.respond((_r, n) =>
      n === 1
        ? { status: 503, body: "busy" }
        : n === 2
          ? {
              status: 502,
              headers: { "Content-Type": "text/html" },
              body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
            }
          : mintedReply(),
    );
    await mint({ logger }).promise;
    expect(logger.at("warning")).toEqual([
      "RPC failed transiently (retry in 200ms): rpc error: code = Unavailable desc = busy",
      "RPC failed transiently (retry in 300ms): rpc error: code = Internal desc = 502 Bad Gateway",
    ]);
  });

  it("a response over the size cap → UNAVAILABLE in the message, UNKNOWN_RPC_ERROR, not retried, as Go", async () => {
    const client = createClient(
      TokenMinter,
      createPrpcTransport({ baseUrl: server.baseUrl, maxResponseBytes: 20 }),
    );
    always({
      status: 200,
      headers: { "Content-Type": BINARY, "X-Prpc-Grpc-Code": "0" },
      body: hex(RESPONSE_D_HEX),
    });
    const clock = createFakeClock();
    const err = await failure(
      mintToken({ client, signer, now: clock.now, sleep: clock.sleep, timeoutMs: 2000 }),
    );
    expect(outcomeFromError(err)).toBe("UNKNOWN_RPC_ERROR");
    expect(err.message).toBe(
      "rpc error: code = Unavailable desc = prpc: the response size 68 exceeds the client limit 20",
    );
    expect(server.requests).toHaveLength(1);
  });

  it("a response of exactly the cap is accepted", async () => {
    const client = createClient(
      TokenMinter,
      createPrpcTransport({ baseUrl: server.baseUrl, maxResponseBytes: 68 }),
    );
    always({
      status: 200,
      headers: { "Content-Type": BINARY, "X-Prpc-Grpc-Code": "0" },
      body: hex(RESPONSE_D_HEX),
    });
    const clock = createFakeClock();
    expect((await mintToken({ client, signer, now: clock.now, sleep: clock.sleep })).token).toBe("token-1");
  });

  it("a connection reset is retried", async () => {
    server.respond((_r, n) => (n === 1 ? { reset: true } : mintedReply("after-reset")));
    const logger = recordingLogger();
    const minted = await mint({ logger }).promise;
    expect(minted.token).toBe("after-reset");
    expect(minted.attempts).toBe(2);
    expect(logger.at("warning")[0]).toMatch(/code = Internal/);
  });

  it("a refused connection is retried until the deadline", async () => {
    const closed = await startFakePrpcServer();
    await closed.close();
    const clock = createFakeClock();
    const client = createTokenMinterClient(closed.backend);
    const err = await failure(
      mintToken({ client, signer, now: clock.now, sleep: clock.sleep, jitter: false, timeoutMs: 1000 }),
    );
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
    expect(clock.delays).toEqual([200, 300, 450, 50]);
  });
});

describe("pRPC wire: real deadlines and cancellation", () => {
  it("a server slower than the deadline → GRPC_ERROR_4", async () => {
    always({ ...mintedReply(), delayMs: 3000 });
    const started = Date.now();
    const err = await failure(
      mintToken({ client: createTokenMinterClient(server.backend), signer, timeoutMs: 400, jitter: false }),
    );
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
    expect(Date.now() - started).toBeLessThan(2500);
    expect(server.requests.length).toBeGreaterThanOrEqual(1);
    expect(server.requests[0]?.headers["x-prpc-grpc-timeout"]).toMatch(/^\d+u$/);
  });

  it("an abort during the call → GRPC_ERROR_1 `call canceled`", async () => {
    always({ ...mintedReply(), delayMs: 3000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await failure(
      mintToken({
        client: createTokenMinterClient(server.backend),
        signer,
        timeoutMs: 10_000,
        signal: controller.signal,
      }),
    );
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_1");
    expect(err.message).toContain("call canceled");
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("timeoutMs 0 → GRPC_ERROR_4 without any request reaching the server", async () => {
    const err = await failure(
      mintToken({ client: createTokenMinterClient(server.backend), signer, timeoutMs: 0 }),
    );
    expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
    expect(server.requests).toHaveLength(0);
  });
});

describe("pRPC transport used directly", () => {
  it("raises ConnectErrors with the pRPC code and message", async () => {
    always(grpcErrorReply(7, "denied\n", 403));
    const client = createClient(TokenMinter, createPrpcTransport({ baseUrl: server.baseUrl }));
    const err = await client.mintMachineToken({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.PermissionDenied);
    expect((err as ConnectError).rawMessage).toBe("denied\\n");
  });

  it("sends no timeout header when the call has none", async () => {
    const client = createClient(TokenMinter, createPrpcTransport({ baseUrl: `${server.baseUrl}/` }));
    await client.mintMachineToken({});
    expect(server.requests[0]?.headers["x-prpc-grpc-timeout"]).toBeUndefined();
    expect(server.requests[0]?.url).toBe("/prpc/tokenserver.minter.TokenMinter/MintMachineToken");
  });
});
