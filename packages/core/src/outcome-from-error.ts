import { ConnectError } from "@connectrpc/connect";
import { errorCodeName, MintTokenError } from "./mint-token-error.js";
import type { UpdateOutcome } from "./outcome.js";
import { isUnusableResponse } from "./unusable-response.js";

/**
 * The outcome of a failed mint, as Go's OutcomeFromRPCError: `GRPC_ERROR_<code>` for RPC
 * failures, `MINT_TOKEN_ERROR_<NAME>` for token server logic errors, MALFORMED_RESPONSE for a
 * response without a usable token, UNKNOWN_RPC_ERROR for anything else.
 *
 * UNKNOWN_RPC_ERROR also covers, as in Go, a reply that cannot be used (wrong Content-Type,
 * undecodable, over the size cap) and SUCCESS without a token: Go's client wraps these before the
 * check. Transient codes never end a run otherwise: they are retried until the deadline.
 */
export function outcomeFromError(err: unknown): UpdateOutcome {
  if (err instanceof MintTokenError) {
    switch (err.kind) {
      case "rpc":
        return `GRPC_ERROR_${err.grpcCode}`;
      case "token-server":
        return `MINT_TOKEN_ERROR_${errorCodeName(err.errorCode ?? 0)}`;
      case "malformed":
        return "MALFORMED_RESPONSE";
      case "bad-reply":
      case "no-token":
        return "UNKNOWN_RPC_ERROR";
    }
  }
  if (isUnusableResponse(err)) return "UNKNOWN_RPC_ERROR";
  if (err instanceof ConnectError) return `GRPC_ERROR_${err.code}`;
  return "UNKNOWN_RPC_ERROR";
}
