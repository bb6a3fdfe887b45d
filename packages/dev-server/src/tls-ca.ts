import { createPrivateKey, webcrypto } from "node:crypto";
import { x509 } from "./x509.js";

/** A server certificate and its private key, both PEM. */
export interface TlsServerIdentity {
  certPem: string;
  keyPem: string;
}

/** A certificate authority that issues TLS server certificates (EC P-256: fast to make). */
export interface TlsCa {
  /** Its certificate: what clients trust (e.g. in SSL_CERT_FILE). */
  certPem: string;
  /** Issues a server certificate with these SAN DNS names and IPs (CN = the first name). */
  issue(names: { dns?: string[]; ip?: string[] }): Promise<TlsServerIdentity>;
  /** Makes a CA (`CN=<name>`) whose certificate this one issues (a chain through an intermediate). */
  intermediate(name: string): Promise<TlsCa>;
}

const subtle = webcrypto.subtle;
const EC = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING = { name: "ECDSA", hash: "SHA-256" };
/** Fixed, wide validity: a test or demo certificate never expires under a test. */
const validity = () => ({
  notBefore: new Date(Date.UTC(2020, 0, 1)),
  notAfter: new Date(Date.UTC(2040, 0, 1)),
});

async function ecKeys(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey("pkcs8", key));
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" })
    .export({ type: "pkcs8", format: "pem" })
    .toString();
}

let serial = 0x100;

/**
 * Makes a CA (`CN=<name>`) that issues TLS server certificates, for the stand-ins that speak TLS
 * (ProdX, the OAuth token endpoint) in tests and the demo.
 */
export function createTlsCa(name = "Tokend Test TLS CA"): Promise<TlsCa> {
  return makeCa(name);
}

async function makeCa(
  name: string,
  parent?: { cert: InstanceType<typeof x509.X509Certificate>; keys: CryptoKeyPair },
): Promise<TlsCa> {
  const caKeys = await ecKeys();
  const extensions = [
    new x509.BasicConstraintsExtension(true, parent ? 0 : 1, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
  ];
  const caCert = parent
    ? await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16),
        subject: `CN=${name}`,
        issuer: parent.cert.subject,
        ...validity(),
        signingAlgorithm: SIGNING,
        publicKey: caKeys.publicKey,
        signingKey: parent.keys.privateKey,
        extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(parent.keys.publicKey)],
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: (serial++).toString(16),
        name: `CN=${name}`,
        ...validity(),
        signingAlgorithm: SIGNING,
        keys: caKeys,
        extensions,
      });
  return {
    intermediate: (child) => makeCa(child, { cert: caCert, keys: caKeys }),
    certPem: caCert.toString("pem"),
    async issue({ dns = [], ip = [] }) {
      const keys = await ecKeys();
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16),
        subject: `CN=${dns[0] ?? ip[0] ?? "server"}`,
        issuer: caCert.subject,
        ...validity(),
        signingAlgorithm: SIGNING,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension([
            ...dns.map((value) => ({ type: "dns" as const, value })),
            ...ip.map((value) => ({ type: "ip" as const, value })),
          ]),
          await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        ],
      });
      return { certPem: cert.toString("pem"), keyPem: await keyPem(keys.privateKey) };
    },
  };
}
