import { createHash } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type {
  MachineTokenRequest,
  MachineTokenType,
  MintMachineTokenRequest,
  SignatureAlgorithm,
} from "@luci-machine-tokend/core/gen";
import type { RequestOutcome } from "./request-log.js";

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

/** Longest text (error messages, trust reasons) a log entry keeps, in UTF-16 units. */
export const MAX_LOGGED_TEXT = 512;

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

/** The outcome with every text cut to {@link MAX_LOGGED_TEXT} (they can quote client input). */
export function boundOutcome(outcome: RequestOutcome): RequestOutcome {
  switch (outcome.kind) {
    case "error-code": {
      const bounded = { ...outcome, errorMessage: boundText(outcome.errorMessage) };
      if (outcome.detail !== undefined) bounded.detail = boundText(outcome.detail);
      return bounded;
    }
    case "grpc-error":
      return { ...outcome, message: boundText(outcome.message) };
    default:
      return outcome;
  }
}

/** Cuts a text to {@link MAX_LOGGED_TEXT}, saying how much was dropped. */
export function boundText(text: string): string {
  if (text.length <= MAX_LOGGED_TEXT) return text;
  return `${text.slice(0, MAX_LOGGED_TEXT)}... (${text.length - MAX_LOGGED_TEXT} more)`;
}
