import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { DevServer } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConnectProxy, type TestConnectProxy } from "../../../core/src/testing/connect-proxy.js";
import { type LocalRegistry, startLocalRegistry } from "../testing/local-registry.js";
import {
  importsOf,
  installedPackages,
  lockedDependencies,
  npmInstall,
  npmRun,
  type PackedTarball,
  packDirectories,
  packWorkspaces,
  ROOT,
  requireBuild,
} from "../testing/npm-pack.js";
import { runProgram } from "../testing/run-cli.js";
import { startTestTokenServer } from "../testing/test-token-server.js";
import { createTokendFixture, type TokendFixture } from "../testing/tokend-fixture.js";

const EXAMPLES = join(ROOT, "packages/cli/examples");
const PACKAGE_DIRS = ["core", "cli", "dev-server"];
const EXAMPLE_FILES = [
  "crontab",
  "luci-machine-tokend.service",
  "luci-machine-tokend-daemon.service",
  "luci-machine-tokend.timer",
];
/** Where the examples and the install guide put the package. */
const GUIDE_PREFIX = "/usr/local";

describe("packaging", () => {
  it("`npx luci-machine-tokend` and `npx luci_machine_tokend` work in the workspace", () => {
    const version = execFileSync("npx", ["--no-install", "luci-machine-tokend", "-version"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    let code = 0;
    let stderr = "";
    try {
      execFileSync("npx", ["--no-install", "luci_machine_tokend", "-pkey-pem", "k"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: "pipe",
      });
    } catch (err) {
      ({ status: code, stderr } = err as { status: number; stderr: string });
    }
    expect([code, stderr.split("\n")[0]]).toEqual([2, "-cert-pem is required"]);
  });
});

/** Uses the library installed from the registry on the token file `npx` wrote. */
const READ_TOKEN = `import { readFile } from "node:fs/promises";
import { calcDigest, readTokenFile, tokendDigestInputs } from "@luci-machine-tokend/core";
const [backend, cert, key, tokenFile] = process.argv.slice(2);
const { token, state } = await readTokenFile(tokenFile);
const digest = calcDigest(tokendDigestInputs({ backend, certPem: await readFile(cert), keyPem: await readFile(key) }));
console.log(JSON.stringify({ token: token?.luciMachineToken, digest, stored: state?.inputsDigest }));
`;

// As users will get them: the three packages published to a registry (Verdaccio on loopback, no
// uplinks, core's dependencies copied into it from node_modules), then `npx -y` and `npm install`
// from empty folders with their own HOME and npm cache. npm's proxy refuses every other host.
describe("`npx luci-machine-tokend` and `npm install @luci-machine-tokend/core` from a registry", () => {
  const PUBLISHED = ["@luci-machine-tokend/core", "@luci-machine-tokend/dev-server", "luci-machine-tokend"];
  let tmp: string;
  // Each is set as soon as it is up, so afterAll closes what started when something else failed.
  let registry: LocalRegistry;
  let proxy: TestConnectProxy;
  let server: DevServer;
  let fx: TokendFixture;
  let version: string;
  let published: { stdout: string; stderr: string };
  let env: Record<string, string>;
  const empty = () => join(tmp, "empty");
  let refresh: Promise<unknown> | undefined;
  /** The refresh by `npx`, run once for the tests that need its token. */
  const refreshed = () =>
    (refresh ??= npmRun(["-y", `luci-machine-tokend@${version}`, ...fx.args(server.backend)], empty(), {
      env,
      command: "npx",
    }));

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "tokend-registry-"));
    for (const d of ["deps", "empty", "app"]) await mkdir(join(tmp, d));
    requireBuild();
    ({ version } = JSON.parse(await readFile(join(ROOT, "packages/cli/package.json"), "utf8")));
    // Started together, with the packing of core's dependencies.
    let deps: Array<{ manifest: { name: string; version: string }; path: string }> = [];
    const started = await Promise.allSettled([
      startLocalRegistry(tmp).then((r) => {
        registry = r;
      }),
      startConnectProxy().then((p) => {
        proxy = p;
      }),
      startTestTokenServer().then(async (t) => {
        server = t.server;
        fx = await createTokendFixture(t.pki);
      }),
      lockedDependencies("packages/core").then(async (dirs) => {
        const manifests = await Promise.all(
          dirs.map(async (d) => JSON.parse(await readFile(join(d, "package.json"), "utf8"))),
        );
        const packed = await packDirectories(dirs, join(tmp, "deps"));
        deps = manifests.map((manifest) => ({
          manifest,
          path: packed.find((t) => t.name === manifest.name && t.version === manifest.version)?.path ?? "",
        }));
      }),
    ]);
    for (const s of started) if (s.status === "rejected") throw s.reason;
    proxy.refuseWith = 403;
    env = {
      ...registry.env,
      npm_config_https_proxy: proxy.url.href,
      npm_config_proxy: proxy.url.href,
      npm_config_noproxy: "127.0.0.1",
    };
    // As a maintainer publishes them (without the prepack build: tests beside this one use dist/).
    const publish = [
      "publish",
      "--ignore-scripts",
      "--loglevel=warn",
      ...PUBLISHED.flatMap((w) => ["-w", w]),
    ];
    [published] = await Promise.all([
      npmRun(publish, ROOT, { env }),
      ...deps.map((d) => registry.publishTarball(d.manifest, d.path)),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([registry?.close(), proxy?.close(), server?.close(), fx?.cleanup()]);
    await rm(tmp, { recursive: true, force: true });
  });

  it("publishes the three packages as they are: npm corrects nothing, the CLI depends on nothing", async () => {
    expect(published.stderr).toBe("");
    expect(published.stdout.split("\n").filter((l) => l.startsWith("+ "))).toEqual(
      PUBLISHED.map((name) => `+ ${name}@${version}`),
    );
    const packument = async (name: string) => {
      const res = await fetch(`${registry.url}${name.replace("/", "%2f")}`);
      const doc = (await res.json()) as { "dist-tags": { latest: string }; versions: Record<string, never> };
      return doc.versions[doc["dist-tags"].latest] as unknown as Record<string, unknown>;
    };
    const [core, devServer, cli] = await Promise.all(PUBLISHED.map(packument));
    for (const pkg of [core, devServer, cli]) expect(pkg?.version).toBe(version);
    expect(cli).toMatchObject({
      bin: {
        "luci-machine-tokend": "bin/luci-machine-tokend.js",
        luci_machine_tokend: "bin/luci-machine-tokend.js",
      },
      peerDependencies: { "@luci-machine-tokend/core": version },
    });
    expect(cli?.dependencies).toBeUndefined();
    expect(devServer?.dependencies).toMatchObject({ "@luci-machine-tokend/core": version });
    // A scoped package is private on the public registry unless published with access public.
    for (const pkg of [core, devServer]) expect(pkg?.publishConfig).toEqual({ access: "public" });
  });

  it("`npx -y luci-machine-tokend@<version> -version` in an empty folder installs it from the registry", async () => {
    const { stdout } = await npmRun(["-y", `luci-machine-tokend@${version}`, "-version"], empty(), {
      env,
      command: "npx",
    });
    expect(stdout).toBe(`${version}\n`);
    // npx installed it into the test's own npm cache (the folder stays empty).
    const npx = join(tmp, "npm-cache/_npx");
    const installs = (await readdir(npx)).map((d) => join(npx, d, "node_modules/luci-machine-tokend"));
    expect(installs.filter((d) => existsSync(d))).toHaveLength(1);
    expect(await readdir(empty())).toEqual([]);
  });

  it("refreshes a token with `npx -y luci-machine-tokend@<version>` against the dev server", async () => {
    await refreshed();
    const status = JSON.parse(await readFile(fx.statusPath, "utf8"));
    expect(status).toMatchObject({ update_outcome: "UPDATE_SUCCESS", update_reason: "NEW_TOKEN" });
    expect(server.requests.filter((r) => r.outcome.kind === "token")).toHaveLength(1);
  });

  it("`npm install @luci-machine-tokend/core` from the registry, then reads that token with it", async () => {
    const app = join(tmp, "app");
    await writeFile(join(app, "package.json"), '{ "name": "app", "version": "1.0.0", "private": true }\n');
    const { stderr } = await npmRun(
      ["install", "--loglevel=warn", `@luci-machine-tokend/core@${version}`],
      app,
      {
        env,
      },
    );
    expect(stderr).toBe("");
    const lock = JSON.parse(await readFile(join(app, "package-lock.json"), "utf8"));
    const { resolved } = lock.packages["node_modules/@luci-machine-tokend/core"];
    expect(new URL(resolved).origin).toBe(new URL(registry.url).origin);
    await refreshed();
    await writeFile(join(app, "read-token.mjs"), READ_TOKEN);
    const run = await runProgram(
      [process.execPath, "read-token.mjs"],
      [server.backend, fx.certPath, fx.keyPath, fx.tokenPath],
      { cwd: app },
    );
    expect([run.code, run.stderr]).toEqual([0, ""]);
    const read = JSON.parse(run.stdout);
    const written = JSON.parse(await readFile(fx.tokenPath, "utf8"));
    expect(read).toEqual({
      token: written.luci_machine_token,
      digest: read.stored,
      stored: expect.any(String),
    });
    expect(read.digest).toMatch(/^[0-9a-f]{40}$/);
  });

  it("reached no host but the registry on loopback (npm asked the proxy for none)", () => {
    expect(proxy.tunnels).toEqual([]);
  });
});

