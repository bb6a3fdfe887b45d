import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { calcDigest } from "@luci-machine-tokend/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importsOf, npmInstall, type PackedTarball, packWorkspaces, ROOT } from "../testing/npm-pack.js";
import { runProgram } from "../testing/run-cli.js";

const PACKAGES = ["@luci-machine-tokend/core", "@luci-machine-tokend/dev-server", "luci-machine-tokend"];

/** Uses every entry point; the same lines as ESM (`import`) and CommonJS (`require`). */
const USE = `
const digest = core.calcDigest({ a: "b" });
const duration = offline.formatGoDuration(core.parseGoDuration("1m30s").value);
const pki = await devServer.createTestPki({ fqdn: "bot-1.example.com" });
const server = await devServer.startDevServer({
  caCertificates: [pki.caCertPem],
  domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
  grpcPort: false,
});
await server.close();
console.log(JSON.stringify({ digest, duration, backend: /^127\\.0\\.0\\.1:\\d+$/.test(server.backend), runTokend: typeof cli.runTokend }));
`;

const ESM = `import * as core from "@luci-machine-tokend/core";
import * as offline from "@luci-machine-tokend/core/offline";
import * as devServer from "@luci-machine-tokend/dev-server";
import * as cli from "luci-machine-tokend";
${USE}`;

const CJS = `const core = require("@luci-machine-tokend/core");
const offline = require("@luci-machine-tokend/core/offline");
const devServer = require("@luci-machine-tokend/dev-server");
const cli = require("luci-machine-tokend");
(async () => {${USE}})();`;

/** Typed uses of each entry point; `@ts-expect-error` fails if a type resolved to `any`. */
const TYPED = `import { calcDigest, parseGoDuration, type StatusReport } from "@luci-machine-tokend/core";
import { decideUpdateReason, type UpdateReason } from "@luci-machine-tokend/core/offline";
import { type DevServer, startDevServer } from "@luci-machine-tokend/dev-server";
import { runTokend, type TokendOptions } from "luci-machine-tokend";

export const digest: string = calcDigest({ a: "b" });
export const reason: UpdateReason = decideUpdateReason({ token: undefined, state: undefined, inputsDigest: digest, now: new Date() });
export const start: () => Promise<DevServer> = startDevServer;
export const run: (options: TokendOptions) => Promise<StatusReport> = runTokend;
// @ts-expect-error a duration is not a string
export const wrong: string = parseGoDuration("1s").value;
`;

/** How consumers set up TypeScript: Node's own resolution (two generations) and bundlers. */
const TS_SETUPS: Record<string, { module: string; moduleResolution: string }> = {
  node16: { module: "node16", moduleResolution: "node16" },
  nodenext: { module: "nodenext", moduleResolution: "nodenext" },
  bundler: { module: "esnext", moduleResolution: "bundler" },
};

