import { type KeyObject, verify } from "node:crypto";
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
import { SKIP_UNKNOWN } from "./prpc/codec.js";
import type { RsaPublicNumbers } from "./rsa-public-key.js";

/** Accepted distance between the client's issued_at and the server clock, both ways. */
export const ISSUED_AT_WINDOW_MS = 10 * 60_000;

/** Smallest RSA modulus Go's crypto/rsa verifies with (rsa1024min, Go 1.24). */
const MIN_RSA_BITS = 1024;

/** Largest public exponent Go's crypto/rsa verifies with: it must fit 31 bits. */
const MAX_RSA_EXPONENT = 2n ** 31n - 1n;

/** The steps of validation that cost: parsing the certificate and verifying the signature. */
export interface ValidationSteps {
  /** Parses certificate DER (throws on what Go's parser refuses); default parseCertificate. */
  parseCertificate(der: Uint8Array): ParsedCertificate;
  /** PKCS#1 v1.5 SHA-256 verification of `data`; default node's crypto.verify. */
  verifySignature(data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean;
}

/** The real steps. */
export const DEFAULT_VALIDATION_STEPS: ValidationSteps = {
  parseCertificate,
  verifySignature(data, key, signature) {
    try {
      return verify("sha256", data, key, signature);
    } catch {
      return false; // an OpenSSL refusal is a failed verification, not a server error
    }
  },
};

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
 * arguments (steps 9-10) need the configuration and follow in the minter. What Go refuses about an
 * RSA key (its size, its exponent) is refused before any RSA arithmetic, so a client cannot choose
 * what a verification costs beyond what Go allows.
 */
export function validateMintRequest(
  request: MintMachineTokenRequest,
  now: Date,
  steps: ValidationSteps = DEFAULT_VALIDATION_STEPS,
): RequestValidation {
  const raw = request.serializedTokenRequest;
  if (raw.length === 0) return { kind: "grpc-error", code: Code.InvalidArgument, message: "empty request" };
  let tokenRequest: MachineTokenRequest;
  try {
    // Unknown fields skipped: the signature covers the raw bytes, nothing reads the rest.
    tokenRequest = fromBinary(MachineTokenRequestSchema, raw, SKIP_UNKNOWN);
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
    certificate = steps.parseCertificate(tokenRequest.certificate);
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
  if (publicKey.asymmetricKeyType !== "rsa" || !certificate.rsa) {
    return fail(
      ErrorCode.BAD_SIGNATURE,
      `signature verification failed - x509: signature algorithm specifies an RSA public key, but have public key of type ${publicKey.asymmetricKeyType}`,
    );
  }
  const keyProblem = rsaKeyProblem(certificate.rsa, request.signature.length);
  if (keyProblem) return fail(ErrorCode.BAD_SIGNATURE, `signature verification failed - ${keyProblem}`);
  if (!steps.verifySignature(raw, publicKey, request.signature)) {
    return fail(ErrorCode.BAD_SIGNATURE, "signature verification failed - crypto/rsa: verification error");
  }
  return { kind: "valid", tokenRequest, certificate };
}

/**
 * What Go's rsa.VerifyPKCS1v15 refuses before computing, in its order and words (crypto/rsa
 * checkPublicKeySize, then crypto/internal/fips140/rsa checkPublicKey and the signature length).
 * Go has no largest modulus; OpenSSL refuses over 16384 bits, which then reads as a failed
 * verification (Go would verify: only a genuine signature by such a key is answered differently).
 */
function rsaKeyProblem(key: RsaPublicNumbers, signatureBytes: number): string | undefined {
  // Go >= 1.24 refuses keys under 1024 bits, whatever the signature.
  if (key.modulusBits < MIN_RSA_BITS) {
    return `crypto/rsa: ${key.modulusBits}-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)`;
  }
  if (!key.modulusOdd) return "crypto/rsa: public modulus is even";
  if (key.exponent < 2n) return "crypto/rsa: public exponent too small or negative";
  if (key.exponent % 2n === 0n) return "crypto/rsa: public exponent is even";
  if (key.exponent > MAX_RSA_EXPONENT) return "crypto/rsa: public exponent too large";
  if (signatureBytes !== Math.ceil(key.modulusBits / 8)) return "crypto/rsa: verification error";
  return undefined;
}

/** The enum value's name, or its number when unknown (as Go's generated String() prints it). */
function enumName(
  schema: { values: ReadonlyArray<{ number: number; name: string }> },
  value: number,
): string {
  return schema.values.find((v) => v.number === value)?.name ?? String(value);
}
