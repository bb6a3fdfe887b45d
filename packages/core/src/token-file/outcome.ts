/**
 * The outcome and reason strings of a tokend run: the values of the status file's
 * `update_outcome` / `update_reason` and of the ts-mon metrics, identical to Go tokend.
 */

/** Outcomes with a fixed name (Go's status.go). */
export const FIXED_OUTCOMES = [
  "TOKEN_IS_GOOD",
  "UPDATE_SUCCESS",
  "CANT_READ_KEY",
  "MALFORMED_RESPONSE",
  "UNKNOWN_RPC_ERROR",
  "SAVE_TOKEN_PERM_ERROR",
  "UNKNOWN_SAVE_TOKEN_ERROR",
] as const;

/**
 * How a run ended: a fixed outcome, `GRPC_ERROR_<code>` for an RPC that failed with a gRPC code,
 * or `MINT_TOKEN_ERROR_<ErrorCode name>` for a token server logic error.
 */
export type UpdateOutcome =
  | (typeof FIXED_OUTCOMES)[number]
  | `GRPC_ERROR_${number}`
  | `MINT_TOKEN_ERROR_${string}`;

/** Why a token was (or was not) refreshed. */
export const UPDATE_REASONS = [
  "TOKEN_IS_GOOD",
  "NEW_TOKEN",
  "TOKEN_EXPIRES",
  "PARAMS_CHANGE",
  "MISSING_TOKEN_COPY",
  "FORCE_REFRESH",
] as const;

/** The `update_reason` of a run. */
export type UpdateReason = (typeof UPDATE_REASONS)[number];
