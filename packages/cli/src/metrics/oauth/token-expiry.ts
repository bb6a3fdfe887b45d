import type { CachedToken } from "./cache-file.js";

/**
 * luci-go's TokenExpiresIn: true for no token or an empty access token, false for a token without
 * expiry, else whether it expires before `nowMs + lifetimeMs`.
 */
export function expiresWithin(token: CachedToken | undefined, lifetimeMs: number, nowMs: number): boolean {
  if (token === undefined || token.accessToken === "") return true;
  if (token.expiryMs === undefined) return false;
  return token.expiryMs < nowMs + lifetimeMs;
}

/** luci-go's expiryRandInterval: tokens are refreshed up to this much earlier, at random. */
const EXPIRY_RAND_MS = 5_000;

/**
 * luci-go's TokenExpiresInRnd: {@link expiresWithin}, but a token expiring in the next 5 s after
 * that counts as expiring with a uniform chance, so processes sharing a cache do not all refresh
 * it at once. `random` gives [0, 1).
 */
export function expiresWithinRandomized(
  token: CachedToken | undefined,
  lifetimeMs: number,
  nowMs: number,
  random: () => number,
): boolean {
  if (token === undefined || token.accessToken === "") return true;
  if (token.expiryMs === undefined) return false;
  const deadline = nowMs + lifetimeMs;
  if (token.expiryMs < deadline) return true;
  if (token.expiryMs > deadline + EXPIRY_RAND_MS) return false;
  return token.expiryMs < deadline + Math.floor(random() * EXPIRY_RAND_MS);
}

/** luci-go's EqualTokens (access token, expiry, ID token, email). */
export function sameToken(a: CachedToken | undefined, b: CachedToken | undefined): boolean {
  if (a === b) return true;
  const x = a ?? EMPTY;
  const y = b ?? EMPTY;
  return (
    x.accessToken === y.accessToken &&
    x.expiryMs === y.expiryMs &&
    x.idToken === y.idToken &&
    x.email === y.email
  );
}

const EMPTY: CachedToken = { accessToken: "", tokenType: "", idToken: "", email: "" };
