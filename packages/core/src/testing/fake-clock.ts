import type { Now, Sleep } from "../common/clock.js";

/** A clock that only moves when told to, and a sleep that moves it and records each delay. */
export interface FakeClock {
  now: Now;
  sleep: Sleep;
  /** Delays passed to `sleep`, in call order (ms). */
  delays: number[];
  /** Moves the clock forward. */
  advance(ms: number): void;
  /** Sets the clock to a time (forward or back). */
  set(date: Date): void;
  /** Current time in ms since the epoch. */
  ms(): number;
}

/**
 * A fake clock starting at `start`. Its sleep rejects with the signal's reason when aborted. The
 * one fake clock of the project's tests (core, dev server, CLI).
 */
export function createFakeClock(start: Date | number = Date.UTC(2015, 1, 3, 4, 5, 6, 500)): FakeClock {
  let t = typeof start === "number" ? start : start.getTime();
  const delays: number[] = [];
  return {
    now: () => new Date(t),
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      delays.push(ms);
      t += ms;
    },
    delays,
    advance(ms) {
      t += ms;
    },
    set(date) {
      t = date.getTime();
    },
    ms: () => t,
  };
}
