import { create, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { createTokenMinterClient } from "@luci-machine-tokend/core";
import { MintMachineTokenRequestSchema, TokenMinter } from "@luci-machine-tokend/core/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpFault } from "./faults.js";
import type { DevServer } from "./start-dev-server.js";
import { createTestPki, type TestPki } from "./test-pki.js";
import { signedMintRequest } from "./testing/signed-request.js";
import { startTrustingServer } from "./testing/start-trusting-server.js";

/**
 * Faults are protocol-independent: Connect and gRPC-web (HTTP/1.1) and gRPC (HTTP/2) calls break
 * too, and only the faulted call does. One attempt per call: retry policy is the client's business.
 */

let pki: TestPki;
let server: DevServer;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-2.example.com" });
  server = await startTrustingServer(pki);
});
afterAll(() => server.close());

const signedRequest = () => signedMintRequest(pki);

const faults: HttpFault[] = [
  { kind: "proxy-html", status: 503 },
  { kind: "reset" },
  { kind: "truncate" },
  { kind: "oversize" },
  { kind: "wrong-content-type" },
];

describe("HTTP faults over the Connect family", () => {
  for (const protocol of ["connect", "grpc-web", "grpc"] as const) {
    it(protocol, async () => {
      const client = createTokenMinterClient(
        protocol === "grpc" ? (server.grpcBackend ?? "") : server.backend,
        { protocol },
      );
      for (const fault of faults) {
        server.requests.length = 0;
        server.faults.set({ httpFault: { ...fault, times: 1 } });
        const broken = await client.mintMachineToken(signedRequest()).catch((e: unknown) => e);
        // connect-es's gRPC-web client does not check the response Content-Type; the others refuse it.
        if (!(protocol === "grpc-web" && fault.kind === "wrong-content-type")) {
          expect([fault.kind, broken instanceof ConnectError]).toEqual([fault.kind, true]);
        }
        const ok = await client.mintMachineToken(signedRequest());
        expect(ok.tokenResponse?.tokenType.case).toBe("luciMachineToken");
        expect(server.requests.map((r) => [r.protocol, r.httpFault?.kind, r.outcome.kind])).toEqual([
          [protocol, fault.kind, fault.kind === "proxy-html" ? "proxy-html" : "token"],
          [protocol, undefined, "token"],
        ]);
      }
    });
  }
});

describe("request size limit (maxRequestBytes, default 1 MiB) on every Connect-family protocol", () => {
  // 2 MiB of zeros: over the limit as sent, and, gzipped to ~2 KiB, over it once inflated.
  const huge = create(MintMachineTokenRequestSchema, { serializedTokenRequest: new Uint8Array(2 << 20) });
  const transports = {
    connect: (sendCompression?: typeof compressionGzip) =>
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", sendCompression }),
    "grpc-web": (sendCompression?: typeof compressionGzip) =>
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", sendCompression }),
    grpc: (sendCompression?: typeof compressionGzip) =>
      createGrpcTransport({ baseUrl: server.grpcUrl ?? "", sendCompression }),
  };
  for (const [protocol, transport] of Object.entries(transports)) {
    it(`${protocol}: RESOURCE_EXHAUSTED as sent and once inflated; the server still serves`, async () => {
      for (const compression of [undefined, compressionGzip]) {
        const client = createClient(TokenMinter, transport(compression));
        const err = await client.mintMachineToken(huge).catch((e: unknown) => e);
        expect([compression?.name, err instanceof ConnectError && err.code]).toEqual([
          compression?.name,
          Code.ResourceExhausted,
        ]);
        const ok = await client.mintMachineToken(signedRequest());
        expect(ok.tokenResponse?.tokenType.case).toBe("luciMachineToken");
      }
    });
  }
});

describe("unknown JSON fields over Connect", () => {
  it("are ignored (connect-es's default, as connect-go and LUCI's pRPC server)", async () => {
    const json = JSON.parse(toJsonString(MintMachineTokenRequestSchema, signedRequest()));
    const res = await fetch(`${server.url}/tokenserver.minter.TokenMinter/MintMachineToken`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Connect-Protocol-Version": "1" },
      body: JSON.stringify({ ...json, futureField: 1 }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).tokenResponse.luciMachineToken.machineToken).toBeTruthy();
  });
});
