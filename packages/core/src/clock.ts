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

/** The real monotonic clock (performance.now: sub-microsecond, immune to wall-clock steps). */
export const systemMonotonic: Monotonic = () => performance.now();

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
