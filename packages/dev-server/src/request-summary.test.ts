import { createHash } from "node:crypto";
import { createTokenMinterClient } from "@luci-machine-tokend/core";
import { MachineTokenType, SignatureAlgorithm } from "@luci-machine-tokend/core/gen";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_LOGGED_TEXT } from "./request-log.js";
import type { DevServer } from "./start-dev-server.js";
import { createTestPki, type TestPki } from "./test-pki.js";
import { signedMintRequest } from "./testing/signed-request.js";
import { startTrustingServer } from "./testing/start-trusting-server.js";

/** The request log keeps a small, bounded record per call, never the decoded message. */

let pki: TestPki;
let server: DevServer;
const now = new Date(Math.floor(Date.now() / 1000) * 1000);

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-5.example.com", now });
  server = await startTrustingServer(pki, { grpcPort: false });
});
afterAll(() => server.close());

describe("request log entries", () => {
  it("summarize the request: sizes, inner fields and the certificate's SHA-256", async () => {
    server.requests.length = 0;
    const request = signedMintRequest(pki, { now });
    await createTokenMinterClient(server.backend).mintMachineToken(request);
    const [entry] = server.requests;
    expect(entry && Object.keys(entry).sort()).toEqual(
      ["format", "httpVersion", "latencyMs", "outcome", "protocol", "receivedAt", "summary"].sort(),
    );
    expect(entry?.summary).toEqual({
      serializedTokenRequestBytes: request.serializedTokenRequest.length,
      signatureBytes: 256,
      tokenType: MachineTokenType.LUCI_MACHINE_TOKEN,
      signatureAlgorithm: SignatureAlgorithm.SHA256_RSA_ALGO,
      issuedAt: now,
      certificateBytes: pki.certDer.length,
      certificateSha256: createHash("sha256").update(pki.certDer).digest("hex"),
    });
  });

  it("cut texts that quote client input (here a 3,000-character CA name)", async () => {
    server.requests.length = 0;
    const longCn = await createTestPki({
      caCommonName: "x".repeat(3_000),
      caKeyPem: pki.caKeyPem,
      keyPem: pki.keyPem,
      now,
    });
    const answer = await createTokenMinterClient(server.backend).mintMachineToken(
      signedMintRequest(longCn.leaf, { now }),
    );
    expect(answer.errorMessage).toBe("invalid or untrusted certificate");
    const outcome = server.requests[0]?.outcome;
    const detail = outcome?.kind === "error-code" ? (outcome.detail ?? "") : "";
    expect(detail).toMatch(/^no such CA "x+\.\.\. \(\d+ more\)$/);
    expect(detail.length).toBeLessThan(MAX_LOGGED_TEXT + 20);
  });
});
