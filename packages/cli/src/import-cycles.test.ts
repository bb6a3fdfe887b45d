import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const PACKAGES = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Relative imports and re-exports of each module: type-only ones, side-effect ones and dynamic
 * `import()` too (a lazy import in a circle is still a circle: the modules cannot be read, moved
 * or loaded apart).
 */
async function importGraph(src: string): Promise<Map<string, string[]>> {
  const entries = await readdir(src, { recursive: true });
  const files = entries.filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts")).map((f) => join(src, f));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = await readFile(file, "utf8");
    const specs = [
      ...text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+"(\.{1,2}\/[^"]+)\.js";/gm),
      ...text.matchAll(/^import\s+"(\.{1,2}\/[^"]+)\.js";/gm),
      ...text.matchAll(/\bimport\(\s*"(\.{1,2}\/[^"]+)\.js"\s*\)/g),
    ];
    graph.set(
      file,
      specs.map((m) => resolve(dirname(file), `${m[1]}.ts`)).filter((dep) => files.includes(dep)),
    );
  }
  return graph;
}

/** One cycle per strongly connected start found by a depth-first walk, as module paths. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    path.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (state.get(dep) === "open") found.push([...path.slice(path.indexOf(dep)), dep]);
      else if (!state.has(dep)) visit(dep);
    }
    path.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

describe("module imports", () => {
  it.each(["core", "dev-server", "cli"])(
    "%s has no import cycle, type-only and dynamic imports included",
    async (pkg) => {
      const src = join(PACKAGES, pkg, "src");
      const graph = await importGraph(src);
      expect(graph.size).toBeGreaterThan(20);
      expect(cycles(graph).map((c) => c.map((f) => relative(src, f)).join(" -> "))).toEqual([]);
    },
  );
});
