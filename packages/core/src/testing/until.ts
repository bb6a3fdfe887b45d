/** Resolves once `done()` holds, checking every 10 ms; rejects after `ms`. */
export async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`still not done after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
