import type { Now, Sleep } from "@luci-machine-tokend/core";

/** A clock that only moves when told to (or when something sleeps on it). */
export interface FakeClock {
  now: Now;
  sleep: Sleep;
  advance(ms: number): void;
  set(date: Date): void;
  /** Every delay passed to sleep, in order. */
  sleeps: number[];
}

/** Creates a fake clock starting at `start`. */
export function createFakeClock(start: Date): FakeClock {
  let t = start.getTime();
  const sleeps: number[] = [];
  return {
    now: () => new Date(t),
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      t += ms;
    },
    advance: (ms) => {
      t += ms;
    },
    set: (d) => {
      t = d.getTime();
    },
    sleeps,
  };
}
