/** Returns the current time. Injected so tests and simulations control it. */
export type Now = () => Date;

/** Waits `ms` milliseconds; rejects with the signal's reason when it is aborted first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Returns a number in [0, 1), like Math.random. */
export type Random = () => number;

/**
 * Milliseconds (with a fraction) since an arbitrary origin, never going back: measures durations,
 * while {@link Now} dates events and drives decisions.
 */
export type Monotonic = () => number;

/**
 * The real monotonic clock (nanosecond resolution, immune to wall-clock steps). process.hrtime
 * rather than performance.now: Node 20 loads its perf_hooks modules at the first touch of the
 * `performance` global, ~2 ms of every run's start-up.
 */
export const systemMonotonic: Monotonic = () => {
  const [seconds, nanos] = process.hrtime();
  return seconds * 1e3 + nanos / 1e6;
};

/** The real wall clock. */
export const systemNow: Now = () => new Date();

/** A real timer-based sleep that honours an AbortSignal. */
export const systemSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
