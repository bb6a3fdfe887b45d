import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { loadedModules, packagesOf } from "./testing/loaded-modules.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** The npm packages and Node modules that importing a source entry point of core loads (through tsx). */
async function loadedBy(entry: string): Promise<{ packages: string[]; builtins: string[] }> {
  const url = pathToFileURL(fileURLToPath(new URL(entry, import.meta.url))).href;
  const run = await loadedModules(
    ["--import", "tsx", "--input-type=module", "-e", `await import(${JSON.stringify(url)});`],
    { cwd: ROOT },
  );
  expect([run.code, run.stderr.trim()]).toEqual([0, ""]);
  expect(run.urls).toContain(url);
  // What the entry point imports, not tsx (which the program loads first).
  const own = run.urls.slice(run.urls.indexOf(url));
  return { packages: packagesOf(own), builtins: own.filter((u) => u.startsWith("node:")) };
}

// Importing the package must cost little more than starting Node (bench/import-cost.ts): the
// protobuf and Connect runtimes load at the first mint, client call or token decode.
describe("core's entry points", () => {
  it.each(["./index.ts", "./internal.ts"])(
    "%s loads no npm package (no protobuf-es, no Connect), nor node:fs or node:module",
    async (entry) => {
      const loaded = await loadedBy(entry);
      expect(loaded.packages).toEqual([]);
      // An ES import of node:fs loads its stream classes; node:module the resolver and source maps.
      expect(loaded.builtins.filter((u) => u === "node:fs" || u === "node:module")).toEqual([]);
      expect(loaded.builtins).toContain("node:fs/promises"); // the check sees Node's modules
    },
  );

  it("./gen.ts loads protobuf-es (what the check above would see)", async () => {
    expect((await loadedBy("./gen.ts")).packages).toEqual(["@bufbuild/protobuf"]);
  });
});
