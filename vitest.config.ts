import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

const src = (pkg: string, file: string) =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${file}.ts`, import.meta.url));

// bench/: the fleet simulation's correctness test (its timing runs in `npm run bench` only).
const TESTS = ["packages/*/src/**/*.test.ts", "bench/**/*.test.ts"];

/**
 * With the single executable built (`npm run sea`, which `npm test` runs), the CLI's e2e files run
 * a second time, against it (testing/run-cli.ts reads TOKEND_CLI). One older than the last build
 * is left out, with a note.
 */
function singleExecutableProjects(): TestProjectInlineConfiguration[] | undefined {
  const at = (path: string) => fileURLToPath(new URL(path, import.meta.url));
  const sea = at(`./dist-sea/luci_machine_tokend-${process.platform}-${process.arch}`);
  if (!existsSync(sea)) return undefined;
  const bundle = at("./packages/cli/dist/bundle/cli.js");
  if (existsSync(bundle) && statSync(sea).mtimeMs < statSync(bundle).mtimeMs) {
    console.log(`${sea} is older than the build: not tested (npm run sea rebuilds it)`);
    return undefined;
  }
  const e2e = "packages/cli/src/e2e";
  return [
    {
      extends: true,
      test: {
        name: "npm",
        include: TESTS,
        exclude: [...configDefaults.exclude, `${e2e}/single-executable.e2e.test.ts`],
      },
    },
    {
      extends: true,
      test: {
        name: "single executable",
        include: [
          `${e2e}/{cli,flags,network,faults,ts-mon,single-executable}.e2e.test.ts`,
          `${e2e}/differential/*.e2e.test.ts`,
        ],
        env: { TOKEND_CLI: sea },
      },
    },
  ];
}

const seaProjects = singleExecutableProjects();

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
      { find: /^@luci-machine-tokend\/core\/net$/, replacement: src("core", "net/index") },
      { find: /^@luci-machine-tokend\/core\/ts-mon$/, replacement: src("core", "ts-mon") },
      { find: /^@luci-machine-tokend\/dev-server$/, replacement: src("dev-server", "index") },
    ],
  },
  test: {
    // Projects inherit this config, arrays included, so `include` is set per project when there are two.
    ...(seaProjects ? { projects: seaProjects } : { include: TESTS }),
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
