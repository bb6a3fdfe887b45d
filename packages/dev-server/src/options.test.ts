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
