import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string, file: string) =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${file}.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, not dist (child-process CLI tests use the built bin).
    alias: [
      { find: /^@luci-machine-tokend\/core$/, replacement: src("core", "index") },
      { find: /^@luci-machine-tokend\/core\/gen$/, replacement: src("core", "gen") },
      { find: /^@luci-machine-tokend\/core\/internal$/, replacement: src("core", "internal") },
      {
        find: /^@luci-machine-tokend\/core\/protocol-prpc$/,
        replacement: src("core", "protocol-prpc/index"),
      },
      { find: /^@luci-machine-tokend\/dev-server$/, replacement: src("dev-server", "index") },
    ],
  },
  test: {
    // bench/: the fleet simulation's correctness test (its timing runs in `npm run bench` only).
    include: ["packages/*/src/**/*.test.ts", "bench/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // CI asks for a JSON report to print its closing "N passed, N failed" line.
    reporters: process.env.VITEST_JSON_REPORT ? ["default", "json"] : ["default"],
    outputFile: process.env.VITEST_JSON_REPORT ? { json: process.env.VITEST_JSON_REPORT } : undefined,
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**"],
      exclude: ["packages/*/src/gen/**", "**/*.test.ts"],
    },
  },
});
