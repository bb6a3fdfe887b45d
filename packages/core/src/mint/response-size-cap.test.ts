import { writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createH2cServer, type Http2Session, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeClock } from "../testing/fake-clock.js";
import { makeTestPki } from "../testing/pki.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { mintToken } from "./mint-token.js";
import { MintTokenError } from "./mint-token-error.js";
import { outcomeFromError } from "./outcome-from-error.js";
import type { Protocol } from "./protocols.js";
import { MAX_RESPONSE_BYTES } from "./response-size-cap.js";
import { createTokenMinterClient } from "./token-minter-client.js";
import { createX509Signer, type X509Signer } from "./x509-signer.js";

/** How the servers answer: a body declared (and claimed) to be 1.5 GB, or an endless one. */
type Mode = "declared" | "endless";
const HUGE = 1_500_000_000;
const CHUNK = Buffer.alloc(1 << 20);

let mode: Mode = "declared";
/** Bytes each answer wrote before the client went away. */
const written: number[] = [];
let requests = 0;

/** A gRPC / gRPC-web / Connect envelope header: flags 0 and a 4-byte length. */
function envelopeHeader(length: number): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(length, 1);
  return h;
}

/** Writes CHUNKs until the peer stops reading (closes), counting what was written. */
function pump(stream: {
  write(b: Buffer): boolean;
  once(e: string, f: () => void): unknown;
  destroyed: boolean;
}) {
  let total = 0;
  const step = () => {
    while (!stream.destroyed && total < 2 * HUGE) {
      total += CHUNK.length;
      if (!stream.write(CHUNK)) return void stream.once("drain", step);
    }
  };
  stream.once("close", () => written.push(total));
  step();
}

function answerHttp1(req: IncomingMessage, res: ServerResponse) {
  requests++;
  req.resume();
  if (String(req.headers["content-type"]).startsWith("application/prpc")) {
    // pRPC, as a LUCI server answers: its code header, then the body (declared or not).
    const header = { "Content-Type": "application/prpc; encoding=binary", "X-Prpc-Grpc-Code": "0" };
    res.writeHead(200, mode === "declared" ? { ...header, "Content-Length": HUGE } : header);
    return pump(res);
  }
  const grpcWeb = String(req.headers["content-type"]).startsWith("application/grpc-web");
  const type = grpcWeb ? "application/grpc-web+proto" : "application/proto";
  if (mode === "declared") {
    // Connect unary: a Content-Length; gRPC-web: an envelope that announces the size.
    res.writeHead(200, grpcWeb ? { "Content-Type": type } : { "Content-Type": type, "Content-Length": HUGE });
    if (grpcWeb) res.write(envelopeHeader(HUGE));
  } else {
    res.writeHead(200, { "Content-Type": type });
    if (grpcWeb) res.write(envelopeHeader(HUGE));
  }
  pump(res);
}

function answerGrpc(stream: ServerHttp2Stream) {
  requests++;
  stream.on("error", () => {}); // the client resets the stream once it has seen too much
  stream.resume();
  stream.respond({ ":status": 200, "content-type": "application/grpc+proto" });
  stream.write(envelopeHeader(HUGE));
  pump(stream);
}

const http1 = createServer(answerHttp1);
const h2c = createH2cServer();
h2c.on("stream", answerGrpc);
const sessions = new Set<Http2Session>();
h2c.on("session", (s) => sessions.add(s));
let signer: X509Signer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;

beforeAll(async () => {
  const [identity] = await Promise.all([
    makeTestPki().then((pki) => pki.leaf),
    new Promise<void>((r) => http1.listen(0, "127.0.0.1", r)),
    new Promise<void>((r) => h2c.listen(0, "127.0.0.1", r)),
  ]);
  tmp = await makeTempDir();
  await writeFile(tmp.path("key.pem"), identity.pkcs1Pem);
  await writeFile(tmp.path("cert.pem"), identity.certPem);
  signer = await createX509Signer({ keyPath: tmp.path("key.pem"), certPath: tmp.path("cert.pem") });
});
afterAll(async () => {
  http1.closeAllConnections();
  for (const s of sessions) s.destroy();
  await Promise.all([new Promise((r) => http1.close(r)), new Promise((r) => h2c.close(r)), tmp.remove()]);
});

async function mintOver(protocol: Protocol): Promise<MintTokenError> {
  const server = protocol === "grpc" ? h2c : http1;
  const backend = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clock = createFakeClock();
  requests = 0;
  const err = await mintToken({
    client: createTokenMinterClient(backend, protocol === "prpc" ? {} : { protocol }),
    signer,
    protocol,
    now: clock.now,
    sleep: clock.sleep,
    timeoutMs: 60_000,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MintTokenError);
  return err as MintTokenError;
}

describe("every protocol refuses a reply over the 32 MiB cap, at once, naming itself", () => {
  it("the cap is Go's pRPC client's: 32 MiB − 32 KiB", () => {
    expect(MAX_RESPONSE_BYTES).toBe(33_521_664);
  });

  it.each([
    // pRPC, the default: the cap Go's client has (32 MiB − 32 KiB), without any option given.
    ["prpc", "declared", `prpc: the response size ${HUGE} exceeds the client limit ${MAX_RESPONSE_BYTES}`],
    ["prpc", "endless", `prpc: the response size exceeds the client limit ${MAX_RESPONSE_BYTES}`],
    [
      "connect",
      "declared",
      `connect: the response size ${HUGE} exceeds the client limit ${MAX_RESPONSE_BYTES}`,
    ],
    ["connect", "endless", `connect: the response size exceeds the client limit ${MAX_RESPONSE_BYTES}`],
    [
      "grpc-web",
      "declared",
      `grpc-web: the response size ${HUGE} exceeds the client limit ${MAX_RESPONSE_BYTES}`,
    ],
    ["grpc", "declared", `grpc: the response size ${HUGE} exceeds the client limit ${MAX_RESPONSE_BYTES}`],
  ] as Array<[Protocol, Mode, string]>)("%s, a %s 1.5 GB body", async (protocol, m, text) => {
    mode = m;
    written.length = 0;
    const err = await mintOver(protocol);
    expect(err.message).toBe(`rpc error: code = Unavailable desc = ${text}`);
    expect(outcomeFromError(err)).toBe("UNKNOWN_RPC_ERROR");
    expect(requests).toBe(1);
    // The client hung up long before the 1.5 GB: it read at most the cap and what was in flight.
    await expect.poll(() => written.length).toBe(1);
    expect(written[0]).toBeLessThan(MAX_RESPONSE_BYTES + 64 * CHUNK.length);
  });
});
