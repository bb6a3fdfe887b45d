import { request as h1request } from "node:http";
import { gzipSync } from "node:zlib";
import { toBinary, toJsonString } from "@bufbuild/protobuf";
import { fromText, toText } from "@bufbuild/protobuf/txtpb";
import { MintMachineTokenRequestSchema, MintMachineTokenResponseSchema } from "@luci-machine-tokend/core/gen";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../start-dev-server.js";
import { createTestPki, type TestPki } from "../test-pki.js";
import { signedMintRequest } from "../testing/signed-request.js";
import { startTrustingServer } from "../testing/start-trusting-server.js";

/**
 * The pRPC endpoint on the wire, against a real dev server: the text format, gzip request bodies,
 * LUCI's size limits (as sent and inflated), and unknown fields, each as LUCI's server answers.
 */

const MAX_REQUEST_BYTES = 64 << 10;
let pki: TestPki;
let server: DevServer;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-3.example.com" });
  server = await startTrustingServer(pki, { grpcPort: false, maxRequestBytes: MAX_REQUEST_BYTES });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
});

const binaryRequest = () => toBinary(MintMachineTokenRequestSchema, signedMintRequest(pki));

/** POSTs raw bytes to MintMachineToken over HTTP/1.1; resolves with the answer and whether the socket closed. */
function post(body: Uint8Array | string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, string>; text: string; body: Buffer }>(
    (resolve, reject) => {
      const req = h1request(
        `${server.url}/prpc/tokenserver.minter.TokenMinter/MintMachineToken`,
        { method: "POST", headers: { "Content-Type": "application/prpc; encoding=binary", ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const buf = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers as Record<string, string>,
              text: buf.toString(),
              body: buf,
            });
          });
        },
      );
      // The server may answer and close before reading a body over its limit.
      req.on("error", (err: NodeJS.ErrnoException) => (err.code === "EPIPE" ? undefined : reject(err)));
      req.end(body);
    },
  );
}

describe("the text format (application/prpc; encoding=text)", () => {
  it("decodes text requests and encodes text responses", async () => {
    const res = await post(toText(MintMachineTokenRequestSchema, signedMintRequest(pki)), {
      "Content-Type": "application/prpc; encoding=text",
      Accept: "application/prpc; encoding=text",
    });
    expect([res.status, res.headers["x-prpc-grpc-code"], res.headers["content-type"]]).toEqual([
      200,
      "0",
      "application/prpc; encoding=text",
    ]);
    const answer = fromText(MintMachineTokenResponseSchema, res.text);
    expect(answer.tokenResponse?.tokenType.case).toBe("luciMachineToken");
    expect(server.requests.map((r) => [r.format, r.outcome.kind])).toEqual([["text", "token"]]);
  });

  it("ignores unknown text fields, as LUCI's prototext DiscardUnknown", async () => {
    const text = `future_field: { a: 1 }\n${toText(MintMachineTokenRequestSchema, signedMintRequest(pki))}`;
    const res = await post(text, { "Content-Type": "application/prpc; encoding=text" });
    expect([res.status, res.headers["x-prpc-grpc-code"]]).toEqual([200, "0"]);
  });

  it("answers undecodable text with 400 `could not decode body`", async () => {
    const res = await post("signature: 5", { "Content-Type": "application/prpc; encoding=text" });
    expect([res.status, res.headers["x-prpc-grpc-code"], res.text]).toEqual([
      400,
      "3",
      expect.stringMatching(/^could not decode body: .+\n$/),
    ]);
  });

  it("without Accept, answers binary whatever the request format (LUCI's default)", async () => {
    const res = await post(toJsonString(MintMachineTokenRequestSchema, signedMintRequest(pki)), {
      "Content-Type": "application/json",
    });
    expect([res.status, res.headers["content-type"]]).toEqual([200, "application/prpc; encoding=binary"]);
  });
});

