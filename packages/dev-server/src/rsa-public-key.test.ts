import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "./parse-certificate.js";
import { createTestPki, type TestLeaf, type TestPki } from "./test-pki.js";
import {
  certificateWithRsaKey,
  machineModulus,
  positiveIntegerBytes,
  rsaPublicKeyDer,
} from "./testing/rsa-key-certificate.js";

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

/** Certificates whose RSA key Go's x509 parser accepts or refuses, with what ours says of each. */
function keyCases(): Array<{ name: string; leaf: TestLeaf; ours: string }> {
  const n = machineModulus(pki);
  const e = (value: bigint) => positiveIntegerBytes(value);
  const cases: Array<[string, Uint8Array, Uint8Array, "null" | "absent", string]> = [
    ["the usual exponent", n, e(65537n), "null", "parsed"],
    ["a 3,071-bit exponent", n, e((1n << 3070n) + 1n), "null", "x509: invalid RSA public exponent"],
    ["an exponent of 9 bytes", n, e(2n ** 63n + 1n), "null", "x509: invalid RSA public exponent"],
    ["the largest exponent Go's int holds", n, e(2n ** 63n - 1n), "null", "parsed"],
    ["exponent 1", n, e(1n), "null", "parsed"],
    ["exponent 0", n, new Uint8Array([0]), "null", "x509: RSA public exponent is not a positive number"],
    [
      "a negative exponent",
      n,
      new Uint8Array([0xfd]),
      "null",
      "x509: RSA public exponent is not a positive number",
    ],
    [
      "an exponent not minimally encoded",
      n,
      new Uint8Array([0, 1, 0, 1]),
      "null",
      "x509: invalid RSA public exponent",
    ],
    ["a negative modulus", n.subarray(1), e(65537n), "null", "x509: RSA modulus is not a positive number"],
    ["no NULL parameters", n, e(65537n), "absent", "x509: RSA key missing NULL parameters"],
  ];
  return cases.map(([name, modulus, exponent, parameters, ours]) => ({
    name,
    leaf: certificateWithRsaKey(pki, rsaPublicKeyDer(modulus, exponent), parameters),
    ours,
  }));
}

const oursOf = (leaf: TestLeaf) => {
  try {
    parseCertificate(leaf.certDer);
    return "parsed";
  } catch (err) {
    return (err as Error).message;
  }
};

describe("parseCertificate: the RSA key, read as Go's x509.ParseCertificate reads it", () => {
  it("refuses what Go's parser refuses, in its words, and reads the numbers of the rest", () => {
    for (const { name, leaf, ours } of keyCases()) expect([name, oursOf(leaf)]).toEqual([name, ours]);
    expect(parseCertificate(pki.leaf.certDer).rsa).toEqual({
      modulusBits: 2048,
      modulusOdd: true,
      exponent: 65537n,
    });
  });
});

// The Go tokend parses its certificate with x509.ParseCertificate (Go 1.26 in the reference
// binary) and prints the parser's error: the same certificates, judged by Go itself.
const GO_TOKEND = process.env.LUCI_GO_TOKEND || undefined;

describe.skipIf(GO_TOKEND === undefined)("the same certificates given to the Go luci_machine_tokend", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rsa-key-go-"));
    await writeFile(join(dir, "key.pem"), pki.keyPem, { mode: 0o600 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("Go's parser refuses exactly these, with these words", async () => {
    for (const { name, leaf, ours } of keyCases()) {
      await writeFile(join(dir, "cert.pem"), leaf.certPem);
      const run = spawnSync(
        GO_TOKEND ?? "",
        [
          ...["-backend", "127.0.0.1:1", "-timeout", "1s"],
          ...["-cert-pem", join(dir, "cert.pem"), "-pkey-pem", join(dir, "key.pem")],
          ...["-token-file", join(dir, "token.json"), "-status-file", join(dir, "status.json")],
          ...["-ts-mon-config-file", join(dir, "none.json")],
        ],
        { encoding: "utf8" },
      );
      const refused = /Failed to initialize the client - (x509: .*)$/m.exec(run.stderr)?.[1];
      // Past the parser, Go compares the key with the private key (or, for the usual one, calls the server).
      expect([name, refused ?? "parsed"]).toEqual([name, ours]);
    }
  });
});
