// Bundles the CLI into dist/bundle with every dependency inside (core, the dev server, Connect,
// protobuf, yargs, @peculiar/x509), so the published package installs alone: one small chunk for
// the token-is-good path, the rest in chunks loaded only when a refresh or a subcommand needs them.
// Startup cost is the product's cost on every machine, every ten minutes (see BENCHMARKS.md).
// Also writes dist/bundle/THIRD-PARTY-LICENSES.txt for the bundled packages.
import { readFile, rm, writeFile } from "node:fs/promises";
import { build } from "esbuild";
import { thirdPartyLicenses } from "./third-party-licenses.mjs";

const here = new URL("..", import.meta.url).pathname;

const { version } = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));

await rm(new URL("../dist/bundle", import.meta.url), { recursive: true, force: true });

const { metafile } = await build({
  absWorkingDir: here,
  // cli: the bin; index: the package's library entry (runTokend, main), sharing the chunks.
  entryPoints: { cli: "dist/cli.js", index: "dist/index.js" },
  outdir: "dist/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // platform "node" prefers each package's CommonJS "main": @peculiar/x509 and tsyringe then run
  // in import order, after the reflect-metadata polyfill that tsyringe checks for when it loads.
  // yargs reads no locale file here: the subcommands pin English (commands/yargs-program.ts).
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "none",
  // -version without reading package.json at run time (src/package-version.ts).
  define: { __TOKEND_PACKAGE_VERSION__: JSON.stringify(version) },
  metafile: true,
  logLevel: "warning",
});

await writeFile(
  new URL("../dist/bundle/THIRD-PARTY-LICENSES.txt", import.meta.url),
  await thirdPartyLicenses(metafile, here),
);
