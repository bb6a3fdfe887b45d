import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { restoreV8FlagDefaults, useShortRunV8Flags } from "./short-run-v8-flags.js";

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

  it("puts V8 11.3's own values back (what the code cache's training needs)", () => {
    const set: string[] = [];
    restoreV8FlagDefaults("11.3.244.8-node.38", (f) => set.push(f));
    expect(set).toEqual([
      "--ticks-before-optimization=3",
      "--max-bytecode-size-for-early-opt=81",
      "--semi-space-growth-factor=2",
    ]);
    // They are this V8's defaults: `node --v8-options` lists them.
    if (/^11\.3\./.test(process.versions.v8)) {
      const options = execFileSync(process.execPath, ["--v8-options"], { encoding: "utf8" });
      for (const flag of set) expect(options).toContain(`default: ${flag}`);
    }
    set.length = 0;
    restoreV8FlagDefaults("12.4.254.21-node.33", (f) => set.push(f));
    expect(set).toEqual([]);
  });
});
