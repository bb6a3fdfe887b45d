import type { Now, Random, Sleep } from "../common/clock.js";

/** Longest single wait of {@link sleepUntil}, so a suspended machine notices the wall clock jumped soon after it wakes. */
const WAKE_CHECK_MS = 15_000;
/** Longest wait for a next_update: one from a hand-edited or absurd file still gets a refresh a day. */
const MAX_WAIT_MS = 24 * 3_600_000;

/**
 * When a long-running refresher (the CLI's `-daemon`, {@link startTokenRefresher}) looks at a
 * token again: just after its `next_update` (Unix seconds), plus up to 1 min (or 10% of the wait)
 * of jitter so a fleet does not refresh in step. Pure.
 */
export function nextRefreshAt(nextUpdateTs: number, now: Date, random: Random): Date {
  const target = nextUpdateTs * 1000;
  // Far futures (and values no date holds) wait a day; the run then decides again.
  const left = target - now.getTime();
  const wait = Number.isNaN(left) ? MAX_WAIT_MS : Math.min(MAX_WAIT_MS, Math.max(0, left));
  // Strictly after next_update: the decision needs now > next_update to refresh.
  return new Date(now.getTime() + wait + 1000 + random() * Math.min(60_000, wait * 0.1));
}

/**
 * Sleeps until a wall-clock time in steps of at most 15 s, so time lost while the machine was
 * suspended (timers stop, the wall clock does not) is noticed within one step. Returns early,
 * without throwing, once `signal` is aborted.
 */
export async function sleepUntil(
  target: Date,
  deps: { now: Now; sleep: Sleep; signal: AbortSignal },
): Promise<void> {
  for (;;) {
    const left = target.getTime() - deps.now().getTime();
    if (left <= 0 || deps.signal.aborted) return;
    try {
      await deps.sleep(Math.min(left, WAKE_CHECK_MS), deps.signal);
    } catch {
      return;
    }
  }
}
