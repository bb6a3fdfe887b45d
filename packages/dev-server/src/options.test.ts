import { describe, expect, it } from "vitest";
import { resolveOptions } from "./options.js";

describe("resolveOptions: connection timeouts", () => {
  it("lets a short request timeout alone bring the headers' timeout down with it", () => {
    expect(resolveOptions({ requestTimeoutMs: 5_000 })).toMatchObject({
      requestTimeoutMs: 5_000,
      headersTimeoutMs: 5_000,
    });
    expect(resolveOptions({})).toMatchObject({ requestTimeoutMs: 30_000, headersTimeoutMs: 10_000 });
  });

  it("still refuses headers given more time than the whole request", () => {
    expect(() => resolveOptions({ requestTimeoutMs: 5_000, headersTimeoutMs: 6_000 })).toThrow(
      "headersTimeoutMs (6000) must not exceed requestTimeoutMs (5000)",
    );
  });

  it("refuses a delay a Node timer cannot hold (it would fire after 1 ms)", () => {
    const month = 30 * 24 * 3_600_000;
    for (const key of ["idleTimeoutMs", "requestTimeoutMs"] as const) {
      expect(() => resolveOptions({ [key]: month })).toThrow(`${key} must be at most 2147483647 ms`);
    }
    expect(() => resolveOptions({ headersTimeoutMs: month, requestTimeoutMs: month })).toThrow(
      "must be at most 2147483647 ms",
    );
    expect(resolveOptions({ idleTimeoutMs: 2 ** 31 - 1 }).idleTimeoutMs).toBe(2 ** 31 - 1);
  });
});

describe("resolveOptions: the memory budget", () => {
  it("defaults to 64 MiB, or twice a larger request limit", () => {
    expect(resolveOptions({}).memoryBudgetBytes).toBe(64 << 20);
    expect(resolveOptions({ maxRequestBytes: 64 << 20 }).memoryBudgetBytes).toBe(128 << 20);
  });

  it("refuses a budget that could not hold a compressed request of the largest size", () => {
    expect(() => resolveOptions({ maxRequestBytes: 1 << 20, memoryBudgetBytes: (2 << 20) - 1 })).toThrow(
      "memoryBudgetBytes (2097151) must be at least twice maxRequestBytes (1048576)",
    );
    expect(() => resolveOptions({ memoryBudgetBytes: 0 })).toThrow(
      "memoryBudgetBytes must be a positive integer",
    );
  });
});
