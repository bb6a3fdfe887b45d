// Bundles the CLI into dist/bundle: one small chunk for the token-is-good path, the rest (Connect,
// protobuf, the dev server) in chunks loaded only when a refresh or a subcommand needs them.
// Startup cost is the product's cost on every machine, every ten minutes (see BENCHMARKS.md).
import { readFile, rm } from "node:fs/promises";
import { build } from "esbuild";

const here = new URL("..", import.meta.url).pathname;

const { version } = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));

await rm(new URL("../dist/bundle", import.meta.url), { recursive: true, force: true });

await build({
  absWorkingDir: here,
  entryPoints: { cli: "dist/cli.js" },
  outdir: "dist/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // yargs reads its locale files from its own folder, and @peculiar/x509 needs its reflect polyfill
  // loaded as a package: both stay regular dependencies.
  external: ["yargs", "yargs/*", "@peculiar/x509", "reflect-metadata"],
  chunkNames: "chunks/[name]-[hash]",
  // CommonJS dependencies bundled into ESM (socks) require Node's built-in modules.
  banner: {
    js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);',
  },
  legalComments: "none",
  // -version without reading package.json at run time (src/package-version.ts).
  define: { __TOKEND_PACKAGE_VERSION__: JSON.stringify(version) },
  logLevel: "warning",
});
