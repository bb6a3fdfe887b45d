// Bundles the CLI into dist/bundle with every dependency inside (core, the dev server, Connect,
// protobuf, yargs, @peculiar/x509), so the published package installs alone: one small chunk for
// the token-is-good path, the rest in chunks loaded only when a refresh or a subcommand needs them.
// Startup cost is the product's cost on every machine, every ten minutes (see BENCHMARKS.md).
// Also writes dist/bundle/THIRD-PARTY-LICENSES.txt for the bundled packages.
//
// `node scripts/bundle.mjs --cjs FILE` instead writes the bin as one CommonJS file (what a Node
// single executable application embeds, see build-sea.mjs), minified, with the licences beside it
// in THIRD-PARTY-LICENSES.txt; dist/bundle is left alone.
import { readFile, rm, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { build } from "esbuild";
import { thirdPartyLicenses } from "./third-party-licenses.mjs";

const here = new URL("..", import.meta.url).pathname;

const { version } = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));

const common = {
  absWorkingDir: here,
  bundle: true,
  platform: "node",
  target: "node20",
  // platform "node" prefers each package's CommonJS "main": @peculiar/x509 and tsyringe then run
  // in import order, after the reflect-metadata polyfill that tsyringe checks for when it loads.
  // yargs reads no locale file here: the subcommands pin English (commands/yargs-program.ts).
  legalComments: "none",
  // -version without reading package.json at run time (src/package-version.ts).
  define: { __TOKEND_PACKAGE_VERSION__: JSON.stringify(version) },
  logLevel: "warning",
};

const REQUIRE_BANNER =
  'import { createRequire as __tokendCreateRequire } from "node:module";\nconst require = __tokendCreateRequire(import.meta.url);';

const cjsAt = process.argv.indexOf("--cjs");
if (cjsAt >= 0) {
  const outfile = resolve(process.argv[cjsAt + 1] ?? "luci-machine-tokend.cjs");
  const { metafile } = await build({
    ...common,
    entryPoints: ["dist/cli.js"],
    outfile,
    format: "cjs",
    // One file holds every chunk, so V8 compiles all of it at start: minified (1.9 → 0.9 MB) it
    // starts ~10 ms sooner with ~2 MiB less peak RSS (BENCHMARKS.md). lineLimit: an uncaught error
    // quotes one short source line; keepNames: error and class names stay as in the npm bundle.
    minify: true,
    lineLimit: 160,
    keepNames: true,
    // yargs and the demo locate files from import.meta.url, which CommonJS spells __filename.
    define: { ...common.define, "import.meta.url": "__tokendModuleUrl" },
    banner: { js: 'const __tokendModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
    metafile: true,
  });
  await writeFile(
    resolve(dirname(outfile), "THIRD-PARTY-LICENSES.txt"),
    await thirdPartyLicenses(metafile, here),
  );
} else {
  await rm(new URL("../dist/bundle", import.meta.url), { recursive: true, force: true });
  const { metafile } = await build({
    ...common,
    // cli: the bin; index: the package's library entry (runTokend, main), sharing the chunks.
    entryPoints: { cli: "dist/cli.js", index: "dist/index.js" },
    outdir: "dist/bundle",
    splitting: true,
    format: "esm",
    chunkNames: "chunks/[name]-[hash]",
    // Bundled CommonJS packages may require() Node's modules (socks' `net`, `events`), which an ES
    // module output can only do through a require of its own.
    banner: { js: REQUIRE_BANNER },
    metafile: true,
  });
  await writeFile(
    new URL("../dist/bundle/THIRD-PARTY-LICENSES.txt", import.meta.url),
    await thirdPartyLicenses(metafile, here),
  );
}
