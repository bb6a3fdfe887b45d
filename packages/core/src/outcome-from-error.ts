import { MintTokenError } from "./mint-token-error.js";
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
        return `MINT_TOKEN_ERROR_${err.errorCodeName ?? "0"}`;
      case "malformed":
        return "MALFORMED_RESPONSE";
      case "no-token":
        return "UNKNOWN_RPC_ERROR";
    }
  }
  const code = connectErrorCode(err);
  return code === undefined ? "UNKNOWN_RPC_ERROR" : `GRPC_ERROR_${code}`;
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
