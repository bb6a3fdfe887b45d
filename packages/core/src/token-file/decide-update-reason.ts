import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
import type { UpdateReason } from "./outcome.js";
import type { TokendState } from "./tokend-state.js";

/** Inputs of {@link decideUpdateReason}: what the primary token file held and what is true now. */
export interface UpdateDecisionInput {
  /** The primary token file, if it was readable and valid. */
  token?: TokenFile;
  /** Its decoded `tokend_state`, if any. */
  state?: TokendState;
  /** {@link calcDigest} of the current key, certificate and backend. */
  inputsDigest: string;
  /** The current time. */
  now: Date;
  /** `-force-refresh` was given. */
  forceRefresh?: boolean;
}

/**
 * Decides whether the token must be refreshed and why, in Go tokend's order (first match wins):
 * no token or `next_update` 0 → NEW_TOKEN; now strictly after `next_update` → TOKEN_EXPIRES; a
 * missing state or a different inputs digest → PARAMS_CHANGE; `forceRefresh` → FORCE_REFRESH;
 * otherwise TOKEN_IS_GOOD. `expiry` is never consulted. Pure.
 */
export function decideUpdateReason(input: UpdateDecisionInput): Exclude<UpdateReason, "MISSING_TOKEN_COPY"> {
  const { token, state } = input;
  if (token === undefined || token.nextUpdate === 0n) return "NEW_TOKEN";
  if (input.now.getTime() > Number(goUnixSeconds(token.nextUpdate)) * 1000) return "TOKEN_EXPIRES";
  if (state === undefined || state.inputsDigest !== input.inputsDigest) return "PARAMS_CHANGE";
  if (input.forceRefresh) return "FORCE_REFRESH";
  return "TOKEN_IS_GOOD";
}

/** Seconds from year 1 to 1970, the offset of Go's time.Time. */
const UNIX_TO_INTERNAL = 62135596800n;

/**
 * The instant Go's `time.Unix(seconds, 0)` stands for, in Unix seconds: Go keeps seconds from year
 * 1 in an int64, so within about 2000 years of 2^63 seconds they wrap around to the distant past
 * (a `next_update` of 9223372036854775807 is long past for Go).
 */
function goUnixSeconds(seconds: bigint): bigint {
  return BigInt.asIntN(64, seconds + UNIX_TO_INTERNAL) - UNIX_TO_INTERNAL;
}
