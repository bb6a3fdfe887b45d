/** Whole microseconds between two Monotonic readings in ms (truncated, as Go's Duration/µs; never negative). */
export function microsSince(startMs: number, endMs: number): number {
  return Math.max(0, Math.floor((endMs - startMs) * 1000));
}