// As a new user would: only the CLI's tarball, `npm install -g` into an empty prefix, the public
// registry reachable, run from a folder outside the repository.
describe("the CLI tarball installed alone with `npm install -g --prefix`", () => {
  let tmp: string;
  let prefix: string;
  let tarball: PackedTarball;
  const installed = () => join(prefix, "lib/node_modules/luci-machine-tokend");
  const bin = (name: string, args: string[]) =>
    runProgram([join(prefix, "bin", name)], args, {
      cwd: tmp,
      // The bin's `#!/usr/bin/env node` finds this node, as it finds the machine's.
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
    });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "tokend-install-"));
    prefix = join(tmp, "prefix");
    [tarball] = (await packWorkspaces(["luci-machine-tokend"], tmp)) as [PackedTarball];
    await npmInstall([tarball.path], tmp, prefix);
  }, 120_000);
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it("installs one package: no dependencies, everything bundled", async () => {
    expect(await installedPackages(join(prefix, "lib/node_modules"))).toEqual([
      `luci-machine-tokend@${tarball.version}`,
    ]);
    const pkg = JSON.parse(await readFile(join(installed(), "package.json"), "utf8"));
    expect(pkg.dependencies).toBeUndefined();
    // The shipped code loads nothing but its own files and Node's modules.
    // isBuiltin: `node:sea` (the demo's) exists only with its scheme, so builtinModules lacks it.
    for (const file of tarball.files.filter((f) => f.endsWith(".js"))) {
      for (const spec of importsOf(await readFile(join(installed(), file), "utf8"))) {
        if (spec.startsWith(".")) continue;
        expect([file, spec, isBuiltin(spec)]).toEqual([file, spec, true]);
      }
    }
    // The CommonJS files (the bin's start, the run bundle) require Node's modules and their own only.
    for (const file of tarball.files.filter((f) => f.endsWith(".cjs") || f.startsWith("bin/"))) {
      const code = await readFile(join(installed(), file), "utf8");
      for (const [, id = ""] of code.matchAll(/\brequire\("([^"]+)"\)/g))
        expect([file, id, isBuiltin(id) || id.startsWith("../dist/bundle/")]).toEqual([file, id, true]);
    }
    // esbuild's require() from bundled CommonJS needs the banner's require, which serves only
    // Node's own modules: every require of the bundle must name one.
    for (const file of tarball.files.filter((f) => f.endsWith(".js"))) {
      const code = await readFile(join(installed(), file), "utf8");
      if (/__require\d*\("/.test(code))
        expect([file, code]).toEqual([file, expect.stringMatching(/^const require = \(id\) => /)]);
      for (const [, id] of code.matchAll(/__require\d*\("([^"]+)"\)/g))
        expect([file, id, isBuiltin(id ?? "")]).toEqual([file, id, true]);
    }
    // The root README's install size is a bound that this measures.
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const [, kB, MB] = /one package of under (\d+) kB \(under ([\d.]+) MB\s+unpacked/.exec(readme) ?? [];
    expect(tarball.size).toBeLessThan(Number(kB) * 1000);
    expect(tarball.unpackedSize).toBeLessThan(Number(MB) * 1e6);
  });

  it("ships README, LICENSE, the bundled packages' licences and examples/, and no source maps", async () => {
    expect(tarball.files).toEqual(
      expect.arrayContaining([
        "README.md",
        "LICENSE",
        "dist/bundle/THIRD-PARTY-LICENSES.txt",
        ...EXAMPLE_FILES.map((f) => `examples/${f}`),
      ]),
    );
    expect(tarball.files.filter((f) => f.endsWith(".map") || f.startsWith("src/"))).toEqual([]);
    expect(await readFile(join(installed(), "LICENSE"), "utf8")).toBe(
      await readFile(join(ROOT, "LICENSE"), "utf8"),
    );
    const licences = await readFile(join(installed(), "dist/bundle/THIRD-PARTY-LICENSES.txt"), "utf8");
    for (const name of ["yargs@", "@peculiar/x509@", "reflect-metadata@", "@connectrpc/connect@"]) {
      expect(licences).toContain(`\n${name}`);
    }
    // protobuf-es ships no licence file: the notices of its bundled files stand in for it.
    expect(licences).toMatch(/@bufbuild\/protobuf@[^\n]*\n-+\n\nCopyright [^\n]*Buf Technologies/);
  });

  it("runs -h, -version and --version under both bin names", async () => {
    for (const name of ["luci-machine-tokend", "luci_machine_tokend"]) {
      for (const flag of ["-version", "--version"]) {
        expect(await bin(name, [flag])).toMatchObject({
          code: 0,
          stdout: `${tarball.version}\n`,
          stderr: "",
        });
      }
      const help = await bin(name, ["-h"]);
      expect([help.code, help.stderr.split("\n")[0]]).toEqual([0, "Usage:"]);
    }
  });

  it("refreshes a token against the bundled dev server, then finds it good, pushing metrics each time (demo, outside the repo)", async () => {
    const first = await bin("luci-machine-tokend", ["demo", "--dir", "demo"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/outcome {7}UPDATE_SUCCESS \(reason NEW_TOKEN\), 1 MintMachineToken RPC\n/);
    expect(first.stdout).toMatch(/signature {5}valid/);
    expect(first.stdout).toMatch(
      /metrics {7}ProdX received these, sent with a new OAuth token \(1 token grant\), cached in demo\/home\/\.config\/chrome_infra\/auth\/tokens\.json:\n/,
    );
    expect(first.stdout).toContain(
      '\n    /chrome/infra/luci/machine_tokend/update_outcome "UPDATE_SUCCESS"\n',
    );
    expect(first.stdout).toContain("Run `luci-machine-tokend demo --dir demo` again");
    expect(first.stdout).not.toContain("npm start");
    // Every file the shown command line names exists (the token and status files once it ran),
    // those of its environment too (the OAuth token cache's HOME, the TLS CA it trusts).
    const command = /^\$ (.*)$/m.exec(first.stdout)?.[1] ?? "";
    const paths = command
      .split(" ")
      .map((w) => w.replace(/^[A-Z_]+=/, ""))
      .filter((w) => w.startsWith("demo/"));
    expect(paths).toHaveLength(7);
    for (const p of paths) expect([p, existsSync(join(tmp, p))]).toEqual([p, true]);
    expect((await stat(join(tmp, "demo/service-account.json"))).mode & 0o777).toBe(0o600);
    const second = await bin("luci-machine-tokend", ["demo", "--dir", "demo"]);
    expect(second.stdout).toMatch(
      /outcome {7}TOKEN_IS_GOOD \(reason TOKEN_IS_GOOD\), 0 MintMachineToken RPCs\n/,
    );
    expect(second.stdout).toMatch(/sent with the OAuth token cached in \S+ \(no token grant\):\n/);
    expect(second.stdout).toContain(
      '\n    /chrome/infra/luci/machine_tokend/update_outcome "TOKEN_IS_GOOD"\n',
    );
    expect(second.stdout).toContain("`rm -r demo` starts over");
  });

  it("makes a key and CSR with the bundled X.509 code; refuses a dev server without a CA", async () => {
    const csr = await bin("luci-machine-tokend", [
      "csr",
      "--fqdn",
      "bot-9.example.com",
      "--key-out",
      "k.pem",
      "--csr-out",
      "c.csr",
    ]);
    expect(csr.code).toBe(0);
    expect(await readFile(join(tmp, "c.csr"), "utf8")).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    const server = await bin("luci-machine-tokend", ["dev-server", "--domain", "example.com=1h"]);
    expect(server.code).toBe(2);
    expect(server.stderr).toMatch(/^dev-server: --ca-cert FILE is required [^\n]*\n$/);
  });

  it("matches the systemd examples: Documentation= exists, the units verify", async () => {
    const units = [
      "luci-machine-tokend.service",
      "luci-machine-tokend-daemon.service",
      "luci-machine-tokend.timer",
    ];
    const local = join(tmp, "units");
    await mkdir(local);
    for (const unit of units) {
      const text = (await readFile(join(installed(), "examples", unit), "utf8")).replaceAll(
        `${GUIDE_PREFIX}/`,
        `${prefix}/`,
      );
      const docs = [...text.matchAll(/^Documentation=(.*)$/gm)].flatMap((m) => (m[1] ?? "").split(" "));
      expect(docs.length).toBeGreaterThan(0);
      for (const url of docs)
        expect([url, url.startsWith("file:") && existsSync(url.slice(5))]).toEqual([url, true]);
      await writeFile(join(local, unit), text);
    }
    const verify = spawnSync("systemd-analyze", ["verify", "--man=no", ...units.map((u) => `./${u}`)], {
      cwd: local,
      encoding: "utf8",
    });
    if (verify.error) return; // no systemd on this machine: the checks above still ran
    expect([verify.status, verify.stderr]).toEqual([0, ""]);
  });
});

describe("the bundle script's CommonJS variant", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "tokend-cjs-"));
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it("writes the bin as one CommonJS file that runs on its own (for a Node single executable)", async () => {
    const file = join(tmp, "luci-machine-tokend.cjs");
    await promisify(execFile)(process.execPath, [
      join(ROOT, "packages/cli/scripts/bundle.mjs"),
      "--cjs",
      file,
    ]);
    const cjs = (args: string[]) => runProgram([process.execPath, file], args, { cwd: tmp });
    const { version } = JSON.parse(await readFile(join(ROOT, "packages/cli/package.json"), "utf8"));
    expect(await cjs(["-version"])).toMatchObject({ code: 0, stdout: `${version}\n` });
    // yargs and the bundled @peculiar/x509 work without a package folder around them.
    const csr = await cjs(["csr", "--fqdn", "bot-9.example.com", "--key-out", "k.pem", "--csr-out", "c.csr"]);
    expect([csr.code, csr.stderr]).toEqual([0, ""]);
    expect(await readFile(join(tmp, "c.csr"), "utf8")).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
  }, 60_000);
});

describe("examples/", () => {
  it("sets Persistent= only on OnCalendar= timers", async () => {
    const timer = await readFile(join(EXAMPLES, "luci-machine-tokend.timer"), "utf8");
    if (/^Persistent=/m.test(timer)) expect(timer).toMatch(/^OnCalendar=/m);
  });

  it("cron, in examples/ and every README: PATH first (for the bin's `#!/usr/bin/env node`), the bin by its full path", async () => {
    const crontabs = [["examples/crontab", await readFile(join(EXAMPLES, "crontab"), "utf8")]];
    for (const readme of ["README.md", "packages/cli/README.md"]) {
      const text = await readFile(join(ROOT, readme), "utf8");
      for (const [, block] of text.matchAll(/```cron\n([\s\S]*?)```/g)) crontabs.push([readme, block ?? ""]);
    }
    expect(crontabs.length).toBeGreaterThan(2);
    for (const [where, cron = ""] of crontabs) {
      const lines = cron.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
      expect([where, lines[0]]).toEqual([where, expect.stringMatching(/^PATH=\/usr\/local\/bin:/)]);
      const jobs = lines.filter((l) => /^\S+ \S+ \S+ \S+ \S+ /.test(l));
      expect([where, jobs.length]).toEqual([where, 1]);
      expect([where, jobs[0]]).toEqual([
        where,
        expect.stringMatching(
          new RegExp(`^\\S+ \\S+ \\S+ \\S+ \\S+ tokend ${GUIDE_PREFIX}/bin/luci-machine-tokend `),
        ),
      ]);
    }
  });
});

describe("READMEs", () => {
  it("say to install every package their examples import, at core's version of its dependencies", async () => {
    const core = JSON.parse(await readFile(join(ROOT, "packages/core/package.json"), "utf8"));
    for (const readme of ["README.md", ...PACKAGE_DIRS.map((p) => `packages/${p}/README.md`)]) {
      const text = await readFile(join(ROOT, readme), "utf8");
      const installs = [...text.matchAll(/npm install [^`\n]*/g)].map((m) => m[0]);
      const code = [...text.matchAll(/```(?:js|ts|cjs|mjs)\n([\s\S]*?)```/g)].map((m) => m[1]).join("\n");
      const imported = new Set(
        [...code.matchAll(/(?:from |require\()"([^"]+)"/g)]
          .map((m) => m[1] ?? "")
          .filter((spec) => !spec.startsWith("node:") && !spec.startsWith("."))
          .map((spec) =>
            spec
              .split("/")
              .slice(0, spec.startsWith("@") ? 2 : 1)
              .join("/"),
          ),
      );
      for (const [, name, version] of installs.join(" ").matchAll(/(@?[\w./-]+)@(\d[\w.-]*)/g)) {
        const pinned = core.dependencies[name ?? ""];
        if (pinned) expect([readme, name, version]).toEqual([readme, name, pinned]);
      }
      for (const name of imported) {
        const said = installs.some((line) =>
          line.split(/\s+/).some((w) => w.replace(/@[^@/]*$/, "") === name),
        );
        expect([readme, name, said]).toEqual([readme, name, true]);
      }
    }
  });
});
