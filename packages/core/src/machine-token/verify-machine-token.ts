import { verify, X509Certificate } from "node:crypto";
import { errorMessage } from "../common/fs-errors.js";
import { escapeForLog } from "../common/one-line.js";
import type { DecodedMachineToken } from "./decoded-machine-token.js";

/** Token server signing certificates by key id, as published at /auth/api/v1/server/certificates. */
export type SigningCertificates =
  | Record<string, string>
  | { certificates: Array<{ key_name: string; x509_certificate_pem: string }> };

/** Options of {@link verifyMachineToken}. */
export interface VerifyMachineTokenOptions {
  /** The token server's signing certificates (PEM) by key id. */
  certificates: SigningCertificates;
  /** The time to check the validity window at. */
  now: Date;
  /** Allowed clock difference at both ends of the window. Default 10 s, as LUCI services. */
  allowedSkewMs?: number;
}

/** Why a machine token was refused. */
export class MachineTokenVerifyError extends Error {
  override name = "MachineTokenVerifyError";
}

/**
 * Verifies a machine token the way LUCI services do before trusting `X-Luci-Machine-Token`: it
 * must decode, be inside `issued_at − 10 s ≤ now ≤ issued_at + lifetime + 10 s`, and its body must
 * carry a valid RSA-SHA256 signature by the certificate named by its `key_id`. Returns the decoded
 * token (identity `bot:<machine_fqdn>`); rejects with a {@link MachineTokenVerifyError}.
 * Group membership of `issued_by` is the caller's policy and is not checked here. The protobuf
 * runtime that decodes tokens is loaded at the first call, not with the package.
 */
export async function verifyMachineToken(
  token: string,
  options: VerifyMachineTokenOptions,
): Promise<DecodedMachineToken> {
  const { parseMachineToken } = await import("./machine-token.js");
  let decoded: DecodedMachineToken;
  try {
    decoded = parseMachineToken(token);
  } catch (err) {
    throw new MachineTokenVerifyError(errorMessage(err), { cause: err });
  }
  const skew = options.allowedSkewMs ?? 10_000;
  const now = options.now.getTime();
  if (now < decoded.issuedAt.getTime() - skew) {
    throw new MachineTokenVerifyError(`token is not valid yet: issued at ${decoded.issuedAt.toISOString()}`);
  }
  if (now > decoded.expiresAt.getTime() + skew) {
    throw new MachineTokenVerifyError(`token expired at ${decoded.expiresAt.toISOString()}`);
  }
  const pem = certificateFor(options.certificates, decoded.keyId);
  if (pem === undefined)
    throw new MachineTokenVerifyError(`no signing certificate for key "${escapeForLog(decoded.keyId, 256)}"`);
  let ok: boolean;
  try {
    ok = verify("sha256", decoded.bodyBytes, new X509Certificate(pem).publicKey, decoded.signature);
  } catch (err) {
    throw new MachineTokenVerifyError(
      `bad signing certificate for key ${escapeForLog(decoded.keyId, 256)}: ${errorMessage(err)}`,
    );
  }
  if (!ok) throw new MachineTokenVerifyError("bad token signature");
  return decoded;
}

function certificateFor(certs: SigningCertificates, keyId: string): string | undefined {
  if (Array.isArray((certs as { certificates?: unknown }).certificates)) {
    const list = (certs as { certificates: Array<{ key_name: string; x509_certificate_pem: string }> })
      .certificates;
    return list.find((c) => c.key_name === keyId)?.x509_certificate_pem;
  }
  const map = certs as Record<string, string>;
  return Object.hasOwn(map, keyId) ? map[keyId] : undefined;
}
