import { describe, expect, it } from "vitest";
import { useShortRunV8Flags } from "./short-run-v8-flags.js";

describe("useShortRunV8Flags", () => {
  it("sets the flags on the V8 they were measured on (Node 20's) only", () => {
    const set: string[] = [];
    expect(useShortRunV8Flags("11.3.244.8-node.38", (f) => set.push(f))).toBe(true);
    expect(set).toEqual([
      "--ticks-before-optimization=10",
      "--max-bytecode-size-for-early-opt=0",
      "--semi-space-growth-factor=1",
    ]);
    set.length = 0;
    expect(useShortRunV8Flags("12.4.254.21-node.33", (f) => set.push(f))).toBe(false);
    expect(set).toEqual([]);
  });
});
