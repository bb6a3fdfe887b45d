import { errorMessage } from "../common/fs-errors.js";

/**
 * Why a token refresher has no token to give: it was `stopped`, its last refresh failed
 * (`refresh-failed`, the refresh's error as `cause`), or its token `expired` before a refresh
 * replaced it.
 */
export type TokenRefresherErrorCode = "stopped" | "refresh-failed" | "expired";

/**
 * What `getToken()` of a token refresher rejects with: one line saying why there is no valid
 * token, the {@link TokenRefresherErrorCode}, and the failed refresh's error as `cause`.
 */
export class TokenRefresherError extends Error {
  override name = "TokenRefresherError";
  /** Why there is no token. */
  readonly code: TokenRefresherErrorCode;

  constructor(message: string, code: TokenRefresherErrorCode, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /**
   * `reason` itself when it is a TokenRefresherError; else one with `code` (default
   * `refresh-failed`) that says `reason`'s message and keeps it as `cause`.
   */
  static from(reason: unknown, code: TokenRefresherErrorCode = "refresh-failed"): TokenRefresherError {
    if (reason instanceof TokenRefresherError) return reason;
    return new TokenRefresherError(`no valid machine token: ${errorMessage(reason)}`, code, {
      cause: reason,
    });
  }
}
