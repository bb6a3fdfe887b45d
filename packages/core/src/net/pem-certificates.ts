/** One certificate of a PEM file: its block's text (as node:tls takes it) and its DER bytes. */
export interface PemCertificate {
  pem: string;
  der: Buffer;
}

const BEGIN = "-----BEGIN CERTIFICATE-----";
const END = "-----END CERTIFICATE-----";
/** A block body that is base64 alone: no RFC 1421 headers (`Proc-Type: …`), no stray text. */
const BASE64_BODY = /^[A-Za-z0-9+/\s]*(?:=\s*){0,2}$/;

/**
 * The certificates Go's CertPool.AppendCertsFromPEM takes from a file, in order, one at a time:
 * `CERTIFICATE` blocks without PEM headers whose body is base64. Other blocks (`TRUSTED
 * CERTIFICATE`, keys) and text around them are skipped, as Go skips them. One pass of
 * `indexOf` over the text (a regular expression finding whole blocks took 4 times longer).
 */
export function* pemCertificates(bytes: Uint8Array): Generator<PemCertificate, void, undefined> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  let from = 0;
  for (;;) {
    const begin = text.indexOf(BEGIN, from);
    if (begin < 0) return;
    let bodyStart = begin + BEGIN.length;
    if (text.charCodeAt(bodyStart) === 0x0d) bodyStart++;
    if (text.charCodeAt(bodyStart) !== 0x0a) {
      from = begin + BEGIN.length; // not a BEGIN line
      continue;
    }
    const end = text.indexOf(END, bodyStart);
    if (end < 0) return;
    from = end + END.length;
    const body = text.slice(bodyStart + 1, end);
    if (!BASE64_BODY.test(body)) continue;
    const der = Buffer.from(body, "base64");
    if (der.length > 0) yield { pem: text.slice(begin, from), der };
  }
}

/** Whether the file holds at least one certificate {@link pemCertificates} would take. */
export function hasPemCertificate(bytes: Uint8Array): boolean {
  return !pemCertificates(bytes).next().done;
}
