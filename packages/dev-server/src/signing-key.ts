import { createHash, type KeyObject, sign, X509Certificate } from "node:crypto";
import { generateRsaKeyPair, rsaKeyPairFromPem } from "./rsa-keys.js";
import { x509 } from "./x509.js";

/** The token server's own key: it signs machine tokens, and its certificate is published. */
export interface SigningKey {
  /** `key_id` in token envelopes and `key_name` in the published certificates. */
  keyId: string;
  /** PEM of the certificate whose public key verifies the tokens. */
  certificatePem: string;
  /** The private key, PKCS#1 PEM (so a demo can keep one key across restarts). */
  keyPem: string;
  /** RSASSA-PKCS1-v1_5 SHA-256 signature, computed on the thread pool (the event loop keeps serving). */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Options of {@link createSigningKey}. */
export interface SigningKeyOptions {
  /** RSA private key PEM; generated when absent. */
  keyPem?: string;
  /** Certificate of that key; a self-signed one is made when absent. */
  certificatePem?: string;
  /** Subject CN of a generated certificate (the service account email). */
  serviceAccount: string;
  /** Validity anchor of a generated certificate. */
  now: Date;
}

const DAY_MS = 24 * 3_600_000;

/**
 * Loads or creates the signing key. The key id is the SHA-1 of the public key (40 hex chars, the
 * shape of a Google service-account key id).
 */
export async function createSigningKey(options: SigningKeyOptions): Promise<SigningKey> {
  const keys =
    options.keyPem === undefined ? await generateRsaKeyPair() : await rsaKeyPairFromPem(options.keyPem);
  let certificatePem = options.certificatePem;
  if (certificatePem === undefined) {
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: [{ CN: [options.serviceAccount] }],
      notBefore: new Date(options.now.getTime() - DAY_MS),
      notAfter: new Date(options.now.getTime() + 10 * 365 * DAY_MS),
      signingAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      keys: keys.cryptoKeys,
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    });
    certificatePem = cert.toString("pem");
  } else if (!samePublicKey(new X509Certificate(certificatePem).publicKey, keys.publicKey)) {
    throw new Error("the signing certificate does not match the signing key");
  }
  const spki = keys.publicKey.export({ type: "spki", format: "der" });
  const privateKey = keys.privateKey;
  return {
    keyId: createHash("sha1").update(spki).digest("hex"),
    certificatePem,
    keyPem: keys.pkcs1Pem,
    sign: (data) =>
      new Promise((resolve, reject) =>
        sign("sha256", data, privateKey, (err, signature) =>
          err ? reject(err) : resolve(new Uint8Array(signature)),
        ),
      ),
  };
}

function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: "spki", format: "der" }).equals(b.export({ type: "spki", format: "der" }));
}
