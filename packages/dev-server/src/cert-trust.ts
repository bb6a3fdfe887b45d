import { commonName, type ParsedCertificate } from "./parse-certificate.js";
import { quote } from "./quote.js";
import type { TrustedCa, TrustStore } from "./trust-store.js";
import { x509 } from "./x509.js";

/**
 * The trust verdict: the vouching CA, or why the certificate is refused, in LUCI certchecker's
 * words where it has them (kept for the request log; the client sees only the generic answer).
 */
export type TrustResult = { ca: TrustedCa; reason?: undefined } | { ca?: undefined; reason: string };

// Go's CheckSignatureFrom refuses these as insecure.
const INSECURE_HASHES = new Set(["MD5", "SHA-1"]);

/**
 * Checks a machine certificate like LUCI's certchecker (luci-go certchecker.go), in its order: the
 * CA by issuer CN, the validity period, a direct signature by that CA (with Go's parent
 * constraints), then revocation. The client only ever sees the generic UNTRUSTED_CERTIFICATE
 * answer.
 */
export function checkCertTrust(leaf: ParsedCertificate, store: TrustStore, now: Date): TrustResult {
  const issuerCn = commonName(leaf.cert.issuerName);
  const ca = store.byCommonName.get(issuerCn);
  if (!ca) return { reason: `no such CA ${quote(issuerCn)}` };
  const t = now.getTime();
  if (t < leaf.cert.notBefore.getTime()) return { reason: "certificate is not valid yet" };
  if (t > leaf.cert.notAfter.getTime()) return { reason: "certificate has expired" };
  const constraint = parentConstraintViolation(ca.certificate);
  if (constraint) return { reason: constraint };
  const hash = leaf.cert.signatureAlgorithm.hash?.name;
  if (hash === undefined || INSECURE_HASHES.has(hash)) {
    return { reason: `certificate is signed with an insecure algorithm (${hash ?? "unknown hash"})` };
  }
  let signedByCa = false;
  try {
    signedByCa = leaf.node.verify(ca.certificate.node.publicKey);
  } catch {
    signedByCa = false;
  }
  if (!signedByCa) return { reason: `certificate is not signed by the CA ${quote(ca.commonName)}` };
  if (ca.revoked.has(leaf.serial) || store.revokedAnyCa.has(leaf.serial)) {
    return {
      reason: `certificate with SN ${leaf.serial} (hex ${leaf.serial.toString(16)}) has been revoked`,
    };
  }
  return { ca };
}

/** Go's x509 parent checks: a v3 issuer needs CA=true basic constraints; key usage must allow certSign. */
function parentConstraintViolation(ca: ParsedCertificate): string | undefined {
  const bc = ca.cert.getExtension(x509.BasicConstraintsExtension);
  if ((ca.version === 3 && !bc) || (bc && !bc.ca))
    return "the CA certificate is not allowed to sign certificates";
  const ku = ca.cert.getExtension(x509.KeyUsagesExtension);
  if (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign)) {
    return "the CA certificate's key usage does not allow signing certificates";
  }
  return undefined;
}
