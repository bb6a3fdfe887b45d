import "reflect-metadata";
import { createPrivateKey, createPublicKey, type KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/** A machine identity made for a test: an RSA key in several PEM forms and its certificate. */
export interface TestIdentity {
  /** PKCS#1 (`RSA PRIVATE KEY`) PEM. */
  pkcs1Pem: string;
  /** PKCS#8 (`PRIVATE KEY`) PEM. */
  pkcs8Pem: string;
  /** The leaf certificate PEM. */
  certPem: string;
  /** The leaf certificate DER. */
  certDer: Uint8Array;
  /** The public key, to verify signatures with. */
  publicKey: KeyObject;
  /** The private key. */
  privateKey: KeyObject;
}

/** A CA and a leaf it issued, plus a self-signed identity. */
export interface TestPki {
  ca: { certPem: string };
  /** Issued by `ca`. */
  leaf: TestIdentity;
  /** Self-signed. */
  selfSigned: TestIdentity;
}

const subtle = webcrypto.subtle;
const RSA: RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const SIGNING = { name: "RSASSA-PKCS1-v1_5" };

async function rsaKeys(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(RSA, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function identity(keys: CryptoKeyPair, cert: x509.X509Certificate): Promise<TestIdentity> {
  const pkcs8Der = Buffer.from(await subtle.exportKey("pkcs8", keys.privateKey));
  const privateKey = createPrivateKey({ key: pkcs8Der, format: "der", type: "pkcs8" });
  return {
    pkcs1Pem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    pkcs8Pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    certPem: cert.toString("pem"),
    certDer: new Uint8Array(cert.rawData),
    publicKey: createPublicKey(privateKey),
    privateKey,
  };
}

const validity = () => ({
  notBefore: new Date(Date.UTC(2020, 0, 1)),
  notAfter: new Date(Date.UTC(2040, 0, 1)),
});

/** Makes a self-signed RSA-2048 machine identity (CN and SAN `test.example.com`). */
export async function makeSelfSignedIdentity(cn = "test.example.com"): Promise<TestIdentity> {
  const keys = await rsaKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: `CN=${cn}`,
    ...validity(),
    signingAlgorithm: SIGNING,
    keys,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "dns", value: cn }])],
  });
  return identity(keys, cert);
}

/** Makes a CA and a machine certificate it issued, both RSA-2048. Slow (~1 s): once per file. */
export async function makeTestPki(): Promise<TestPki> {
  const caKeys = await rsaKeys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "0a",
    name: "CN=Test CA",
    ...validity(),
    signingAlgorithm: SIGNING,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const leafKeys = await rsaKeys();
  const leafCert = await x509.X509CertificateGenerator.create({
    serialNumber: "3039",
    subject: "CN=host.domain",
    issuer: caCert.subject,
    ...validity(),
    signingAlgorithm: SIGNING,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  return {
    ca: { certPem: caCert.toString("pem") },
    leaf: await identity(leafKeys, leafCert),
    selfSigned: await makeSelfSignedIdentity(),
  };
}

/** Makes an EC P-256 key and a self-signed certificate for it (PEM), for "only RSA" tests. */
export async function makeEcIdentity(): Promise<{ keyPem: string; certPem: string }> {
  const keys = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "02",
    name: "CN=ec.example.com",
    ...validity(),
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    keys,
  });
  const der = Buffer.from(await subtle.exportKey("pkcs8", keys.privateKey));
  const key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  return { keyPem: key.export({ type: "sec1", format: "pem" }).toString(), certPem: cert.toString("pem") };
}
