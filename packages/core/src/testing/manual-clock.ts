import type { Now, Sleep } from "../common/clock.js";

/**
 * A clock that moves only when the test says so; its sleeps wait until the clock has passed
 * their end (unlike fake-clock.ts, whose sleeps return at once), so a test can watch a
 * long-running loop wait.
 */
export interface ManualClock {
  now: Now;
  sleep: Sleep;
  /** Moves the clock forward and wakes the sleeps that are due. */
  advance(ms: number): void;
  /** Resolves once at least `count` sleeps are waiting. */
  sleeping(count?: number): Promise<void>;
  /** How many sleeps are waiting now. */
  waiting(): number;
}

/** A manual clock starting at `start`. */
export function createManualClock(start: Date | number = Date.now()): ManualClock {
  let t = typeof start === "number" ? start : start.getTime();
  const sleepers = new Set<{ until: number; wake: () => void }>();
  const watchers = new Set<{ count: number; resolve: () => void }>();
  const notify = () => {
    for (const w of watchers) {
      if (sleepers.size >= w.count) {
        watchers.delete(w);
        w.resolve();
      }
    }
  };
  return {
    now: () => new Date(t),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const sleeper = {
          until: t + Math.max(0, ms),
          wake: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          sleepers.delete(sleeper);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        sleepers.add(sleeper);
        notify();
      }),
    advance(ms) {
      t += ms;
      for (const s of sleepers) {
        if (s.until <= t) {
          sleepers.delete(s);
          s.wake();
        }
      }
    },
    sleeping: (count = 1) =>
      new Promise<void>((resolve) => {
        watchers.add({ count, resolve });
        notify();
      }),
    waiting: () => sleepers.size,
  };
}