describe("unknown JSON fields", () => {
  it("are ignored, as LUCI's protojson DiscardUnknown (not refused)", async () => {
    const json = JSON.parse(toJsonString(MintMachineTokenRequestSchema, signedMintRequest(pki)));
    const res = await post(JSON.stringify({ ...json, futureField: { nested: [1, 2] } }), {
      "Content-Type": "application/json",
      Accept: "application/json",
    });
    expect([res.status, res.text.startsWith(")]}'\n")]).toEqual([200, true]);
    expect(JSON.parse(res.text.slice(5)).tokenResponse.luciMachineToken.machineToken).toBeTruthy();
  });
});

describe("gzip request bodies (Content-Encoding: gzip)", () => {
  it("are inflated before decoding", async () => {
    const res = await post(gzipSync(binaryRequest()), { "Content-Encoding": "gzip" });
    expect([res.status, res.headers["x-prpc-grpc-code"]]).toEqual([200, "0"]);
  });

  it("corrupt gzip is 400, truncated gzip is CANCELED (499), as Go's gzip reader reports them", async () => {
    const bad = await post(binaryRequest(), { "Content-Encoding": "gzip" });
    expect([bad.status, bad.headers["x-prpc-grpc-code"], bad.text]).toEqual([
      400,
      "3",
      "decompressing the request: gzip: invalid header\n",
    ]);
    const gz = gzipSync(binaryRequest());
    const cut = await post(gz.subarray(0, gz.length - 10), { "Content-Encoding": "gzip" });
    expect([cut.status, cut.headers["x-prpc-grpc-code"], cut.text]).toEqual([
      499,
      "1",
      "decompressing the request: unexpected EOF\n",
    ]);
  });

  it("an empty gzip body is 400 with io.EOF's text, as Go's gzip.NewReader reports it", async () => {
    const empty = await post(new Uint8Array(0), { "Content-Encoding": "gzip" });
    expect([empty.status, empty.headers["x-prpc-grpc-code"], empty.text]).toEqual([
      400,
      "3",
      "decompressing the request: EOF\n",
    ]);
  });
});

describe("request size limits (LUCI's MaxRequestSize, here maxRequestBytes)", () => {
  it("a body over the limit is UNAVAILABLE (503) and the connection is closed", async () => {
    const res = await post(new Uint8Array(MAX_REQUEST_BYTES + 1), {});
    expect([res.status, res.headers["x-prpc-grpc-code"], res.text, res.headers.connection]).toEqual([
      503,
      "14",
      "reading the request: the request size exceeds the server limit\n",
      "close",
    ]);
    expect(server.requests.map((r) => r.outcome.kind)).toEqual(["grpc-error"]);
  });

  it("a gzip bomb stops inflating at the limit: UNAVAILABLE (503), memory flat", async () => {
    // 256 MiB of zeros in four gzip members, ~250 KiB sent: inflating it whole would show in RSS.
    const member = gzipSync(new Uint8Array(64 << 20), { level: 9 });
    const bomb = Buffer.concat([member, member, member, member]);
    expect(bomb.length).toBeLessThan(1 << 20); // under the default limit as sent
    server.requests.length = 0;
    const defaults = await startDevServer({ grpcPort: false, signingKeyPem: pki.caKeyPem });
    try {
      const rssBefore = process.memoryUsage().rss;
      const res = await fetch(`${defaults.url}/prpc/tokenserver.minter.TokenMinter/MintMachineToken`, {
        method: "POST",
        headers: { "Content-Type": "application/prpc; encoding=binary", "Content-Encoding": "gzip" },
        body: bomb,
      });
      expect([res.status, res.headers.get("x-prpc-grpc-code"), await res.text()]).toEqual([
        503,
        "14",
        "decompressing the request: the decompressed request size exceeds the server limit\n",
      ]);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 << 20);
    } finally {
      await defaults.close();
    }
  });
});