// The three packages packed, installed together into a new project, and used there as ES module,
// CommonJS and TypeScript consumers would.
describe("library consumers of the packed packages", () => {
  let app: string;
  let tarballs: PackedTarball[];
  const node = (file: string) => runProgram([process.execPath, file], [], { cwd: app });

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), "tokend-consumer-"));
    tarballs = await packWorkspaces(PACKAGES, app);
    await writeFile(
      join(app, "package.json"),
      '{ "name": "consumer", "version": "1.0.0", "private": true }\n',
    );
    await npmInstall(
      tarballs.map((t) => t.path),
      app,
    );
  }, 120_000);
  afterAll(() => rm(app, { recursive: true, force: true }));

  it("ship README, LICENSE, exact versions, every import declared and nothing unused, no source maps", async () => {
    for (const tarball of tarballs) {
      const dir = join(app, "node_modules", tarball.name);
      const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
      expect(tarball.files).toEqual(expect.arrayContaining(["README.md", "LICENSE", "package.json"]));
      expect(tarball.files.filter((f) => f.endsWith(".map"))).toEqual([]);
      const declared = { ...pkg.dependencies, ...pkg.peerDependencies } as Record<string, string>;
      for (const [name, version] of Object.entries(declared))
        expect([name, version]).toEqual([name, expect.stringMatching(/^\d+\.\d+\.\d+$/)]);
      // The CommonJS twins import twins: a `.d.cts` importing a `.js` file's types is TS1479 under node16.
      for (const twin of tarball.files.filter((f) => f.endsWith(".d.cts"))) {
        const relative = importsOf(await readFile(join(dir, twin), "utf8")).filter((s) => s.startsWith("."));
        expect([twin, relative.filter((s) => !s.endsWith(".cjs"))]).toEqual([twin, []]);
        for (const spec of relative)
          expect(tarball.files).toContain(join(twin, "..", spec.replace(/\.cjs$/, ".d.cts")));
      }
      const used = new Set<string>();
      for (const file of tarball.files.filter((f) => /\.(js|d\.ts|d\.cts)$/.test(f))) {
        for (const spec of importsOf(await readFile(join(dir, file), "utf8"))) {
          if (spec.startsWith(".") || isBuiltin(spec)) continue;
          const name = spec
            .split("/")
            .slice(0, spec.startsWith("@") ? 2 : 1)
            .join("/");
          if (file.endsWith(".js")) used.add(name);
          expect([tarball.name, file, name, name in declared]).toEqual([tarball.name, file, name, true]);
        }
      }
      expect([tarball.name, Object.keys(pkg.dependencies ?? {}).filter((d) => !used.has(d))]).toEqual([
        tarball.name,
        [],
      ]);
    }
  });

  it("work from an ES module and from CommonJS (require)", async () => {
    await writeFile(join(app, "esm.mjs"), ESM);
    await writeFile(join(app, "cjs.cjs"), CJS);
    const expected = {
      digest: calcDigest({ a: "b" }),
      duration: "1m30s",
      backend: true,
      runTokend: "function",
    };
    for (const file of ["esm.mjs", "cjs.cjs"]) {
      const r = await node(file);
      expect([file, r.code, r.stderr]).toEqual([file, 0, ""]);
      expect(JSON.parse(r.stdout)).toEqual(expected);
    }
  });

  it("run the examples of their READMEs", async () => {
    await writeFile(join(app, "cert.pem"), "CERT\n");
    await writeFile(join(app, "key.pem"), "PKEY\n");
    const outputs: string[] = [];
    for (const name of PACKAGES) {
      const readme = await readFile(join(app, "node_modules", name, "README.md"), "utf8");
      for (const [i, m] of [...readme.matchAll(/```(js|cjs)\n([\s\S]*?)```/g)].entries()) {
        const file = `readme-${name.replace(/\W+/g, "-")}-${i}.${m[1] === "cjs" ? "cjs" : "mjs"}`;
        await writeFile(join(app, file), m[2] ?? "");
        const r = await node(file);
        expect([file, r.code, r.stderr]).toEqual([file, 0, ""]);
        outputs.push(r.stdout);
      }
    }
    expect(outputs).toEqual([
      "NEW_TOKEN\n",
      "1m30s\n",
      expect.stringMatching(/^token server at 127\.0\.0\.1:\d+\n$/),
      `${tarballs[0]?.version}\n`,
    ]);
  });

  it("type-check for .mts and .cts consumers under moduleResolution node16, nodenext and bundler", async () => {
    await writeFile(join(app, "typed.mts"), TYPED);
    await writeFile(join(app, "typed.cts"), TYPED);
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    const results = await Promise.all(
      Object.entries(TS_SETUPS).map(async ([setup, options]) => {
        const config = `tsconfig.${setup}.json`;
        const compilerOptions = {
          ...options,
          target: "ES2022",
          lib: ["ES2023", "DOM"],
          strict: true,
          noEmit: true,
          // As most projects: checking every library's declarations takes minutes, and one of
          // @peculiar/x509's fails under node16; the test above checks the twins' imports instead.
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [join(ROOT, "node_modules/@types")],
        };
        await writeFile(
          join(app, config),
          JSON.stringify({ compilerOptions, files: ["typed.mts", "typed.cts"] }),
        );
        const out = await promisify(execFile)(process.execPath, [tsc, "-p", config], { cwd: app }).then(
          () => "",
          (err: { stdout: string }) => err.stdout,
        );
        return [setup, out];
      }),
    );
    expect(results).toEqual(Object.keys(TS_SETUPS).map((setup) => [setup, ""]));
  }, 120_000);
});
