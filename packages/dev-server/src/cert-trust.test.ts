import { beforeAll, describe, expect, it } from "vitest";
import { checkCertTrust } from "./cert-trust.js";
import { parseCertificate } from "./parse-certificate.js";
import { createTestPki, type TestLeaf, type TestPki } from "./test-pki.js";
import { createTrustStore, type TrustStore } from "./trust-store.js";

const now = new Date("2026-06-01T12:00:00Z");
const domains = [{ domains: ["example.com"], lifetimeSeconds: 3600 }];
let pki: TestPki;
let store: TrustStore;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com", now });
  // The revoked serial comes from a real X.509 CRL signed by the CA, not from a serial list.
  store = await createTrustStore({
    cas: [{ certPem: pki.caCertPem, id: 7n, domains }],
    revokedSerials: [],
    crlPems: [pki.crlPem],
  });
});

const verdict = (leaf: TestLeaf, s = store, at = now) =>
  checkCertTrust(parseCertificate(leaf.certDer), s, at);

describe("checkCertTrust (reference §7.2)", () => {
  it("trusts a certificate the CA signed directly, inside its validity", () => {
    expect(verdict(pki.leaf).ca?.id).toBe(7n);
  });

  it("checks validity against the given clock, boundaries included", () => {
    expect(verdict(pki.leaf, store, pki.leaf.notBefore).ca).toBeDefined();
    expect(verdict(pki.leaf, store, pki.leaf.notAfter).ca).toBeDefined();
    expect(verdict(pki.leaf, store, new Date(pki.leaf.notBefore.getTime() - 1000)).reason).toBe(
      "certificate is not valid yet",
    );
    expect(verdict(pki.expired).reason).toBe("certificate has expired");
  });

  it("refuses unknown CAs, impostor CAs, and serials in the CA's CRL", async () => {
    expect(verdict(pki.untrusted).reason).toMatch(/^no such CA ".*\(untrusted\)"$/);
    expect(verdict(await pki.issue({ signedBy: "impostor-ca" })).reason).toMatch(/is not signed by the CA/);
    expect(verdict(pki.revoked).reason).toBe(
      `certificate with SN ${pki.revoked.serial} (hex ${pki.revoked.serial.toString(16)}) has been revoked`,
    );
  });

  it("applies plain revoked serials to every CA", async () => {
    const byList = await createTrustStore({
      cas: [{ certPem: pki.caCertPem, id: 1n, domains }],
      revokedSerials: [pki.leaf.serial],
      crlPems: [],
    });
    expect(verdict(pki.leaf, byList).reason).toMatch(/has been revoked$/);
    expect(verdict(pki.revoked, byList).ca).toBeDefined();
  });

  it("refuses a configured issuer whose certificate is not a CA (Go's parent constraints)", async () => {
    const notCa = await createTestPki({
      fqdn: "bot-1.example.com",
      now,
      caKind: "not-ca",
      caCommonName: "Not A CA",
      caKeyPem: pki.caKeyPem,
      keyPem: pki.keyPem,
    });
    const s = await createTrustStore({
      cas: [{ certPem: notCa.caCertPem, id: 1n, domains }],
      revokedSerials: [],
      crlPems: [],
    });
    expect(verdict(notCa.leaf, s).reason).toBe("the CA certificate is not allowed to sign certificates");
  });
});

describe("createTrustStore", () => {
  it("refuses CRLs that no configured CA signed, and duplicate CA names", async () => {
    const cas = [{ certPem: pki.caCertPem, id: 1n, domains }];
    // Same CA name, another key: the CRL signature does not verify.
    const forged = await createTestPki({ now, caKeyPem: pki.keyPem, keyPem: pki.keyPem });
    await expect(createTrustStore({ cas, revokedSerials: [], crlPems: [forged.crlPem] })).rejects.toThrow(
      /has a bad signature/,
    );
    const stranger = await createTestPki({
      now,
      caCommonName: "Stranger CA",
      caKeyPem: pki.keyPem,
      keyPem: pki.keyPem,
    });
    await expect(createTrustStore({ cas, revokedSerials: [], crlPems: [stranger.crlPem] })).rejects.toThrow(
      /not a configured CA/,
    );
    await expect(
      createTrustStore({ cas: [...cas, ...cas], revokedSerials: [], crlPems: [] }),
    ).rejects.toThrow(/two CA certificates/);
  });
});
