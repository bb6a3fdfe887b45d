import { createHash } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type {
  MachineTokenRequest,
  MachineTokenType,
  MintMachineTokenRequest,
  SignatureAlgorithm,
} from "@luci-machine-tokend/core/gen";

/**
 * What the request log keeps of a MintMachineTokenRequest: sizes, the inner request's scalar
 * fields and a digest of the certificate, never the bytes themselves, so each entry stays small
 * whatever a client sent.
 */
export interface RequestSummary {
  /** Length of serialized_token_request. */
  serializedTokenRequestBytes: number;
  /** Length of signature. */
  signatureBytes: number;
  /** token_type of the inner request, when it decoded. */
  tokenType?: MachineTokenType;
  /** signature_algorithm of the inner request, when it decoded. */
  signatureAlgorithm?: SignatureAlgorithm;
  /** issued_at of the inner request, when it decoded and was set. */
  issuedAt?: Date;
  /** Length of the certificate DER, when the inner request decoded. */
  certificateBytes?: number;
  /** SHA-256 of the certificate DER (hex), when the inner request decoded. */
  certificateSha256?: string;
}

/** Summarizes a decoded request (and its inner request, if that decoded too). */
export function summarizeRequest(
  request: MintMachineTokenRequest,
  tokenRequest?: MachineTokenRequest,
): RequestSummary {
  const summary: RequestSummary = {
    serializedTokenRequestBytes: request.serializedTokenRequest.length,
    signatureBytes: request.signature.length,
  };
  if (tokenRequest) {
    summary.tokenType = tokenRequest.tokenType;
    summary.signatureAlgorithm = tokenRequest.signatureAlgorithm;
    if (tokenRequest.issuedAt) summary.issuedAt = new Date(timestampMs(tokenRequest.issuedAt));
    summary.certificateBytes = tokenRequest.certificate.length;
    summary.certificateSha256 = createHash("sha256").update(tokenRequest.certificate).digest("hex");
  }
  return summary;
}
