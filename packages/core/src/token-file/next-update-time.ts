/** Tokens that live less than this are treated as living this long when scheduling (Go tokend). */
export const MIN_TOKEN_LIFETIME_MS = 5 * 60 * 1000;

/** Go's longest time.Duration (2^63 − 1 ns) in ms, as near as a double gets: `expiry.Sub(now)` saturates there. */
const GO_MAX_DURATION_MS = Number(2n ** 63n - 1n) / 1e6;

/** When to refresh a freshly minted token, and whether its lifetime had to be raised to the floor. */
export interface NextUpdate {
  /** Unix seconds of the next refresh: now + lifetime / 2, truncated. */
  nextUpdate: bigint;
  /** The lifetime used: expiry − now, or 5 minutes (Go's floor) when that is shorter. */
  lifetimeMs: number;
  /** True when the server's lifetime was under the 5-minute floor (Go logs a warning). */
  clamped: boolean;
}

/**
 * Schedules the next refresh at half the token's remaining life, measured from `now` (taken after
 * the RPC returned), with a 5-minute floor on the lifetime and, as Go's saturating Duration,
 * a ceiling of about 292 years. Pure.
 */
export function nextUpdateTime(now: Date, expiry: Date): NextUpdate {
  const remaining = Math.min(expiry.getTime() - now.getTime(), GO_MAX_DURATION_MS);
  const clamped = remaining < MIN_TOKEN_LIFETIME_MS;
  const lifetimeMs = clamped ? MIN_TOKEN_LIFETIME_MS : remaining;
  return { nextUpdate: BigInt(Math.floor((now.getTime() + lifetimeMs / 2) / 1000)), lifetimeMs, clamped };
}
