import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate,
} from "node:crypto";
import { createTestPki, type TestLeaf } from "@luci-machine-tokend/dev-server";

/** A machine identity made for a test: an RSA key in several PEM forms and its certificate. */
export interface TestIdentity {
  /** PKCS#1 (`RSA PRIVATE KEY`) PEM. */
  pkcs1Pem: string;
  /** PKCS#8 (`PRIVATE KEY`) PEM. */
  pkcs8Pem: string;
  /** The certificate PEM. */
  certPem: string;
  /** The certificate DER. */
  certDer: Uint8Array;
  /** The public key, to verify signatures with. */
  publicKey: KeyObject;
  /** The private key. */
  privateKey: KeyObject;
}

/** The project's test PKI (the dev server's createTestPki), in the forms core's tests use. */
export interface TestPki {
  /** The CA (`CN=Test CA`), self-signed. */
  ca: { certPem: string };
  /** Issued by `ca` for `host.domain`. */
  leaf: TestIdentity;
  /** Another key, with a certificate for `test.example.com` issued by `ca` (not a CA itself). */
  other: TestIdentity;
  /** An EC P-256 key (SEC1 PEM) and its certificate, for "only RSA" tests. */
  ec: { keyPem: string; certPem: string };
}

let shared: Promise<TestPki> | undefined;

/** The test PKI, made once per test file (two RSA-2048 keys, about half a second). */
export function makeTestPki(): Promise<TestPki> {
  shared ??= build();
  return shared;
}

async function build(): Promise<TestPki> {
  const pki = await createTestPki({ fqdn: "host.domain", caCommonName: "Test CA" });
  const ecKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const [other, ec] = await Promise.all([
    pki.issue({ keyPem: pki.caKeyPem, commonName: "test.example.com" }),
    pki.issue({
      keyPem: ecKey.export({ type: "sec1", format: "pem" }).toString(),
      commonName: "ec.example.com",
    }),
  ]);
  return {
    ca: { certPem: pki.caCertPem },
    leaf: identity(pki.leaf),
    other: identity(other),
    ec: { keyPem: ec.keyPem, certPem: ec.certPem },
  };
}

function identity(leaf: TestLeaf): TestIdentity {
  const privateKey = createPrivateKey(leaf.keyPem);
  return {
    pkcs1Pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    pkcs8Pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    certPem: leaf.certPem,
    certDer: new Uint8Array(new X509Certificate(leaf.certPem).raw),
    publicKey: createPublicKey(privateKey),
    privateKey,
  };
}
