import { describe, expect, it } from "vitest";
import { formatGoDuration, parseGoDuration } from "./go-duration.js";

describe("formatGoDuration", () => {
  it.each([
    [60_000, "1m0s"],
    [500, "500ms"],
    [1500, "1.5s"],
    [59_995.12, "59.99512s"],
    [0, "0s"],
    [3_600_000, "1h0m0s"],
    [0.002, "2µs"],
    [0.0015, "1.5µs"],
    [0.000001, "1ns"],
    [90_000, "1m30s"],
    [1012.5, "1.0125s"],
    [200, "200ms"],
    [5_430_000.25, "1h30m30.00025s"],
    [-2000, "-2s"],
    [-0.5, "-500µs"],
  ])("formats %s ms as %s", (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });
});

describe("parseGoDuration", () => {
  it.each([
    ["60s", 60_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["1.5h", 5_400_000],
    ["-2s", -2000],
    ["+3s", 3000],
    ["0", 0],
    ["-0", 0],
    ["1m0s", 60_000],
    ["2µs", 0.002],
    ["2μs", 0.002],
    ["2us", 0.002],
    ["7ns", 0.000007],
    [".5s", 500],
    ["1.s", 1000],
    ["1h2m3s4ms", 3_723_004],
  ])("parses %s as %s ms", (text, ms) => {
    expect(parseGoDuration(text)).toEqual({ value: ms });
  });

  it.each(["5", "abc", "1x", "", "-", "s", ".s", "1.2.3s", "1s2", " 1s", "1 s"])("rejects %j", (text) => {
    const r = parseGoDuration(text);
    expect(r.value).toBeUndefined();
    expect(r.error).toMatch(/^time: /);
  });

  it("words errors like Go", () => {
    expect(parseGoDuration("5").error).toBe('time: missing unit in duration "5"');
    expect(parseGoDuration("1s2").error).toBe('time: missing unit in duration "1s2"');
    expect(parseGoDuration("abc").error).toBe('time: invalid duration "abc"');
    expect(parseGoDuration("1x").error).toBe('time: unknown unit "x" in duration "1x"');
  });

  // Accepted or refused exactly as the Go binary's -timeout flag does (checked side by side).
  it.each([
    ["9223372036854775807ns", 9_223_372_036_854.775],
    ["-9223372036854775808ns", -9_223_372_036_854.775],
    ["2562047h47m16.854775807s", 9_223_372_036_854.775],
    ["-2562047h47m16.854775808s", -9_223_372_036_854.775],
    ["1ms1s", 1001],
    ["1m1m", 120_000],
    ["00000000000000000000000000000000001s", 1000],
    ["1h2m3s4ms5us6ns", 3_723_004.005006],
    ["-0s", 0],
  ])("accepts Go's edge case %s", (text, ms) => {
    expect(parseGoDuration(text)).toEqual({ value: ms });
  });

  it.each([
    "9223372036854775808ns",
    "-9223372036854775809ns",
    "2562047h47m16.854775808s",
    "2562048h",
    "99999999999999999999ns",
    "00",
    "0.0",
    "1e3s",
    "1S",
    "1_0s",
    "1..5s",
    "--1s",
    "+-1s",
  ])("refuses %j like Go", (text) => {
    expect(parseGoDuration(text).error).toMatch(/^time: /);
  });

  it("truncates fractions to whole nanoseconds like Go", () => {
    expect(parseGoDuration("0.9ns")).toEqual({ value: 0 });
    expect(parseGoDuration("1.0000000001s")).toEqual({ value: 1000 });
    expect(parseGoDuration("1.5ns")).toEqual({ value: 0.000001 });
  });

  it("quotes the text in errors like Go's time package", () => {
    expect(parseGoDuration("1..5s").error).toBe('time: missing unit in duration "1..5s"');
    expect(parseGoDuration('1"\\é').error).toBe(
      'time: unknown unit "\\"\\\\\\xc3\\xa9" in duration "1\\"\\\\\\xc3\\xa9"',
    );
    expect(parseGoDuration("\n").error).toBe('time: invalid duration "\\x0a"');
  });

  it("round-trips what formatGoDuration writes", () => {
    for (const ms of [1, 200, 1012.5, 60_000, 59_995.12, 3_600_000, 86_400_000]) {
      expect(parseGoDuration(formatGoDuration(ms)).value).toBeCloseTo(ms, 9);
    }
  });
});
