import type { Now } from "./clock.js";

/**
 * A signal that aborts at `deadline` (by `now`'s clock, measured from now on a real timer, which
 * does not keep the process alive) with a TimeoutError, or earlier when `signal` aborts: for
 * waits that take a signal, such as decrypting a key.
 */
export function deadlineSignal(deadline: Date, now: Now, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(Math.max(0, deadline.getTime() - now().getTime()));
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}
