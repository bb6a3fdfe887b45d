import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  importsOf,
  installedPackages,
  npmInstall,
  type PackedTarball,
  packWorkspaces,
  ROOT,
} from "../testing/npm-pack.js";
import { runProgram } from "../testing/run-cli.js";

const EXAMPLES = join(ROOT, "examples");
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
    // esbuild's require() from bundled CommonJS needs the banner's require, which serves only
    // Node's own modules: every require of the bundle must name one.
    for (const file of tarball.files.filter((f) => f.endsWith(".js"))) {
      const code = await readFile(join(installed(), file), "utf8");
      if (/__require\d*\("/.test(code))
        expect([file, code]).toEqual([file, expect.stringMatching(/^const require = \(id\) => /)]);
      for (const [, id] of code.matchAll(/__require\d*\("([^"]+)"\)/g))
        expect([file, id, isBuiltin(id ?? "")]).toEqual([file, id, true]);
    }
    expect(tarball.unpackedSize).toBeLessThan(4_000_000);
  });

  it("ships README, LICENSE and the bundled packages' licences, and no source maps", async () => {
    expect(tarball.files).toEqual(
      expect.arrayContaining(["README.md", "LICENSE", "dist/bundle/THIRD-PARTY-LICENSES.txt"]),
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

  it("refreshes a token against the bundled dev server, then finds it good (demo, outside the repo)", async () => {
    const first = await bin("luci-machine-tokend", ["demo", "--dir", "demo"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/outcome {7}UPDATE_SUCCESS \(reason NEW_TOKEN\), 1 MintMachineToken RPC\n/);
    expect(first.stdout).toMatch(/signature {5}valid/);
    expect(first.stdout).toContain("Run `luci-machine-tokend demo --dir demo` again");
    expect(first.stdout).not.toContain("npm start");
    // Every file the shown command line names exists (the token and status files once it ran).
    const command = /^\$ luci-machine-tokend (.*)$/m.exec(first.stdout)?.[1] ?? "";
    const paths = command.split(" ").filter((w) => w.startsWith("demo/"));
    expect(paths).toHaveLength(4);
    for (const p of paths) expect([p, existsSync(join(tmp, p))]).toEqual([p, true]);
    const second = await bin("luci-machine-tokend", ["demo", "--dir", "demo"]);
    expect(second.stdout).toMatch(
      /outcome {7}TOKEN_IS_GOOD \(reason TOKEN_IS_GOOD\), 0 MintMachineToken RPCs\n/,
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
      const text = (await readFile(join(EXAMPLES, unit), "utf8")).replaceAll(
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
  it("sets Persistent= only on OnCalendar= timers, and cron runs the bin by its full path", async () => {
    const timer = await readFile(join(EXAMPLES, "luci-machine-tokend.timer"), "utf8");
    if (/^Persistent=/m.test(timer)) expect(timer).toMatch(/^OnCalendar=/m);
    const cron = await readFile(join(EXAMPLES, "crontab"), "utf8");
    expect(cron).toMatch(/^PATH=\/usr\/local\/bin:/m);
    expect(cron).toMatch(
      new RegExp(`^\\S+ \\S+ \\S+ \\S+ \\S+ tokend ${GUIDE_PREFIX}/bin/luci-machine-tokend `, "m"),
    );
  });
});
