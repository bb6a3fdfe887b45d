import { beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "./parse-certificate.js";
import { createTestPki, type TestPki } from "./test-pki.js";

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

describe("parseCertificate", () => {
  it("reads the version and the serial INTEGER as written", async () => {
    expect(parseCertificate(pki.certDer)).toMatchObject({ version: 3, serial: pki.serial });
    const big = await pki.issue({ serial: 0x80n }); // needs a leading zero byte to stay positive
    expect(parseCertificate(big.certDer).serial).toBe(0x80n);
    expect(parseCertificate((await pki.issue({ serial: 0n })).certDer).serial).toBe(0n);
  });

  it("refuses a negative serial, as Go's x509.ParseCertificate", async () => {
    const negative = await pki.issue({ serial: -300n });
    expect(() => parseCertificate(negative.certDer)).toThrow("x509: negative serial number");
  });

  it("refuses bytes after the certificate, and what is not a certificate", () => {
    const trailing = new Uint8Array([...pki.certDer, 0x00, 0x00]);
    expect(() => parseCertificate(trailing)).toThrow("x509: malformed certificate");
    expect(() => parseCertificate(pki.certDer.slice(0, 100))).toThrow("x509: malformed certificate");
    expect(() => parseCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toThrow(
      "x509: malformed certificate",
    );
  });
});
