import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const PACKAGES = fileURLToPath(new URL("../../..", import.meta.url));

/** The run's steps that only the engine (src/engine) may take. */
const ENGINE_ONLY = ["acquireRunLock", "decideUpdateReason", "mintToken"];

/** Shipped sources of every package: no tests, no test helpers. */
async function shippedSources(): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for (const pkg of await readdir(PACKAGES)) {
    const src = join(PACKAGES, pkg, "src");
    const files = await readdir(src, { recursive: true }).catch(() => []);
    for (const file of files) {
      if (!file.endsWith(".ts") || file.endsWith(".test.ts") || /(^|\/)(testing|e2e)\//.test(file)) continue;
      const text = await readFile(join(src, file), "utf8");
      // Comments may name them ({@link mintToken}); only code counts.
      sources.set(join(pkg, "src", file), text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""));
    }
  }
  return sources;
}

describe("one engine", () => {
  it.each(ENGINE_ONLY)(
    "%s is called in exactly one place of shipped code, in core's engine",
    async (name) => {
      const sources = await shippedSources();
      expect(sources.size).toBeGreaterThan(100);
      const calls: string[] = [];
      const importers: string[] = [];
      for (const [file, code] of sources) {
        const called = code.match(new RegExp(`(?<!function )\\b${name}\\(`, "g"));
        for (const _ of called ?? []) calls.push(file);
        // An alias would hide a call: only the engine and the entry points that re-export it import it.
        const imported = new RegExp(`import\\s*\\{[^}]*\\b${name}\\b[^}]*\\}\\s*from`).test(code);
        if (imported) importers.push(file);
      }
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatch(/^core\/src\/engine\//);
      expect(importers.every((f) => f.startsWith("core/src/engine/"))).toBe(true);
    },
  );
});
