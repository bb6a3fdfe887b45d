import { generateKeyPairSync, randomBytes } from "node:crypto";
import { ErrorCode } from "@luci-machine-tokend/core/gen";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestPki, type TestLeaf, type TestPki } from "./test-pki.js";
import {
  certificateWithRsaKey,
  machineModulus,
  positiveIntegerBytes,
  rsaPublicKeyDer,
} from "./testing/rsa-key-certificate.js";
import { signedMintRequest } from "./testing/signed-request.js";
import { DEFAULT_VALIDATION_STEPS, type ValidationSteps, validateMintRequest } from "./validate-request.js";

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

describe("validateMintRequest: a key Go refuses costs no RSA arithmetic", () => {
  /** Validates with a verifier that counts its calls: the evidence of what was computed. */
  const validate = (leaf: TestLeaf, options: { signature?: Uint8Array } = {}) => {
    let verifications = 0;
    const steps: ValidationSteps = {
      ...DEFAULT_VALIDATION_STEPS,
      verifySignature: (...args) => {
        verifications++;
        return DEFAULT_VALIDATION_STEPS.verifySignature(...args);
      },
    };
    const request = signedBy(leaf);
    if (options.signature) request.signature = options.signature;
    const result = validateMintRequest(request, now, steps);
    return { ...result, verifications };
  };
  const withExponent = (e: Uint8Array) => certificateWithRsaKey(pki, rsaPublicKeyDer(machineModulus(pki), e));
  const exponent = (e: bigint) => withExponent(positiveIntegerBytes(e));
  const badSignature = (detail: string) => ({
    kind: "error-code",
    errorCode: ErrorCode.BAD_SIGNATURE,
    message: `signature verification failed - ${detail}`,
  });
  const badFormat = (detail: string) => ({
    kind: "error-code",
    errorCode: ErrorCode.BAD_CERTIFICATE_FORMAT,
    message: "failed to parse the certificate (expecting x509 cert DER)",
    detail,
  });

  it("a 3,071-bit exponent is refused when the certificate is parsed, as Go's x509 parser does", () => {
    // Go reads the exponent into an int: more than 8 bytes fails ParseCertificate (checked
    // against the Go binary in rsa-public-key.test.ts).
    expect(validate(exponent((1n << 3070n) + 1n))).toMatchObject({
      ...badFormat("x509: invalid RSA public exponent"),
      verifications: 0,
    });
  });

  it("what parses but crypto/rsa refuses is refused with Go's words, before verifying", () => {
    const cases: Array<[TestLeaf, string]> = [
      [exponent(2n ** 31n + 1n), "crypto/rsa: public exponent too large"],
      [exponent(2n ** 63n - 1n), "crypto/rsa: public exponent too large"],
      [exponent(65538n), "crypto/rsa: public exponent is even"],
      [exponent(1n), "crypto/rsa: public exponent too small or negative"],
    ];
    const evenModulus = machineModulus(pki);
    evenModulus[evenModulus.length - 1] = (evenModulus[evenModulus.length - 1] ?? 0) & 0xfe;
    cases.push([
      certificateWithRsaKey(pki, rsaPublicKeyDer(evenModulus, positiveIntegerBytes(65537n))),
      "crypto/rsa: public modulus is even",
    ]);
    for (const [leaf, detail] of cases) {
      expect([detail, validate(leaf)]).toEqual([
        detail,
        expect.objectContaining({ ...badSignature(detail), verifications: 0 }),
      ]);
    }
  });

  it("a signature that is not the modulus's length fails without computing, as Go's", () => {
    expect(validate(pki.leaf, { signature: randomBytes(255) })).toMatchObject({
      ...badSignature("crypto/rsa: verification error"),
      verifications: 0,
    });
  });

  it("the largest exponent Go allows, and the usual one, are verified (once)", () => {
    expect(validate(exponent(2n ** 31n - 1n))).toMatchObject({
      ...badSignature("crypto/rsa: verification error"), // the machine key's signature, another exponent
      verifications: 1,
    });
    expect(validate(pki.leaf)).toMatchObject({ kind: "valid", verifications: 1 });
  });

  it("what Go's parser refuses in an RSA key is BAD_CERTIFICATE_FORMAT with its words", () => {
    const n = machineModulus(pki);
    const cases: Array<[TestLeaf, string]> = [
      [withExponent(new Uint8Array([0])), "x509: RSA public exponent is not a positive number"],
      [withExponent(new Uint8Array([0xfd])), "x509: RSA public exponent is not a positive number"],
      [withExponent(new Uint8Array([0, 1, 0, 1])), "x509: invalid RSA public exponent"], // not minimal
      [
        certificateWithRsaKey(pki, rsaPublicKeyDer(n.subarray(1), positiveIntegerBytes(65537n))),
        "x509: RSA modulus is not a positive number",
      ],
      [
        certificateWithRsaKey(pki, rsaPublicKeyDer(n, positiveIntegerBytes(65537n)), "absent"),
        "x509: RSA key missing NULL parameters",
      ],
    ];
    for (const [leaf, detail] of cases) {
      expect([detail, validate(leaf)]).toEqual([
        detail,
        expect.objectContaining({ ...badFormat(detail), verifications: 0 }),
      ]);
    }
  });
});
