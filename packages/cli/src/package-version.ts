/** Set by scripts/bundle.mjs (esbuild `define`) from package.json, so the bundle reads no file. */
declare const __TOKEND_PACKAGE_VERSION__: string | undefined;

/**
 * This package's version, for `-version`. The bundle has it built in; unbundled code (tsc output,
 * tests) reads package.json beside `src`/`dist`, only when asked.
 */
export function packageVersion(): string {
  if (typeof __TOKEND_PACKAGE_VERSION__ === "string") return __TOKEND_PACKAGE_VERSION__;
  // Not a static import of node:fs: in an ES module that loads fs's stream classes at start-up.
  const { readFileSync } = process.getBuiltinModule("node:fs");
  const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}
