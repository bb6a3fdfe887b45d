import { sign } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import {
  createTokenMinterClient,
  MachineTokenRequestSchema,
  MachineTokenType,
  MintMachineTokenRequestSchema,
  SignatureAlgorithm,
} from "@luci-machine-tokend/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpFault } from "./faults.js";
import { type DevServer, startDevServer } from "./start-dev-server.js";
import { createTestPki, type TestPki } from "./test-pki.js";

/**
 * Faults are protocol-independent: Connect and gRPC-web (HTTP/1.1) and gRPC (HTTP/2) calls break
 * too, and only the faulted call does. One attempt per call: retry policy is the client's business.
 */

let pki: TestPki;
let server: DevServer;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-2.example.com" });
  server = await startDevServer({
    caCertificates: [pki.caCertPem],
    domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
    signingKeyPem: pki.caKeyPem,
  });
});
afterAll(() => server.close());

function signedRequest() {
  const serializedTokenRequest = toBinary(
    MachineTokenRequestSchema,
    create(MachineTokenRequestSchema, {
      certificate: pki.certDer,
      signatureAlgorithm: SignatureAlgorithm.SHA256_RSA_ALGO,
      issuedAt: timestampNow(),
      tokenType: MachineTokenType.LUCI_MACHINE_TOKEN,
    }),
  );
  const signature = new Uint8Array(sign("sha256", serializedTokenRequest, pki.keyPem));
  return create(MintMachineTokenRequestSchema, { serializedTokenRequest, signature });
}

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
