import { randomBytes } from "node:crypto";
import { Agent, request as h1request } from "node:http";
import { type ClientHttp2Session, connect as h2connect } from "node:http2";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createTokenMinterClient, mintToken } from "@luci-machine-tokend/core";
import { MintMachineTokenRequestSchema, TokenMinter } from "@luci-machine-tokend/core/gen";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { until } from "../../core/src/testing/until.js";
import { parsedCertificateBytes } from "./certificate-cache.js";
import { CALL_OVERHEAD_BYTES as CALL } from "./memory-budget.js";
import type { DevServer } from "./start-dev-server.js";
import { createTestPki, type TestPki } from "./test-pki.js";
import { signedMintRequest, testSigner } from "./testing/signed-request.js";
import { startTrustingServer } from "./testing/start-trusting-server.js";

/**
 * The memory budget on the wire: request bytes held across connections and HTTP/2 streams are
 * counted and returned, what does not fit is refused at once with the protocol's UNAVAILABLE,
 * stalled uploads give way to newer calls, inflating takes its room first, and only trusted
 * certificates are cached.
 */

const KIB = 1024;
const MAX_REQUEST = 128 * KIB;
const BUDGET = 512 * KIB;
const PRPC_PATH = "/prpc/tokenserver.minter.TokenMinter/MintMachineToken";
const BINARY = "application/prpc; encoding=binary";

let pki: TestPki;
let server: DevServer;
const sessions: ClientHttp2Session[] = [];

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-4.example.com" });
});
afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy();
  await server?.close();
});

const start = async () => {
  server = await startTrustingServer(pki, { maxRequestBytes: MAX_REQUEST, memoryBudgetBytes: BUDGET });
};

/** A decodable request of about `bytes` (a long signature), so its body is held while the call runs. */
const heavyRequest = (bytes: number) =>
  toBinary(
    MintMachineTokenRequestSchema,
    create(MintMachineTokenRequestSchema, { signature: randomBytes(bytes) }),
  );

/** POSTs to the pRPC endpoint over HTTP/1.1; `body` undefined sends the headers alone and waits. */
function postPrpc(headers: Record<string, string | number>, body?: Uint8Array) {
  return new Promise<{ status: number; code: string; text: string }>((resolve, reject) => {
    const req = h1request(
      `${server.url}${PRPC_PATH}`,
      { method: "POST", headers: { "Content-Type": BINARY, ...headers } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, code: String(res.headers["x-prpc-grpc-code"]), text }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => (err.code === "EPIPE" ? undefined : reject(err)));
    if (body) req.end(body);
    else req.flushHeaders();
  });
}

/** An HTTP/2 stream that sends `bytes` of body and never ends; resolves with its answer, if any. */
function stalledUpload(protocol: "prpc" | "grpc", bytes: number) {
  const session = h2connect(server.grpcUrl ?? "");
  session.on("error", () => {});
  sessions.push(session);
  const stream = session.request(
    protocol === "grpc"
      ? {
          ":method": "POST",
          ":path": `/${TokenMinter.typeName}/MintMachineToken`,
          "content-type": "application/grpc",
        }
      : { ":method": "POST", ":path": PRPC_PATH, "content-type": BINARY },
  );
  stream.on("error", () => {});
  const answer = new Promise<Record<string, string>>((resolve) => {
    const headers: Record<string, string> = {};
    stream.on("response", (h) => Object.assign(headers, h));
    stream.on("trailers", (t) => Object.assign(headers, t));
    stream.on("data", (c: Buffer) => {
      headers.body = (headers.body ?? "") + c.toString();
    });
    // The end of the answer (node's client does not close a stream reset while it has writes queued).
    stream.on("end", () => resolve(headers));
  });
  const envelope = Buffer.alloc(5);
  envelope.writeUInt32BE(MAX_REQUEST, 1);
  stream.write(
    protocol === "grpc" ? Buffer.concat([envelope, Buffer.alloc(bytes - 5)]) : Buffer.alloc(bytes),
  );
  return { answer, close: () => session.destroy() };
}

const BUSY = "the server is holding as many request bytes as its memory budget allows; retry later";

