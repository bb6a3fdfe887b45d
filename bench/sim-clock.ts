import type { Now, Sleep } from "@luci-machine-tokend/core";

/**
 * A simulated clock for discrete-event simulations: `sleep` parks the caller in a time-ordered
 * queue and `run` advances time from one wake-up to the next, so thousands of async tasks (real
 * `mintToken` loops) share one clock and a simulated day takes seconds. Used by the fleet
 * simulation.
 */
export interface SimClock {
  /** Simulated now (ms since the simulation start, as a Date). */
  now: Now;
  /** Simulated milliseconds since the start. */
  nowMs(): number;
  /** Waits `ms` of simulated time (aborts are not simulated). */
  sleep: Sleep;
  /** Runs every task until no one is waiting or the next wake-up is after `untilMs`. */
  run(untilMs: number): Promise<void>;
}

interface Wakeup {
  at: number;
  seq: number;
  wake: () => void;
}

/** Creates a {@link SimClock} starting at 0. */
export function createSimClock(): SimClock {
  const queue: Wakeup[] = [];
  let current = 0;
  let seq = 0;
  const sleep: Sleep = (ms) =>
    new Promise<void>((wake) => push(queue, { at: current + Math.max(0, ms), seq: seq++, wake }));
  return {
    now: () => new Date(current),
    nowMs: () => current,
    sleep,
    async run(untilMs) {
      for (let head = queue[0]; head !== undefined && head.at <= untilMs; head = queue[0]) {
        current = head.at;
        // Wake everyone due now, then let the woken tasks run until each sleeps again: microtasks
        // all drain before a setImmediate callback, and the fakes never wait on real I/O.
        while (queue[0] !== undefined && queue[0].at === current) pop(queue)?.wake();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
}

const before = (a: Wakeup, b: Wakeup) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

function push(heap: Wakeup[], item: Wakeup): void {
  heap.push(item);
  for (let i = heap.length - 1; i > 0; ) {
    const parent = (i - 1) >> 1;
    const [p, c] = [heap[parent] as Wakeup, heap[i] as Wakeup];
    if (!before(c, p)) break;
    [heap[parent], heap[i]] = [c, p];
    i = parent;
  }
}

function pop(heap: Wakeup[]): Wakeup | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  heap[0] = last;
  for (let i = 0; ; ) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && before(heap[l] as Wakeup, heap[m] as Wakeup)) m = l;
    if (r < heap.length && before(heap[r] as Wakeup, heap[m] as Wakeup)) m = r;
    if (m === i) break;
    [heap[m], heap[i]] = [heap[i] as Wakeup, heap[m] as Wakeup];
    i = m;
  }
  return top;
}
