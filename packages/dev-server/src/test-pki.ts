import { createPrivateKey, createPublicKey, sign, webcrypto } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { generateRsaKeyPair, type RsaKeyPair, rsaKeyPairFromPem } from "./rsa-keys.js";
import { twosComplementFromBigint } from "./serial.js";
import { x509 } from "./x509.js";

/** Options of {@link createTestPki}. */
export interface TestPkiOptions {
  /** FQDN of the machine: CN and SAN of the default certificate. Default `bot-1.example.com`. */
  fqdn?: string;
  /** Subject CN of the CA (the token server finds the CA by the issuer CN). Default `Dev Server Test CA`. */
  caCommonName?: string;
  /** Anchor of the validity windows (use the dev server's injected clock). Default: the real now. */
  now?: Date;
  /** Reuse this CA key (PKCS#1 or PKCS#8 PEM) instead of generating one. */
  caKeyPem?: string;
  /** Reuse this machine key (PKCS#1 or PKCS#8 PEM) instead of generating one. */
  keyPem?: string;
  /**
   * `not-ca` makes a CA certificate whose basic constraints say CA=false, which the token server
   * must refuse as an issuer. Default `ca`.
   */
  caKind?: "ca" | "not-ca";
}

/** Who signs a certificate made by {@link TestPki.issue}. */
export type TestIssuer =
  /** The trusted CA. */
  | "ca"
  /** Another CA with a different name, unknown to the server. */
  | "untrusted-ca"
  /** A CA with the trusted CA's name but another key, so the CA signature check fails. */
  | "impostor-ca";

/** Options of {@link TestPki.issue}; everything defaults to the PKI's good machine certificate. */
export interface IssueOptions {
  /** Subject CN; default the PKI's fqdn. */
  commonName?: string;
  /** SAN DNS names; default `[commonName]`. Pass `[]` for none. */
  dnsNames?: string[];
  /** Serial number; zero and negative values are written as given. Default: the next free serial. */
  serial?: bigint;
  /** Validity start; default one hour before `now`. */
  notBefore?: Date;
  /** Validity end; default one year after `now`. */
  notAfter?: Date;
  /** Signer; default `ca`. */
  signedBy?: TestIssuer;
  /**
   * Key of the certificate (PEM): RSA, or EC P-256 for a certificate the token server must refuse.
   * Default the PKI's machine key (no key generation).
   */
  keyPem?: string;
}

/** A machine certificate with its key, as files a tokend would be given. */
export interface TestLeaf {
  /** Machine private key: PKCS#1 PEM (`RSA PRIVATE KEY`), or SEC1 (`EC PRIVATE KEY`) for an EC key. */
  keyPem: string;
  /** Machine certificate PEM. */
  certPem: string;
  /** Machine certificate DER. */
  certDer: Uint8Array;
  /** Subject CN. */
  commonName: string;
  /** SAN DNS names. */
  dnsNames: string[];
  /** Serial number. */
  serial: bigint;
  /** Validity start. */
  notBefore: Date;
  /** Validity end. */
  notAfter: Date;
}

