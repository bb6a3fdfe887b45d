/** A certificate's issuer and subject as their DER bytes (Go's RawIssuer and RawSubject). */
export interface CertificateNames {
  issuer: Buffer;
  subject: Buffer;
}

const SEQUENCE = 0x30;
const VERSION = 0xa0; // [0] EXPLICIT

/**
 * The issuer and subject names of a DER certificate, found by walking its outer structure
 * (RFC 5280: Certificate → TBSCertificate → version?, serial, signature, issuer, validity,
 * subject); undefined when that structure does not parse. Nothing else is decoded: trust roots
 * are matched to a server's chain by these bytes, as Go's CertPool does, and OpenSSL decodes
 * each certificate it is handed (about 0.3 ms each, spent only on the roots a chain needs).
 * Hand-written: node:crypto's X509Certificate costs that same OpenSSL decode, and an ASN.1
 * package ten times this module to load.
 */
export function certificateNames(der: Uint8Array): CertificateNames | undefined {
  const cert = element(der, 0, der.length);
  if (cert?.tag !== SEQUENCE) return undefined;
  const tbs = element(der, cert.body, cert.end);
  if (tbs?.tag !== SEQUENCE) return undefined;
  let at = tbs.body;
  const next = () => {
    const e = element(der, at, tbs.end);
    if (e) at = e.end;
    return e;
  };
  let field = next();
  if (field?.tag === VERSION) field = next();
  const signature = field && next(); // after the serial number
  const issuer = signature && next();
  const validity = issuer && next();
  const subject = validity && next();
  if (issuer?.tag !== SEQUENCE || subject?.tag !== SEQUENCE) return undefined;
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  return {
    issuer: bytes.subarray(issuer.start, issuer.end),
    subject: bytes.subarray(subject.start, subject.end),
  };
}

/** One DER element within [at, limit): its tag, where its body starts, and where it ends. */
function element(
  der: Uint8Array,
  at: number,
  limit: number,
): { tag: number; start: number; body: number; end: number } | undefined {
  if (at + 2 > limit) return undefined;
  const tag = der[at] as number;
  if ((tag & 0x1f) === 0x1f) return undefined; // multi-byte tags: none in these fields
  let length = der[at + 1] as number;
  let body = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || body + count > limit) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[body + i] as number);
    body += count;
  }
  const end = body + length;
  return end <= limit ? { tag, start: at, body, end } : undefined;
}
