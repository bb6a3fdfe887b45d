/**
 * Why a token could not be had, in luci-go's classes: `transient` errors are retried (network
 * errors, 5xx, unreadable answers), `bad-credentials` ones drop the cached token and are not
 * (a key that does not parse, an OAuth 400/401), `fatal` ones are not retried either (IAM 4xx).
 */
export class TokenError extends Error {
  override name = "TokenError";
  constructor(
    message: string,
    readonly kind: "transient" | "bad-credentials" | "fatal",
  ) {
    super(message);
  }
}

/** luci-go's ErrBadCredentials text, which is all the push's error says of a bad key. */
export const BAD_CREDENTIALS = "invalid or unavailable service account credentials";

/** luci-go's ErrInsufficientAccess text (GCE account without the scope). */
export const INSUFFICIENT_ACCESS = "can't get access token for the given account and scopes";

/** luci-go's ErrLoginRequired text: no credentials configured. */
export const LOGIN_REQUIRED = "interactive login is required";