describe("the memory budget across connections and streams", () => {
  it("counts bodies held by calls in flight, refuses at once what cannot fit, and gets every byte back", async () => {
    await start();
    // Four calls whose bodies have arrived, held with the calls' own cost while they run: room
    // left for one more call and about 16 KiB.
    const body = Math.floor((BUDGET - CALL - 16 * KIB) / 4 - CALL - KIB);
    expect(body).toBeLessThanOrEqual(MAX_REQUEST);
    server.faults.set({ latencyMs: 60_000 });
    const held = Array.from({ length: 4 }, () => postPrpc({}, heavyRequest(body)));
    await until(() => server.memoryInUse() >= 4 * (CALL + body), 10_000);
    // A fifth is admitted but declares a body as large: no room, and nothing to evict (those
    // bodies arrived). It is refused on its headers, before a byte of its body is sent.
    const refused = await postPrpc({ "Content-Length": body });
    expect(refused).toEqual({ status: 503, code: "14", text: `reading the request: ${BUSY}\n` });
    // A gzip body fits, but room to inflate it (the size limit) does not.
    const gzip = await postPrpc({ "Content-Encoding": "gzip" }, gzipSync(heavyRequest(KIB)));
    expect(gzip).toEqual({ status: 503, code: "14", text: `decompressing the request: ${BUSY}\n` });
    await server.close(); // ends the held calls: their bytes come back
    await Promise.allSettled(held);
    await until(() => server.memoryInUse() === 0, 10_000);
  });

  it("a stalled upload gives way to a newer call, which is served; the evicted one is told UNAVAILABLE", async () => {
    await start();
    // Four HTTP/2 uploads of 100 KiB that never end, pRPC and gRPC, oldest first: with the
    // calls' own cost, 16 KiB short of the budget, less than a call needs.
    const upload = CALL + 100 * KIB;
    expect(BUDGET - 4 * upload).toBeLessThan(CALL);
    const uploads = [];
    for (const protocol of ["prpc", "grpc", "prpc", "grpc"] as const) {
      uploads.push(stalledUpload(protocol, 100 * KIB));
      await until(() => server.memoryInUse() >= uploads.length * upload, 10_000);
    }
    expect(server.memoryInUse()).toBe(4 * upload);
    // A tokend's call does not fit in what is left: the oldest upload is dropped, and the call
    // gets its token at once.
    const minted = await mintToken({
      client: createTokenMinterClient(server.backend),
      signer: testSigner(pki.leaf),
      timeoutMs: 10_000,
    });
    expect(minted.attempts).toBe(1);
    expect(await uploads[0]?.answer).toMatchObject({
      ":status": 503,
      "x-prpc-grpc-code": "14",
      body: `reading the request: ${BUSY}\n`,
    });
    // The next to go is the gRPC one (for a call of 100 KiB), answered in gRPC.
    expect(BUDGET - 3 * upload - parsedCertificateBytes(pki.leaf.certDer.length)).toBeLessThan(
      CALL + 100 * KIB,
    );
    await postPrpc({}, heavyRequest(100 * KIB));
    const grpc = await uploads[1]?.answer;
    expect([grpc?.["grpc-status"], decodeURIComponent(grpc?.["grpc-message"] ?? "")]).toEqual(["14", BUSY]);
    for (const upload of uploads) upload.close();
    // What is left is the machine certificate, cached once trusted.
    const cached = parsedCertificateBytes(pki.leaf.certDer.length);
    await until(() => server.memoryInUse() === cached, 10_000);
  });

  it("streams that never send a byte of body are calls too: past the budget the oldest give way", async () => {
    // A budget of four calls (and a size limit that allows it).
    const fit = 4;
    server = await startTrustingServer(pki, {
      maxRequestBytes: (fit * CALL) / 2,
      memoryBudgetBytes: fit * CALL,
    });
    const session = h2connect(server.grpcUrl ?? "");
    session.on("error", () => {});
    sessions.push(session);
    // Once the server's SETTINGS are in, the client holds back streams past its limit (8).
    await new Promise((resolve) => session.once("remoteSettings", resolve));
    expect(session.remoteSettings.maxConcurrentStreams).toBe(8); // each open stream costs heap
    const statuses: unknown[] = [];
    for (let i = 0; i < 3 * fit; i++) {
      const stream = session.request({ ":method": "POST", ":path": PRPC_PATH, "content-type": BINARY });
      stream.on("error", () => {});
      stream.on("response", (h) => statuses.push(h[":status"]));
      stream.resume();
    }
    // Each new stream past those drops the oldest (which is told 503).
    await until(() => statuses.length === 2 * fit, 10_000);
    expect(statuses).toEqual(Array(2 * fit).fill(503));
    expect(server.memoryInUse()).toBe(fit * CALL);
    const minted = await mintToken({
      client: createTokenMinterClient(server.backend),
      signer: testSigner(pki.leaf),
      timeoutMs: 10_000,
    });
    expect(minted.attempts).toBe(1);
  });

  it("a call with large headers costs them too", async () => {
    await start();
    const session = h2connect(server.grpcUrl ?? "");
    session.on("error", () => {});
    sessions.push(session);
    const headers: Record<string, string> = { ":method": "POST", ":path": PRPC_PATH, "content-type": BINARY };
    for (let i = 0; i < 40; i++) headers[`x-filler-${i}`] = "a".repeat(KIB);
    const stream = session.request(headers);
    stream.on("error", () => {});
    await until(() => server.memoryInUse() > 0, 10_000);
    // 40 KiB of headers past the 4 KiB the call's own cost covers, counted twice.
    expect(server.memoryInUse()).toBeGreaterThanOrEqual(CALL + 2 * 36 * KIB);
    expect(server.memoryInUse()).toBeLessThan(CALL + 2 * 38 * KIB);
  });

  it("a refused HTTP/2 stream is reset once answered, so the client stops sending and the stream is gone", async () => {
    await start();
    const session = h2connect(server.grpcUrl ?? "");
    session.on("error", () => {});
    sessions.push(session);
    // A body as long as the client likes, without an end: over the size limit, so refused.
    const stream = session.request({ ":method": "POST", ":path": PRPC_PATH, "content-type": BINARY });
    stream.on("error", () => {});
    stream.resume();
    let sent = 0;
    const chunk = Buffer.alloc(16 * KIB);
    const pump = () => {
      while (!stream.destroyed && sent < 64 << 20) {
        sent += chunk.length;
        if (!stream.write(chunk)) return void stream.once("drain", pump);
      }
    };
    pump();
    const status = new Promise((resolve) => stream.on("response", (h) => resolve(h[":status"])));
    await new Promise((resolve) => stream.once("close", resolve));
    expect([await status, stream.rstCode]).toEqual([503, 0]); // RST_STREAM NO_ERROR, RFC 9113 §8.1
    // The size limit and what flow control let through before the reset; not the 64 MiB offered.
    expect(sent).toBeLessThan(MAX_REQUEST + 256 * KIB);
  });

  it("a request answered without reading its body is not read further; one without a body keeps its connection", async () => {
    await start();
    const agent = new Agent({ keepAlive: true });
    const call = (method: string, path: string, body?: string) =>
      new Promise<string>((resolve, reject) => {
        const req = h1request(`${server.url}${path}`, { method, agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(`${method} ${path} ${res.statusCode} ${res.headers.connection}`));
        });
        req.on("error", reject);
        req.end(body);
      });
    try {
      expect(await call("GET", "/auth/api/v1/server/certificates")).toBe(
        "GET /auth/api/v1/server/certificates 200 keep-alive",
      );
      expect(await call("GET", "/nothing")).toBe("GET /nothing 404 keep-alive");
      expect(await call("POST", "/nothing", "x")).toBe("POST /nothing 404 close");
    } finally {
      agent.destroy();
    }
  });

  it("a call the budget cannot admit is refused with UNAVAILABLE (gRPC here), which clients retry", async () => {
    await start();
    // Four calls of 100 KiB held while they run: no room for even a call's own cost.
    server.faults.set({ latencyMs: 60_000 });
    const held = Array.from({ length: 4 }, () => postPrpc({}, heavyRequest(100 * KIB)));
    await until(() => server.memoryInUse() >= 4 * (CALL + 100 * KIB), 10_000);
    expect(BUDGET - server.memoryInUse()).toBeLessThan(CALL);
    server.faults.clear();
    const client = createClient(TokenMinter, createGrpcTransport({ baseUrl: server.grpcUrl ?? "" }));
    const err = await client
      .mintMachineToken(create(MintMachineTokenRequestSchema, { signature: randomBytes(20 * KIB) }))
      .catch((e: unknown) => e);
    expect([err instanceof ConnectError && err.code, (err as Error).message]).toEqual([
      Code.Unavailable,
      `[unavailable] ${BUSY}`,
    ]);
    await server.close();
    await Promise.allSettled(held);
  });

  it("only a certificate that passed the trust check is cached, and it costs its weight", async () => {
    await start();
    const client = createTokenMinterClient(server.backend);
    for (const leaf of [pki.untrusted, pki.expired]) {
      await mintToken({ client, signer: testSigner(leaf), timeoutMs: 10_000 }).catch(() => undefined);
    }
    const bad = signedMintRequest(pki.leaf, { badSignature: true });
    await client.mintMachineToken(bad).catch(() => undefined);
    expect(server.memoryInUse()).toBe(0);
    await mintToken({ client, signer: testSigner(pki.leaf), timeoutMs: 10_000 });
    expect(server.memoryInUse()).toBe(parsedCertificateBytes(pki.leaf.certDer.length));
  });
});
