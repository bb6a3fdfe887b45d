// Bundles the package's entry points (the JavaScript its exports map names under dist/bundle) from
// tsc's output with esbuild: one file per entry point plus shared chunks, dependencies left as
// imports, each module still loaded on the path that needs it (the dynamic imports of protobuf-es
// and Connect become chunks of their own). Types stay tsc's declarations in dist/.
//
// Why: Node loads an ES module graph file by file, and the package root is some 30 small modules.
// Imported one by one they cost 1.25× bare Node's peak RSS (49 vs 40 MiB) against 1.11× as a few
// chunks, with the same code loaded (bench/import-cost.ts; issue #13 asks ≤ 1.2×).
//
// Usage: node scripts/bundle.mjs   (after tsc -b; from any directory)
import { readFile, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { build } from "esbuild";

const dir = new URL("..", import.meta.url).pathname;
const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));

/** dist/bundle/x.js of each exports entry (its `default`), built from tsc's dist/x.js. */
const entryPoints = Object.values(pkg.exports)
  .map((entry) => entry.default)
  .filter((target) => typeof target === "string" && target.startsWith("./dist/bundle/"))
  .map((target) => target.replace("./dist/bundle/", "dist/"));

await rm(new URL("../dist/bundle", import.meta.url), { recursive: true, force: true });
await build({
  absWorkingDir: dir,
  entryPoints,
  outbase: "dist",
  outdir: "dist/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "none",
  logLevel: "warning",
  plugins: [engineMintStatic()],
});
// Node resolves each import by walking up to the nearest package.json: with one beside the entry
// points and one beside the chunks, one level instead of three. The root imports a dozen chunks;
// enough walking makes Node's fileURLToPath hot, and TurboFan compiling it pages in 3.6 MiB of the
// compiler (seen with `--trace-opt`: peak RSS 1.13× → 1.25× bare Node).
for (const dir of ["../dist/bundle/", "../dist/bundle/chunks/"]) {
  await writeFile(new URL(`${dir}package.json`, import.meta.url), '{ "type": "module" }\n');
}

/**
 * The engine's lazy import of its mint half (dist/engine/run-token-update.js) made static in this
 * bundle: the package root reaches every module that half imports anyway (the mint's own heavy
 * parts stay lazy in mint-token and token-minter-client), so the boundary only splits the root's
 * chunks: 16 files instead of 13 at import, and with them enough path handling for TurboFan to
 * compile it (+4 MiB peak RSS, bench/import-cost.ts). The CLI's bundle keeps it lazy: there the
 * token-is-good run does not reach the mint.
 */
function engineMintStatic() {
  return {
    name: "engine-mint-static",
    setup(b) {
      b.onLoad({ filter: /\/dist\/engine\/run-token-update\.js$/ }, async (args) => {
        const text = await readFile(args.path, "utf8");
        const lazy = 'import("./mint-and-save.js")';
        if (!text.includes(lazy)) return { errors: [{ text: `${args.path}: expecting ${lazy}` }] };
        const contents = `import * as mintAndSaveModule from "./mint-and-save.js";\n${text.replace(lazy, "Promise.resolve(mintAndSaveModule)")}`;
        return { contents, loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
}
