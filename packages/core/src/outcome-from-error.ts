import { ConnectError } from "@connectrpc/connect";
import { errorCodeName, MintTokenError } from "./mint-token-error.js";
import type { UpdateOutcome } from "./outcome.js";

/**
 * The outcome of a failed mint, as Go's OutcomeFromRPCError: `GRPC_ERROR_<code>` for RPC
 * failures, `MINT_TOKEN_ERROR_<NAME>` for token server logic errors, MALFORMED_RESPONSE for a
 * response without a usable token, UNKNOWN_RPC_ERROR for anything else.
 *
 * A reply that cannot be used (wrong Content-Type, undecodable, over the size cap) keeps its code
 * (`GRPC_ERROR_13`, `GRPC_ERROR_14`) where Go says UNKNOWN_RPC_ERROR: Go's client tags codes 2, 13
 * and 14 as transient before the check, a quirk we fix (docs/MIGRATING-FROM-GO.md: the code is what an
 * operator needs). SUCCESS without a token is UNKNOWN_RPC_ERROR, as in Go.
 */
export function outcomeFromError(err: unknown): UpdateOutcome {
  if (err instanceof MintTokenError) {
    switch (err.kind) {
      case "rpc":
      case "bad-reply":
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
