import { ConnectError } from "@connectrpc/connect";
import { errorCodeName, MintTokenError } from "./mint-token-error.js";
import type { UpdateOutcome } from "./outcome.js";

/**
 * The outcome of a failed mint, as Go's OutcomeFromRPCError: `GRPC_ERROR_<code>` for RPC
 * failures, `MINT_TOKEN_ERROR_<NAME>` for token server logic errors, MALFORMED_RESPONSE for a
 * response without the token, UNKNOWN_RPC_ERROR for anything else.
 *
 * Differs from Go on purpose: Go wraps transient errors (codes 2, 13, 14) before this check and so
 * reports them as UNKNOWN_RPC_ERROR; here they keep their code (`GRPC_ERROR_13`, …).
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
      case "no-token":
        return "UNKNOWN_RPC_ERROR";
    }
  }
  if (err instanceof ConnectError) return `GRPC_ERROR_${err.code}`;
  return "UNKNOWN_RPC_ERROR";
}
