import { describe, expect, it } from "vitest";
import { decodePrpcTimeout, encodePrpcTimeout } from "./timeout.js";

describe("encodePrpcTimeout", () => {
  it.each([
    [60_000, "60000000u"],
    [59_995, "59995000u"],
    [300_000, "300000m"],
    [299_990, "299990m"],
    [0, "0n"],
    [-5, "0n"],
    [0.000001, "1n"],
    [99.999999, "99999999n"], // 99,999,999 ns: the largest count in nanoseconds
    [100, "100000u"], // 100,000,000 ns no longer fits: microseconds
    [99_999.999, "99999999u"],
    [100_000, "100000m"],
    [99_999_999, "99999999m"],
    [100_000_000, "100000S"],
    [0.0000015, "2n"], // rounded up
    [60_000.0004, "60000001u"], // rounded up to the next microsecond
  ])("encodes %s ms as %s", (ms, text) => {
    expect(encodePrpcTimeout(ms)).toBe(text);
  });

  it("goes up to minutes and hours for very long timeouts", () => {
    expect(encodePrpcTimeout(99_999_999_001)).toBe("1666667M");
    expect(encodePrpcTimeout(6_000_000_000_000_001)).toMatch(/^\d{1,8}H$/);
  });
});

describe("decodePrpcTimeout", () => {
  it.each([
    ["60000000u", 60_000],
    ["300000m", 300_000],
    ["0n", 0],
    ["5S", 5000],
    ["2M", 120_000],
    ["1H", 3_600_000],
    ["1500n", 0.0015],
  ])("decodes %s as %s ms", (text, ms) => {
    expect(decodePrpcTimeout(text)).toEqual({ value: ms });
  });

  it.each(["", "5", "5s", "m", "-1m", "1.5S", " 1m", "1mm"])("rejects %j", (text) => {
    expect(decodePrpcTimeout(text).error).toMatch(/bad timeout format/);
  });

  it("round-trips with the encoder (never shorter than asked)", () => {
    for (const ms of [1, 250, 59_995.123, 60_000, 299_990, 86_400_000]) {
      const back = decodePrpcTimeout(encodePrpcTimeout(ms)).value ?? -1;
      expect(back).toBeGreaterThanOrEqual(ms);
      expect(back - ms).toBeLessThan(Math.max(0.001, ms * 1e-7) + 1e-9);
    }
  });
});
