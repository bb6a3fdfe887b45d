import { describe, expect, it } from "vitest";
import { createBackoff } from "./backoff.js";

const take = (b: { next(): number }, n: number) => Array.from({ length: n }, () => b.next());

describe("createBackoff", () => {
  it("without jitter gives Go's 200 ms × 1.5 schedule", () => {
    expect(take(createBackoff({ maxMs: 60_000, jitter: false }), 6)).toEqual([
      200, 300, 450, 675, 1012.5, 1518.75,
    ]);
  });

  it("caps each delay at maxMs and stays there", () => {
    expect(take(createBackoff({ maxMs: 1000, jitter: false }), 7)).toEqual([
      200, 300, 450, 675, 1000, 1000, 1000,
    ]);
  });

  it("follows Go's nanosecond truncation (the reference's 58.4 s step)", () => {
    const delays = take(createBackoff({ maxMs: 60_000, jitter: false }), 16);
    // 200 × 1.5^14 = 58385.85205078125 ms; Go truncates to whole ns at every step.
    expect(delays[14]).toBe(58_385.852047);
    expect(delays[14]).toBeLessThan(200 * 1.5 ** 14);
    expect(delays[15]).toBe(60_000);
    for (const d of delays) expect(Number.isInteger(Math.round(d * 1e6))).toBe(true);
  });

  it("jitters into [0.5×, 1.5×) of the schedule with the injected random", () => {
    expect(take(createBackoff({ maxMs: 60_000, random: () => 0 }), 3)).toEqual([100, 150, 225]);
    const high = take(createBackoff({ maxMs: 60_000, random: () => 0.999999 }), 3);
    expect(high[0]).toBeCloseTo(300, 3);
    expect(high[2]).toBeCloseTo(675, 3);
    expect(take(createBackoff({ maxMs: 60_000, random: () => 0.5 }), 2)).toEqual([200, 300]);
  });

  it("never exceeds maxMs even with jitter", () => {
    const delays = take(createBackoff({ maxMs: 400, random: () => 0.999 }), 5);
    expect(delays[0]).toBeCloseTo(299.8, 6);
    expect(delays.slice(1)).toEqual([400, 400, 400, 400]);
  });

  it("jitters by default", () => {
    expect(createBackoff({ maxMs: 60_000, random: () => 0 }).next()).toBe(100);
  });

  it("takes another start and multiplier", () => {
    expect(take(createBackoff({ maxMs: 1e6, jitter: false, initialMs: 10, multiplier: 2 }), 3)).toEqual([
      10, 20, 40,
    ]);
  });
});
