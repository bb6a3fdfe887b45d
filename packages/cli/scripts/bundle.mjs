// Bundles the CLI into dist/bundle with every dependency inside (core, the dev server, Connect,
// protobuf, yargs, @peculiar/x509), so the published package installs alone. Two forms: the bin's
// run.cjs (the tokend run as one CommonJS file, which a V8 code cache can serve, see runBundle),
// and ES modules (the library entry and the subcommands): one small chunk for the token-is-good
// path, the rest in chunks loaded only when a refresh or a subcommand needs them.
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

/** The subcommands, each also an entry of the ES module bundle (tsc has built dist/ before this runs). */
const { SUBCOMMAND_NAMES: SUBCOMMANDS } = await import("../dist/subcommand-names.js");

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
  plugins: [coreModules()],
};

/** Core modules whose `import("./x.js")` the CLI's bundle makes static (see coreModules). */
const LAZY_IN_CORE_STATIC_IN_CLI = [
  "mint-token.js",
  "token-minter-client.js",
  "decode-machine-token.js",
  "verify-machine-token.js",
  "machine-token-interceptor.js",
];

/**
 * Resolves `@luci-machine-tokend/core[/subpath]` to core's tsc output rather than to the chunks
 * core ships (dist/bundle): esbuild then splits at module level, and the token-is-good chunks
 * take only the modules that run there.
 */
function coreModules() {
  const core = new URL("../../core/", import.meta.url);
  return {
    name: "core-modules",
    setup(b) {
      b.onResolve({ filter: /^@luci-machine-tokend\/core(\/[a-z-]+)?$/ }, async (args) => {
        const { exports } = JSON.parse(await readFile(new URL("package.json", core), "utf8"));
        const target = exports[`.${args.path.slice("@luci-machine-tokend/core".length)}`]?.default;
        if (typeof target !== "string") return { errors: [{ text: `core exports no ${args.path}` }] };
        return { path: new URL(target.replace("./dist/bundle/", "dist/"), core).pathname };
      });
      // The lazy imports of these core modules made static: the CLI's chunks that use them are
      // lazy already (the engine's mint-and-save, the inspect subcommand), and one boundary
      // instead of two keeps the refresh path to two chunks. The engine's own boundary and the
      // Connect Node transport's stay lazy: the token-is-good run and pRPC load neither.
      const names = LAZY_IN_CORE_STATIC_IN_CLI.map((n) => n.replace(".", "\\."));
      const filter = new RegExp(`/core/dist/(?:[\\w-]+/)*(?:${names.join("|")})$`);
      b.onLoad({ filter }, async (args) => {
        const text = await readFile(args.path, "utf8");
        const imports = [];
        const contents = text.replace(/\bimport\(("\.{1,2}\/[\w/-]+\.js")\)/g, (_, spec) => {
          imports.push(`import * as lazy${imports.length} from ${spec};`);
          return `Promise.resolve(lazy${imports.length - 1})`;
        });
        if (imports.length === 0)
          return {
            errors: [{ text: `${args.path}: expecting a lazy import("./module.js") to make static` }],
          };
        return {
          contents: `${imports.join("\n")}\n${contents}`,
          loader: "js",
          resolveDir: dirname(args.path),
        };
      });
    },
  };
}

/**
 * Makes every module loaded by a dynamic import() (and the library and subcommand entries) also import the CLI's
 * start path (dist/main.js), which a run has always loaded before any of them. esbuild puts
 * modules in one chunk when the same entries reach them; without this, the start path's modules
 * are reached by different sets of lazy chunks and split into a dozen small chunks, each one more
 * module to resolve, link and compile at every start (BENCHMARKS.md: 12 chunks → 2).
 */
function oneStartChunk() {
  const main = new URL("../dist/main.js", import.meta.url).pathname;
  const index = new URL("../dist/index.js", import.meta.url).pathname;
  // Entries are loaded before the dynamic imports that also reach the subcommands are resolved.
  const subcommands = SUBCOMMANDS.map(
    (name) => new URL(`../dist/commands/${name}.js`, import.meta.url).pathname,
  );
  const lazy = new Set([index, ...subcommands]);
  return {
    name: "one-start-chunk",
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== "dynamic-import" || args.pluginData === "one-start-chunk") return undefined;
        const resolved = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: "one-start-chunk",
        });
        if (!resolved.errors.length && resolved.path.endsWith(".js")) lazy.add(resolved.path);
        return resolved;
      });
      b.onLoad({ filter: /\/(cli|core)\/dist\/.*\.js$/ }, async (args) => {
        if (!lazy.has(args.path) || args.path === main) return undefined;
        const text = await readFile(args.path, "utf8");
        return {
          contents: `import ${JSON.stringify(main)};\n${text}`,
          loader: "js",
          resolveDir: dirname(args.path),
        };
      });
    },
  };
}

