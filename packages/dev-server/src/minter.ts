import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import {
  ErrorCode,
  errorCodeName,
  type MachineTokenRequest,
  type MintMachineTokenRequest,
  type MintMachineTokenResponse,
  MintMachineTokenResponseSchema,
} from "@luci-machine-tokend/core/gen";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import { checkCertTrust } from "./cert-trust.js";
import type { CertificateCache } from "./certificate-cache.js";
import type { FaultPlan } from "./faults.js";
import { mintMachineToken } from "./mint.js";
import { parseCertificate } from "./parse-certificate.js";
import type { SigningKey } from "./signing-key.js";
import { checkTokenArgs } from "./token-args.js";
import type { TrustStore } from "./trust-store.js";
import { DEFAULT_VALIDATION_STEPS, type ValidationSteps, validateMintRequest } from "./validate-request.js";

/** How a MintMachineToken call ended, as recorded in the request log. */
export type MintOutcome =
  | {
      kind: "token";
      machineToken: string;
      expiry: Date;
      fqdn: string;
      caId: bigint;
      lifetimeSeconds: number;
    }
  /** A LUCI logic error: HTTP 200 with error_code; `detail` says why (e.g. the trust failure). */
  | { kind: "error-code"; errorCode: ErrorCode; errorMessage: string; detail?: string }
  /** A gRPC status; `message` is the real text, before pRPC masks it. */
  | { kind: "grpc-error"; code: Code; message: string };

/** What the protocol handlers get back: the response to send, or a gRPC status. */
export interface MintResult {
  outcome: MintOutcome;
  response?: MintMachineTokenResponse;
  /** The decoded inner request, when it could be decoded. */
  tokenRequest?: MachineTokenRequest;
}

/** Everything the minter needs; see DevServerOptions for the meaning of each. */
export interface MinterConfig {
  trust: TrustStore;
  signingKey: SigningKey;
  issuedBy: string;
  serviceVersion: string;
  now: () => Date;
  /** Parsed certificates that passed the trust check. */
  certificateCache: CertificateCache;
  /** Overrides of the costly validation steps (tests). */
  validationSteps?: Partial<ValidationSteps>;
}

/** The protocol-independent TokenMinter.MintMachineToken. */
export interface Minter {
  mint(request: MintMachineTokenRequest, plan: FaultPlan): Promise<MintResult>;
}

/**
 * Creates the MintMachineToken logic (LUCI's rpc_mint_machine_token.go): validation in LUCI's
 * order, then the token. Faults from the call's plan replace the answer or shift the clock.
 */
export function createMinter(config: MinterConfig): Minter {
  const { serviceVersion, certificateCache } = config;
  const steps: ValidationSteps = {
    ...DEFAULT_VALIDATION_STEPS,
    parseCertificate: (der) => certificateCache.get(der) ?? parseCertificate(der),
    ...config.validationSteps,
  };
  const logicError = (
    errorCode: ErrorCode,
    errorMessage: string,
    tokenRequest?: MachineTokenRequest,
    detail?: string,
  ): MintResult => ({
    outcome:
      detail === undefined
        ? { kind: "error-code", errorCode, errorMessage }
        : { kind: "error-code", errorCode, errorMessage, detail },
    response: create(MintMachineTokenResponseSchema, { errorCode, errorMessage, serviceVersion }),
    ...(tokenRequest ? { tokenRequest } : {}),
  });

  return {
    async mint(request, plan) {
      if (plan.grpcError) {
        const { code, message = `injected fault: gRPC code ${Code[code]}` } = plan.grpcError;
        return { outcome: { kind: "grpc-error", code, message } };
      }
      const now = new Date(config.now().getTime() + plan.clockOffsetMs);
      const validation = validateMintRequest(request, now, steps);
      if (plan.errorCode) {
        const { code, message = `injected fault: ${errorCodeName(plan.errorCode.code)}` } = plan.errorCode;
        const decoded = validation.kind === "grpc-error" ? undefined : validation.tokenRequest;
        return logicError(code, message, decoded, "injected fault");
      }
      if (validation.kind === "grpc-error") {
        return { outcome: { kind: "grpc-error", code: validation.code, message: validation.message } };
      }
      if (validation.kind === "error-code") {
        return logicError(
          validation.errorCode,
          validation.message,
          validation.tokenRequest,
          validation.detail,
        );
      }
      const { tokenRequest, certificate } = validation;
      const trust = checkCertTrust(certificate, config.trust, now);
      if (!trust.ca) {
        return logicError(
          ErrorCode.UNTRUSTED_CERTIFICATE,
          "invalid or untrusted certificate",
          tokenRequest,
          trust.reason,
        );
      }
      // Trusted: the CA signed it, so it is one of the fleet's, worth keeping parsed.
      certificateCache.remember(certificate);
      const args = checkTokenArgs(certificate, trust.ca);
      if ("error" in args) return logicError(ErrorCode.BAD_TOKEN_ARGUMENTS, args.error, tokenRequest);
      const lifetimeSeconds =
        plan.tokenLifetimeMs === undefined ? args.lifetimeSeconds : Math.floor(plan.tokenLifetimeMs / 1000);
      let minted: Awaited<ReturnType<typeof mintMachineToken>>;
      try {
        minted = await mintMachineToken(
          {
            fqdn: args.fqdn,
            issuedBy: config.issuedBy,
            now,
            lifetimeSeconds,
            caId: trust.ca.id,
            serial: args.serial,
          },
          config.signingKey,
        );
      } catch (err) {
        return logicError(ErrorCode.MACHINE_TOKEN_MINTING_ERROR, errorMessage(err), tokenRequest);
      }
      return {
        outcome: {
          kind: "token",
          machineToken: minted.token,
          expiry: minted.expiry,
          fqdn: args.fqdn,
          caId: trust.ca.id,
          lifetimeSeconds,
        },
        response: create(MintMachineTokenResponseSchema, {
          serviceVersion,
          tokenResponse: {
            serviceVersion,
            tokenType: {
              case: "luciMachineToken",
              value: { machineToken: minted.token, expiry: timestampFromMs(minted.expiry.getTime()) },
            },
          },
        }),
        tokenRequest,
      };
    },
  };
}
