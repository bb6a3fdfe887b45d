import { TokenError } from "./token-error.js";

/** luci-go's retry.ExponentialBackoff settings. */
export interface Backoff {
  firstDelayMs: number;
  multiplier: number;
  /** Each delay at most this; default unbounded. */
  maxDelayMs?: number;
  /** Retries at most; -1 for unbounded. */
  retries: number;
  /** No retry starts after this much time in all. */
  maxTotalMs: number;
}

/** luci-go's token mint retries (auth.go retryParams): 10 ms doubling, 50 retries, 2 minutes. */
export const MINT_BACKOFF: Backoff = { firstDelayMs: 10, multiplier: 2, retries: 50, maxTotalMs: 120_000 };

/** luci-go's GCE provider start-up retries (gce.go): 100 ms doubling to 10 s, for 5 minutes. */
export const GCE_INIT_BACKOFF: Backoff = {
  firstDelayMs: 100,
  multiplier: 2,
  maxDelayMs: 10_000,
  retries: -1,
  maxTotalMs: 300_000,
};

/**
 * Calls `attempt` until it succeeds or fails for good, as luci-go's retry.Retry with
 * transient.Only: a {@link TokenError} of kind `transient` is retried after the backoff's delay,
 * anything else thrown at once. Unlike luci-go, `signal` (the push's deadline) ends the waiting:
 * then the last error is thrown, so the message says what went wrong rather than "deadline".
 */
export async function retryTransient<T>(
  attempt: () => Promise<T>,
  options: {
    backoff: Backoff;
    signal: AbortSignal;
    now: () => number;
    onRetry?: (err: TokenError, delayMs: number) => void;
  },
): Promise<T> {
  const { backoff, signal, now } = options;
  const started = now();
  let delay = backoff.firstDelayMs;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof TokenError) || err.kind !== "transient") throw err;
      const wait = Math.min(delay, backoff.maxDelayMs ?? delay);
      const outOfRetries = backoff.retries >= 0 && retry >= backoff.retries;
      if (outOfRetries || now() - started + wait > backoff.maxTotalMs || signal.aborted) throw err;
      options.onRetry?.(err, wait);
      if (!(await sleepUnlessAborted(wait, signal))) throw err;
      delay *= backoff.multiplier;
    }
  }
}

/** Waits `ms`; false when `signal` fired first. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (finished: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", aborted);
      resolve(finished);
    };
    const aborted = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", aborted, { once: true });
  });
}
