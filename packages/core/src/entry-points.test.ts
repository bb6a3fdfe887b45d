import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { loadedModules, packagesOf } from "./testing/loaded-modules.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** The npm packages that importing a source entry point of core loads (through tsx). */
async function packagesLoadedBy(entry: string): Promise<string[]> {
  const url = pathToFileURL(fileURLToPath(new URL(entry, import.meta.url))).href;
  const run = await loadedModules(
    ["--import", "tsx", "--input-type=module", "-e", `await import(${JSON.stringify(url)});`],
    { cwd: ROOT },
  );
  expect([run.code, run.stderr.trim()]).toEqual([0, ""]);
  expect(run.urls).toContain(url);
  // What the entry point imports, not tsx (which the program loads first).
  return packagesOf(run.urls.slice(run.urls.indexOf(url)));
}

// Importing the package must cost little more than starting Node (bench/import-cost.ts): the
// protobuf and Connect runtimes load at the first mint, client call or token decode.
describe("core's entry points", () => {
  it.each(["./index.ts", "./internal.ts"])(
    "%s loads no npm package (no protobuf-es, no Connect)",
    async (entry) => {
      expect(await packagesLoadedBy(entry)).toEqual([]);
    },
  );

  it("./gen.ts loads protobuf-es (what the check above would see)", async () => {
    expect(await packagesLoadedBy("./gen.ts")).toEqual(["@bufbuild/protobuf"]);
  });
});
