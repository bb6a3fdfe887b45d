import { verify } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import {
  ErrorCode,
  type MachineTokenRequest,
  MachineTokenRequestSchema,
  MachineTokenType,
  MachineTokenTypeSchema,
  type MintMachineTokenRequest,
  SignatureAlgorithm,
  SignatureAlgorithmSchema,
} from "@luci-machine-tokend/core/gen";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import { type ParsedCertificate, parseCertificate } from "./parse-certificate.js";

/** Accepted distance between the client's issued_at and the server clock, both ways. */
export const ISSUED_AT_WINDOW_MS = 10 * 60_000;

/** Smallest RSA modulus Go's crypto/rsa verifies with (rsa1024min, Go 1.24). */
const MIN_RSA_BITS = 1024;

/** A request that passed steps 1-8 of LUCI's validation, or the first failure. */
export type RequestValidation =
  | { kind: "valid"; tokenRequest: MachineTokenRequest; certificate: ParsedCertificate }
  | { kind: "grpc-error"; code: Code; message: string }
  | {
      kind: "error-code";
      errorCode: ErrorCode;
      message: string;
      tokenRequest: MachineTokenRequest;
      detail?: string;
    };

/**
 * Steps 1-8 of MintMachineToken's validation (luci-go rpc_mint_machine_token.go), first failure
 * wins: a non-empty request that decodes, the token type, issued_at within ±10 minutes of `now`,
 * certificate DER, the algorithm, then the signature over the exact received bytes. Trust and token
 * arguments (steps 9-10) need the configuration and follow in the minter.
 */
export function validateMintRequest(request: MintMachineTokenRequest, now: Date): RequestValidation {
  const raw = request.serializedTokenRequest;
  if (raw.length === 0) return { kind: "grpc-error", code: Code.InvalidArgument, message: "empty request" };
  let tokenRequest: MachineTokenRequest;
  try {
    tokenRequest = fromBinary(MachineTokenRequestSchema, raw);
  } catch {
    // Go's proto.Unmarshal error text; protobuf-es words it differently.
    return {
      kind: "grpc-error",
      code: Code.InvalidArgument,
      message: "failed to unmarshal TokenRequest - proto: cannot parse invalid wire-format data",
    };
  }
  const fail = (errorCode: ErrorCode, message: string, detail?: string): RequestValidation =>
    detail === undefined
      ? { kind: "error-code", errorCode, message, tokenRequest }
      : { kind: "error-code", errorCode, message, tokenRequest, detail };

  if (tokenRequest.tokenType !== MachineTokenType.LUCI_MACHINE_TOKEN) {
    return fail(
      ErrorCode.UNSUPPORTED_TOKEN_TYPE,
      `token_type ${enumName(MachineTokenTypeSchema, tokenRequest.tokenType)} is not supported`,
    );
  }
  // An absent Timestamp reads as the epoch in Go, so it fails the window check (step 4 never fires).
  const issuedAtMs =
    Number(tokenRequest.issuedAt?.seconds ?? 0n) * 1000 + (tokenRequest.issuedAt?.nanos ?? 0) / 1e6;
  if (Math.abs(issuedAtMs - now.getTime()) > ISSUED_AT_WINDOW_MS) {
    return fail(
      ErrorCode.BAD_TIMESTAMP,
      "issued_at timestamp is not within acceptable range, check your clock",
    );
  }
  let certificate: ParsedCertificate;
  try {
    certificate = parseCertificate(tokenRequest.certificate);
  } catch (err) {
    return fail(
      ErrorCode.BAD_CERTIFICATE_FORMAT,
      "failed to parse the certificate (expecting x509 cert DER)",
      errorMessage(err),
    );
  }
  if (tokenRequest.signatureAlgorithm !== SignatureAlgorithm.SHA256_RSA_ALGO) {
    return fail(
      ErrorCode.UNSUPPORTED_SIGNATURE,
      `signature_algorithm ${enumName(SignatureAlgorithmSchema, tokenRequest.signatureAlgorithm)} is not supported`,
    );
  }
  const publicKey = certificate.node.publicKey;
  if (publicKey.asymmetricKeyType !== "rsa") {
    return fail(
      ErrorCode.BAD_SIGNATURE,
      `signature verification failed - x509: signature algorithm specifies an RSA public key, but have public key of type ${publicKey.asymmetricKeyType}`,
    );
  }
  // Go >= 1.24's crypto/rsa refuses to verify with keys under 1024 bits, whatever the signature.
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    return fail(
      ErrorCode.BAD_SIGNATURE,
      `signature verification failed - crypto/rsa: ${bits}-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)`,
    );
  }
  if (!verify("sha256", raw, publicKey, request.signature)) {
    return fail(ErrorCode.BAD_SIGNATURE, "signature verification failed - crypto/rsa: verification error");
  }
  return { kind: "valid", tokenRequest, certificate };
}

/** The enum value's name, or its number when unknown (as Go's generated String() prints it). */
function enumName(
  schema: { values: ReadonlyArray<{ number: number; name: string }> },
  value: number,
): string {
  return schema.values.find((v) => v.number === value)?.name ?? String(value);
}
