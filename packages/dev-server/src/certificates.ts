import { goJsonStringify } from "@luci-machine-tokend/core/internal";
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
 * The certificates document of a LUCI service (`GET /auth/api/v1/server/certificates`) as LUCI's
 * server/auth/signing writes it: the token-signing certificate under its key id, the service
 * account, and `timestamp` as a bare JSON integer of microseconds (Go's JSONTime reads only that;
 * a quoted number fails its strconv.ParseInt). `Content-Type: application/json`, a trailing
 * newline (json.Encoder), and app_id/service_account_name omitted when empty (omitempty).
 */
export function certificatesReply(source: CertificatesSource, now: Date): RawReply {
  const doc = {
    ...(source.appId !== "" && { app_id: source.appId }),
    ...(source.serviceAccount !== "" && { service_account_name: source.serviceAccount }),
    certificates: [{ key_name: source.keyId, x509_certificate_pem: source.certificatePem }],
    // Microseconds since 1970 stay below 2^53 until the year 2255, so a JS number is exact.
    timestamp: now.getTime() * 1000,
  };
  return rawReply(200, { "Content-Type": "application/json" }, `${goJsonStringify(doc)}\n`);
}
