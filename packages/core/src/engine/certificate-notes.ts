import type { X509Certificate } from "node:crypto";

/**
 * Log lines about the machine certificate that the token server's answer alone does not give:
 * a run sends the certificate whatever its dates (as Go does: the server decides), and the
 * server says only UNTRUSTED_CERTIFICATE, deliberately generic.
 */

/** A warning for a certificate outside its validity at `now` (said before the RPC), or undefined. */
export function certificateValidityWarning(
  certificate: X509Certificate,
  certPath: string,
  now: Date,
): string | undefined {
  const { from, to } = validity(certificate);
  const valid = `valid ${from.toISOString()} to ${to.toISOString()}`;
  if (now > to) {
    return `The certificate ${certPath} expired at ${to.toISOString()} (${valid}); sending it anyway, the token server will refuse it: have the fleet CA issue a new one`;
  }
  if (now < from) {
    return `The certificate ${certPath} is not valid before ${from.toISOString()} (${valid}) and this machine's clock says ${now.toISOString()}; sending it anyway: check the clock (NTP)`;
  }
  return undefined;
}

/** What to know after the server answered UNTRUSTED_CERTIFICATE: who issued the certificate, and when it is valid. */
export function untrustedCertificateNote(certificate: X509Certificate, certPath: string, now: Date): string {
  const { from, to } = validity(certificate);
  const state = now > to ? "expired" : now < from ? "not valid yet" : "valid now";
  const issuer = JSON.stringify(certificate.issuer.replace(/\n/g, ", "));
  return `The token server does not trust the certificate ${certPath}: issued by ${issuer}, valid ${from.toISOString()} to ${to.toISOString()} (${state}); it takes only current, unrevoked certificates of the CAs it is configured with`;
}

function validity(certificate: X509Certificate): { from: Date; to: Date } {
  return { from: new Date(certificate.validFrom), to: new Date(certificate.validTo) };
}
