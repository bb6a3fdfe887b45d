import "reflect-metadata";
import { createPrivateKey, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

const ALG = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

/** A CA and an HTTPS server certificate (serverAuth) for `dnsName` and `ipAddresses`, for TLS tests. */
export async function createTlsServerCert(
  dnsName: string,
  ipAddresses: string[] = [],
): Promise<{ caPem: string; keyPem: string; certPem: string }> {
  const subtle = webcrypto.subtle;
  const [caKeys, keys] = (await Promise.all([
    subtle.generateKey(ALG, true, ["sign", "verify"]),
    subtle.generateKey(ALG, true, ["sign", "verify"]),
  ])) as [CryptoKeyPair, CryptoKeyPair];
  const notBefore = new Date(Date.now() - 3_600_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=TLS Test CA",
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: "02",
    subject: `CN=${dnsName}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: dnsName },
        ...ipAddresses.map((value) => ({ type: "ip" as const, value })),
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })
    .export({ type: "pkcs8", format: "pem" })
    .toString();
  return { caPem: ca.toString("pem"), keyPem, certPem: leaf.toString("pem") };
}
