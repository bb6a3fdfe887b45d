import { generateKeyPairSync } from "node:crypto";
import { ErrorCode } from "@luci-machine-tokend/core/gen";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestPki, type TestLeaf, type TestPki } from "./test-pki.js";
import { signedMintRequest } from "./testing/signed-request.js";
import { validateMintRequest } from "./validate-request.js";

let pki: TestPki;
const now = new Date();

beforeAll(async () => {
  pki = await createTestPki({ now });
});

const signedBy = (leaf: TestLeaf) => signedMintRequest(leaf, { now });

describe("validateMintRequest: what Go's x509 and crypto/rsa refuse", () => {
  it("accepts the good certificate (the baseline of the cases below)", () => {
    expect(validateMintRequest(signedBy(pki.leaf), now).kind).toBe("valid");
  });

  it("a negative serial is BAD_CERTIFICATE_FORMAT, as Go's x509.ParseCertificate refuses it", async () => {
    const negative = await pki.issue({ serial: -5n });
    expect(validateMintRequest(signedBy(negative), now)).toMatchObject({
      kind: "error-code",
      errorCode: ErrorCode.BAD_CERTIFICATE_FORMAT,
      message: "failed to parse the certificate (expecting x509 cert DER)",
      detail: "x509: negative serial number",
    });
    // Zero still parses (LUCI refuses it later, as a token argument).
    expect(validateMintRequest(signedBy(await pki.issue({ serial: 0n })), now).kind).toBe("valid");
  });

  it("an RSA key under 1024 bits is BAD_SIGNATURE even with a good signature (Go >= 1.24)", async () => {
    const small = generateKeyPairSync("rsa", { modulusLength: 1016 }).privateKey;
    const leaf = await pki.issue({ keyPem: small.export({ type: "pkcs1", format: "pem" }).toString() });
    expect(validateMintRequest(signedBy(leaf), now)).toMatchObject({
      kind: "error-code",
      errorCode: ErrorCode.BAD_SIGNATURE,
      message:
        "signature verification failed - crypto/rsa: 1016-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)",
    });
    const exactly1024 = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
    const ok = await pki.issue({ keyPem: exactly1024.export({ type: "pkcs1", format: "pem" }).toString() });
    expect(validateMintRequest(signedBy(ok), now).kind).toBe("valid");
  });
});
