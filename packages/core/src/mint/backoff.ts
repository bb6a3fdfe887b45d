import type { Random } from "../common/clock.js";

/** Options of {@link createBackoff}. */
export interface BackoffOptions {
  /** First delay. Default 200 ms, as Go tokend. */
  initialMs?: number;
  /** Growth per retry. Default 1.5. */
  multiplier?: number;
  /** Cap on one delay; Go tokend uses its `-timeout`. */
  maxMs: number;
  /**
   * Spreads each delay uniformly over [0.5×, 1.5×] so a fleet that failed together does not retry
   * together; the expected value stays Go's schedule. Default true; false gives Go's exact delays.
   */
  jitter?: boolean;
  /** Randomness for the jitter. Default Math.random. */
  random?: Random;
}

/** Yields retry delays in milliseconds: 200, 300, 450, … capped at `maxMs`, maybe jittered. */
export interface Backoff {
  next(): number;
}

/**
 * LUCI's exponential backoff: the delay grows by the multiplier until it reaches the cap and then
 * stays there (Go keeps the delay in whole nanoseconds, so growth truncates to nanoseconds).
 */
export function createBackoff(options: BackoffOptions): Backoff {
  const multiplier = options.multiplier ?? 1.5;
  const random = options.random ?? Math.random;
  const jitter = options.jitter ?? true;
  let delayNs = Math.round((options.initialMs ?? 200) * 1e6);
  const maxNs = Math.max(0, Math.round(options.maxMs * 1e6));
  return {
    next() {
      let ns = delayNs;
      if (ns >= maxNs) ns = maxNs;
      else delayNs = Math.floor(delayNs * multiplier);
      const ms = ns / 1e6;
      return jitter ? Math.min(ms * (0.5 + random()), options.maxMs) : ms;
    },
  };
}
