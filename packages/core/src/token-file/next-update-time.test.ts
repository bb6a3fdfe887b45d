import { describe, expect, it } from "vitest";
import { MIN_TOKEN_LIFETIME_MS, nextUpdateTime } from "./next-update-time.js";

const at = (s: number) => new Date(s * 1000);

describe("nextUpdateTime", () => {
  it("schedules the refresh at half the remaining lifetime", () => {
    expect(nextUpdateTime(at(1422936306), at(1422939906))).toEqual({
      nextUpdate: 1422938106n,
      lifetimeMs: 3_600_000,
      clamped: false,
    });
  });

  it("truncates to whole seconds (the reference example: minted at .5 s)", () => {
    // now = 1422936306.5, expiry = 1422939906: lifetime 3599.5 s, next = now + 1799.75 s = …8106.25
    const r = nextUpdateTime(at(1422936306.5), at(1422939906));
    expect(r.lifetimeMs).toBe(3_599_500);
    expect(r.nextUpdate).toBe(1422938106n);
    expect(nextUpdateTime(at(100.999), at(102.997)).nextUpdate).toBe(250n); // 250.999 s, clamped
  });

  it("raises a lifetime under 5 minutes to 5 minutes (next = now + 2.5 min)", () => {
    const r = nextUpdateTime(at(1000), at(1000 + 299));
    expect(r).toEqual({ nextUpdate: 1150n, lifetimeMs: MIN_TOKEN_LIFETIME_MS, clamped: true });
    expect(MIN_TOKEN_LIFETIME_MS).toBe(300_000);
  });

  it("keeps exactly 5 minutes as is", () => {
    expect(nextUpdateTime(at(1000), at(1300))).toEqual({
      nextUpdate: 1150n,
      lifetimeMs: 300_000,
      clamped: false,
    });
  });

  it("uses the floor for an expiry already in the past", () => {
    expect(nextUpdateTime(at(1000), at(10))).toEqual({
      nextUpdate: 1150n,
      lifetimeMs: 300_000,
      clamped: true,
    });
  });

  // Observed with the reference binary: expiry 4102444800 minted at 1796056093 → next_update 2949250446.
  it("halves a long lifetime as Go does", () => {
    expect(nextUpdateTime(at(1796056093), at(4102444800)).nextUpdate).toBe(2949250446n);
  });

  // Go's expiry.Sub(now) saturates at 2^63 − 1 ns (~292 years): the reference binary scheduled an
  // expiry in the year 10000 at now + 146 years.
  it("caps the lifetime at Go's longest Duration", () => {
    const r = nextUpdateTime(at(1796056094), at(253402300799));
    expect(r.nextUpdate).toBe(6407742112n);
    expect(r.clamped).toBe(false);
  });
});