// The bundled CommonJS packages require() only Node's own modules (`net`, `events`, `stream`,
// `buffer`), so this require needs no createRequire: importing node:module into every chunk cost
// the token-is-good run ~2 ms of start-up (it loads the ES module resolver and source maps).
const REQUIRE_BANNER =
  "const require = (id) => { const m = process.getBuiltinModule(id); if (m === undefined) throw new Error('the bundle cannot require ' + id); return m; };";

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
    // cli: the CLI as ES modules; index: the package's library entry (runTokend, main); the
    // subcommands at fixed names, for the run bundle to import (see runBundle); all sharing chunks.
    entryPoints: {
      cli: "dist/cli.js",
      index: "dist/index.js",
      ...Object.fromEntries(SUBCOMMANDS.map((name) => [`commands/${name}`, `dist/commands/${name}.js`])),
    },
    outdir: "dist/bundle",
    splitting: true,
    format: "esm",
    chunkNames: "chunks/[name]-[hash]",
    plugins: [...common.plugins, oneStartChunk()],
    // Bundled CommonJS packages may require() Node's modules (socks' `net`, `events`), which an ES
    // module output can only do through a require of its own.
    banner: { js: REQUIRE_BANNER },
    metafile: true,
  });
  await writeFile(
    new URL("../dist/bundle/THIRD-PARTY-LICENSES.txt", import.meta.url),
    await thirdPartyLicenses(metafile, here),
  );
  // Node resolves each import of a chunk by walking up to the nearest package.json, converting a
  // URL to a path at every level: with this one beside the chunks, one level. Start-up runs a
  // dozen chunks; four levels each made fileURLToPath hot enough for TurboFan to compile it
  // (`--trace-opt`), which pages in 3.6 MiB of the compiler (token-is-good peak RSS 46 → 51 MiB).
  await writeFile(new URL("../dist/bundle/chunks/package.json", import.meta.url), '{ "type": "module" }\n');
  await runBundle();
}

/**
 * What the bin runs (src/code-cached-start.ts): dist/bundle/start.cjs, which compiles
 * dist/bundle/run.cjs, the tokend run as one CommonJS file, with the V8 code cache that
 * scripts/train-code-cache.mjs makes. Node 20 caches no ES module's compiled code; a CommonJS
 * file compiled through node:vm can use one. The subcommands are left out of run.cjs: each is
 * imported, when named, from the ES module bundle (dist/bundle/commands/NAME.js).
 */
async function runBundle() {
  const cjs = {
    ...common,
    format: "cjs",
    // Minified, as for the single executable: V8 reads less (400 KB, not 830), and an HTTPS
    // refresh peaks ~3 MiB lower (57.8 vs 61.1 MiB, BENCHMARKS.md round 3).
    minify: true,
    lineLimit: 160,
    keepNames: true,
  };
  const { outputFiles } = await build({
    ...cjs,
    entryPoints: ["dist/cli.js"],
    outfile: "dist/bundle/run.cjs",
    define: { ...common.define, "import.meta.url": "__tokendModuleUrl" },
    banner: { js: 'const __tokendModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [...common.plugins, subcommandsFromEsmBundle()],
    // The map stays out of the package (dist/run.cjs.map): tests map what ran back to modules.
    sourcemap: "external",
    write: false,
  });
  for (const out of outputFiles) {
    await writeFile(out.path.endsWith(".map") ? resolve(here, "dist/run.cjs.map") : out.path, out.contents);
  }
  await build({ ...cjs, entryPoints: ["dist/code-cached-start.js"], outfile: "dist/bundle/start.cjs" });
}

/** In run.cjs, each `import("./commands/NAME.js")` of main.js loads dist/bundle/commands/NAME.js. */
function subcommandsFromEsmBundle() {
  return {
    name: "subcommands-from-esm-bundle",
    setup(b) {
      b.onResolve({ filter: /^\.\/commands\/[\w-]+\.js$/ }, (args) =>
        args.importer.endsWith("/dist/main.js")
          ? { path: args.path, namespace: "esm-subcommand" }
          : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: "esm-subcommand" }, (args) => ({
        // __tokendImportEsm: given by the loader (src/code-cached-start.ts), which can import().
        contents: `export const run = (argv, io) =>
  __tokendImportEsm(new URL(${JSON.stringify(args.path)}, __tokendModuleUrl).href).then((m) => m.run(argv, io));`,
        loader: "js",
      }));
    },
  };
}