/** A CA with a good machine certificate, ready-made bad variants, and a way to issue more. */
export interface TestPki extends TestLeaf {
  /** The FQDN of the good certificate (its CN and SAN). */
  fqdn: string;
  /** CA certificate PEM: give it to the dev server as a trusted CA. */
  caCertPem: string;
  /** CA private key, PKCS#1 PEM. */
  caKeyPem: string;
  /** Subject CN of the CA. */
  caCommonName: string;
  /** CA certificate of a second CA that no server trusts (signs {@link untrusted}). */
  untrustedCaCertPem: string;
  /** The good certificate again, as a {@link TestLeaf}. */
  leaf: TestLeaf;
  /** Expired yesterday. */
  expired: TestLeaf;
  /** Signed by a CA the server does not know. */
  untrusted: TestLeaf;
  /** Serial listed in {@link crlPem} (and usable in `revokedSerials`). */
  revoked: TestLeaf;
  /** CN and SAN without a dot (the first label of the fqdn): not a valid FQDN. */
  dotless: TestLeaf;
  /** An X.509 CRL (PEM) signed by the CA, revoking {@link revoked}. */
  crlPem: string;
  /** Issues another certificate, by default for the machine key (only a signature: fast). */
  issue(options?: IssueOptions): Promise<TestLeaf>;
  /** Makes an X.509 CRL (PEM) signed by the CA listing these serials. */
  createCrl(serials: bigint[]): Promise<string>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const SIGNING_ALGORITHM = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/**
 * Creates a test PKI: a CA, a machine key and certificate for `fqdn`, and expired, untrusted,
 * revoked and dot-less variants. Generates at most two RSA-2048 keys (CA and machine; the
 * untrusted CA reuses the machine key); every further certificate costs one signature.
 */
export async function createTestPki(options: TestPkiOptions = {}): Promise<TestPki> {
  const fqdn = options.fqdn ?? "bot-1.example.com";
  const caCommonName = options.caCommonName ?? "Dev Server Test CA";
  const now = options.now ?? new Date();
  const [caKeys, machineKeys] = await Promise.all([
    options.caKeyPem === undefined ? generateRsaKeyPair() : rsaKeyPairFromPem(options.caKeyPem),
    options.keyPem === undefined ? generateRsaKeyPair() : rsaKeyPairFromPem(options.keyPem),
  ]);
  const untrustedCaName = `${caCommonName} (untrusted)`;
  const [caCert, untrustedCaCert, impostorCaCert] = await Promise.all([
    makeCaCertificate(caCommonName, caKeys, now, options.caKind ?? "ca", "01"),
    makeCaCertificate(untrustedCaName, machineKeys, now, "ca", "02"),
    makeCaCertificate(caCommonName, machineKeys, now, "ca", "03"),
  ]);
  const issuers: Record<TestIssuer, { cert: x509.X509Certificate; keys: RsaKeyPair }> = {
    ca: { cert: caCert, keys: caKeys },
    "untrusted-ca": { cert: untrustedCaCert, keys: machineKeys },
    "impostor-ca": { cert: impostorCaCert, keys: machineKeys },
  };
  const machineKey = { publicKey: machineKeys.cryptoKeys.publicKey, keyPem: machineKeys.pkcs1Pem };
  let nextSerial = 0x1000n;

  const issue = async (o: IssueOptions = {}): Promise<TestLeaf> => {
    const commonName = o.commonName ?? fqdn;
    const dnsNames = o.dnsNames ?? [commonName];
    const serial = o.serial ?? nextSerial++;
    const notBefore = o.notBefore ?? new Date(now.getTime() - HOUR_MS);
    const notAfter = o.notAfter ?? new Date(now.getTime() + 365 * DAY_MS);
    const key = o.keyPem === undefined ? machineKey : await certifiedKey(o.keyPem);
    const issuer = issuers[o.signedBy ?? "ca"];
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ];
    if (dnsNames.length > 0) {
      extensions.push(
        new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: "dns" as const, value }))),
      );
    }
    const cert = await x509.X509CertificateGenerator.create({
      // The generator only writes positive serials; others are patched in below.
      serialNumber: serial > 0n ? serial.toString(16).padStart(2, "0") : "01",
      subject: commonName === "" ? [] : [{ CN: [commonName] }],
      issuer: issuer.cert.subjectName,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey: key.publicKey,
      signingKey: issuer.keys.cryptoKeys.privateKey,
      extensions,
    });
    let certDer = new Uint8Array(cert.rawData);
    if (serial <= 0n) certDer = new Uint8Array(withSerial(certDer, serial, issuer.keys));
    return {
      keyPem: key.keyPem,
      certPem: x509.PemConverter.encode(certDer.slice().buffer, "CERTIFICATE"),
      certDer,
      commonName,
      dnsNames,
      serial,
      notBefore,
      notAfter,
    };
  };

  const createCrl = async (serials: bigint[]): Promise<string> => {
    const crl = await x509.X509CrlGenerator.create({
      issuer: caCert.subjectName,
      thisUpdate: new Date(now.getTime() - HOUR_MS),
      nextUpdate: new Date(now.getTime() + 30 * DAY_MS),
      entries: serials.map((sn) => ({ serialNumber: sn.toString(16).padStart(2, "0") })),
      signingAlgorithm: SIGNING_ALGORITHM,
      signingKey: caKeys.cryptoKeys.privateKey,
    });
    return crl.toString("pem");
  };

  const dotlessName = fqdn.split(".")[0] ?? fqdn;
  const [leaf, expired, untrusted, revoked, dotless] = await Promise.all([
    issue(),
    issue({ notBefore: new Date(now.getTime() - 30 * DAY_MS), notAfter: new Date(now.getTime() - DAY_MS) }),
    issue({ signedBy: "untrusted-ca" }),
    issue(),
    issue({ commonName: dotlessName }),
  ]);
  return {
    ...leaf,
    fqdn,
    caCertPem: caCert.toString("pem"),
    caKeyPem: caKeys.pkcs1Pem,
    caCommonName,
    untrustedCaCertPem: untrustedCaCert.toString("pem"),
    leaf,
    expired,
    untrusted,
    revoked,
    dotless,
    crlPem: await createCrl([revoked.serial]),
    issue,
    createCrl,
  };
}

/** The public key (WebCrypto, for the generator) and private key PEM of a key to certify. */
async function certifiedKey(pem: string): Promise<{ publicKey: CryptoKey; keyPem: string }> {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ec") {
    const rsa = await rsaKeyPairFromPem(pem);
    return { publicKey: rsa.cryptoKeys.publicKey, keyPem: rsa.pkcs1Pem };
  }
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const publicKey = await webcrypto.subtle.importKey(
    "spki",
    spki,
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["verify"],
  );
  return { publicKey, keyPem: privateKey.export({ type: "sec1", format: "pem" }).toString() };
}

async function makeCaCertificate(
  commonName: string,
  keys: RsaKeyPair,
  now: Date,
  kind: "ca" | "not-ca",
  serialNumber: string,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber,
    name: [{ CN: [commonName] }],
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 10 * 365 * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys: keys.cryptoKeys,
    extensions: [
      new x509.BasicConstraintsExtension(kind === "ca", kind === "ca" ? 0 : undefined, true),
      new x509.KeyUsagesExtension(
        kind === "ca"
          ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
          : x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.cryptoKeys.publicKey),
    ],
  });
}

/** Rewrites the serial INTEGER of a certificate and signs it again (sha256WithRSAEncryption, as the original). */
function withSerial(certDer: Uint8Array, serial: bigint, signer: RsaKeyPair): Uint8Array {
  const cert = AsnConvert.parse(certDer, Certificate);
  cert.tbsCertificate.serialNumber = twosComplementFromBigint(serial).slice().buffer;
  cert.tbsCertificateRaw = undefined; // or the serializer writes the original bytes back
  const tbs = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate));
  cert.signatureValue = new Uint8Array(sign("sha256", tbs, signer.privateKey)).buffer;
  return new Uint8Array(AsnConvert.serialize(cert));
}
