import type { UpdateOutcome } from "../token-file/outcome.js";
import { MintTokenError } from "./mint-token-error.js";

/**
 * gRPC codes Go's tokenclient tags as transient (UNKNOWN, INTERNAL, UNAVAILABLE): the tag hides
 * its RPCError from tokend's outcome check, so a call that ends with one is UNKNOWN_RPC_ERROR.
 */
const TAGGED_TRANSIENT = new Set([2, 13, 14]);

/**
 * The outcome of a failed mint, as Go's OutcomeFromRPCError: `GRPC_ERROR_<code>` for RPC
 * failures, `MINT_TOKEN_ERROR_<NAME>` for token server logic errors, MALFORMED_RESPONSE for a
 * response without a usable token, UNKNOWN_RPC_ERROR for anything else.
 *
 * A call that ends with code 2, 13 or 14 is UNKNOWN_RPC_ERROR, as in Go (`update_outcome` is a
 * metric fleets group by): retried calls end with 4 or 1, so these are the replies that cannot be
 * used (wrong Content-Type, undecodable, over the size cap). The code stays in the error's message
 * (`failure_error`). SUCCESS without a token is UNKNOWN_RPC_ERROR too, as in Go.
 */
export function outcomeFromError(err: unknown): UpdateOutcome {
  if (err instanceof MintTokenError) {
    switch (err.kind) {
      case "rpc":
      case "bad-reply":
        return grpcOutcome(err.grpcCode);
      case "token-server":
        return `MINT_TOKEN_ERROR_${err.errorCodeName ?? "0"}`;
      case "malformed":
        return "MALFORMED_RESPONSE";
      case "no-token":
        return "UNKNOWN_RPC_ERROR";
    }
  }
  const code = connectErrorCode(err);
  return code === undefined ? "UNKNOWN_RPC_ERROR" : grpcOutcome(code);
}

function grpcOutcome(code: number): UpdateOutcome {
  return TAGGED_TRANSIENT.has(code) ? "UNKNOWN_RPC_ERROR" : `GRPC_ERROR_${code}`;
}

/**
 * The code of a ConnectError, recognised as Connect's own `instanceof` recognises one from another
 * copy of the library (by name and fields), so that this module does not load Connect.
 */
function connectErrorCode(err: unknown): number | undefined {
  if (!(err instanceof Error) || err.name !== "ConnectError") return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}
