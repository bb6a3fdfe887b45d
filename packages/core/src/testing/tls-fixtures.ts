import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

// The TLS CA lives in the dev server (the demo's stand-ins use it too); tests know it by this name.
export {
  createTlsCa as makeTlsCa,
  type TlsCa,
  type TlsServerIdentity,
} from "@luci-machine-tokend/dev-server";

const subtle = webcrypto.subtle;
const SIGNING = { name: "ECDSA", hash: "SHA-256" };
let serial = 0x8000;

/** Makes a certificate with an arbitrary subject and SANs (for name-parsing tests), PEM. */
export async function makeNamedCertificate(
  subject: string,
  altNames: Array<{ type: "dns" | "ip" | "email"; value: string }>,
): Promise<string> {
  const keys = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16),
    name: subject,
    notBefore: new Date(Date.UTC(2020, 0, 1)),
    notAfter: new Date(Date.UTC(2040, 0, 1)),
    signingAlgorithm: SIGNING,
    keys,
    extensions: altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames)] : [],
  });
  return cert.toString("pem");
}
