import { type RawReply, rawReply } from "./http/reply.js";

/** Where LUCI services publish the public certificates of their signing keys. */
export const CERTIFICATES_PATH = "/auth/api/v1/server/certificates";

/** What the certificates endpoint publishes. */
export interface CertificatesSource {
  appId: string;
  serviceAccount: string;
  keyId: string;
  certificatePem: string;
}

/**
 * The certificates document of a LUCI service (`GET /auth/api/v1/server/certificates`): the
 * token-signing certificate under its key id, the service account, and a timestamp in µs.
 */
export function certificatesReply(source: CertificatesSource, now: Date): RawReply {
  const doc = {
    app_id: source.appId,
    service_account_name: source.serviceAccount,
    certificates: [{ key_name: source.keyId, x509_certificate_pem: source.certificatePem }],
    timestamp: String(BigInt(now.getTime()) * 1000n),
  };
  return rawReply(200, { "Content-Type": "application/json; charset=utf-8" }, `${JSON.stringify(doc)}\n`);
}
