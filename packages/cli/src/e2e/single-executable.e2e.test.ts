import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { createTestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../testing/npm-pack.js";
import { type CliResult, runProgram } from "../testing/run-cli.js";

// The single executable (`npm run sea`) as a bot without Node runs it: copied alone to a folder
// outside the repository, and run in a mount namespace where the repository (so every
// node_modules folder in it), the global node_modules folders and every node binary are hidden.
// The CLI's other e2e files run against it too (vitest.config.ts, project "single executable").

const SEA = process.env.TOKEND_CLI;
const SKIP_REASON = "TOKEND_CLI is not set: the single executable checks are skipped (npm run sea builds it)";
const asRoot = process.getuid?.() === 0;
if (SEA === undefined) console.log(SKIP_REASON);

/** The PATH the executable runs with (cron's, plus /usr/local/bin). */
const CHILD_PATH = "/usr/local/bin:/usr/bin:/bin";

/** What a machine without Node would not have: each hidden by an empty mount over it. */
function nodeAndModules(): string[] {
  const nodes = [...(process.env.PATH ?? "").split(delimiter), ...CHILD_PATH.split(delimiter)]
    .map((dir) => join(dir, "node"))
    .filter(existsSync)
    .map((p) => realpathSync(p));
  const modules = [
    "/usr/lib/node_modules",
    "/usr/local/lib/node_modules",
    join(process.execPath, "../../lib/node_modules"),
  ];
  return [...new Set([ROOT, realpathSync(process.execPath), ...nodes, ...modules.filter(existsSync)])];
}

// Runs "$@" after hiding each path of TOKEND_HIDE (folders under a tmpfs, files under /dev/null).
const HIDE_THEN_EXEC = `set -e
IFS=:
for p in $TOKEND_HIDE; do
  if [ -d "$p" ]; then mount -t tmpfs -o size=64k tmpfs "$p"; else mount --bind /dev/null "$p"; fi
done
unset IFS
if [ -n "$TOKEND_IP" ]; then "$TOKEND_IP" link set lo up; fi
exec "$@"`;

/** For a network namespace of its own: its loopback must be brought up. */
const IP = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].find(existsSync);

describe.skipIf(SEA === undefined)("the single executable on a machine without Node", () => {
  let tmp: string;
  /** The executable under its Go name, and the npm name as a symlink to it. */
  let goName: string;
  let npmName: string;
  const env = {
    PATH: CHILD_PATH,
    TOKEND_HIDE: "",
    // Nothing of the test runner's node reaches the executable.
    NODE_OPTIONS: undefined,
    NODE_PATH: undefined,
  };
  const hiddenArgv = (program: string[], net = false) => [
    "unshare",
    "--mount",
    ...(net ? ["--net"] : []),
    "--",
    "sh",
    "-c",
    HIDE_THEN_EXEC,
    "sh",
    ...program,
  ];
  /** Runs `program` in the namespace without Node, from the temp folder; `net`: its own loopback. */
  const hidden = (program: string[], args: string[], net = false): Promise<CliResult> =>
    runProgram(hiddenArgv(program, net), args, {
      cwd: tmp,
      env: { ...env, TOKEND_IP: net ? IP : undefined },
    });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "tokend-sea-"));
    goName = join(tmp, "luci_machine_tokend");
    npmName = join(tmp, "luci-machine-tokend");
    await copyFile(SEA as string, goName);
    execFileSync("chmod", ["755", goName]);
    await symlink(goName, npmName);
    env.TOKEND_HIDE = nodeAndModules().join(":");
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it.skipIf(!asRoot)("the namespace really hides node and the repository", async () => {
    const probe = await hidden(["sh", "-c", 'node -v; echo "node: $?"; ls -A "$1" | wc -l', "sh", ROOT], []);
    expect(probe.stdout).toMatch(/^node: 12[67]\n0\n$/);
  });

  it.skipIf(!asRoot)("runs -h, -version and a bad flag under both names, alone", async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, "packages/cli/package.json"), "utf8"));
    for (const name of [goName, npmName]) {
      expect(await hidden([name], ["-version"])).toMatchObject({
        code: 0,
        stdout: `${version}\n`,
        stderr: "",
      });
      const help = await hidden([name], ["-h"]);
      expect([help.code, help.stdout, help.stderr.split("\n")[0]]).toEqual([0, "", "Usage:"]);
      const bad = await hidden([name], ["-pkey-pem", "k"]);
      expect([bad.code, bad.stderr.split("\n")[0]]).toEqual([2, "-cert-pem is required"]);
    }
  });

  it.skipIf(!asRoot)("makes a key and CSR with the bundled @peculiar/x509 and its polyfill", async () => {
    const csr = await hidden(
      [goName],
      ["csr", "--fqdn", "bot-4.example.com", "--key-out", "k.pem", "--csr-out", "c.csr"],
    );
    expect([csr.code, csr.stderr]).toEqual([0, ""]);
    expect(await readFile(join(tmp, "c.csr"), "utf8")).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
  });

  it.skipIf(!asRoot)(
    "serves as its own dev server, refreshes against it, then finds the token good",
    async () => {
      const pki = await createTestPki({ fqdn: "bot-3.example.com" });
      await writeFile(join(tmp, "ca.pem"), pki.caCertPem);
      await writeFile(join(tmp, "key.pem"), pki.keyPem, { mode: 0o600 });
      await writeFile(join(tmp, "cert.pem"), pki.certPem);
      const [command = "", ...argv] = hiddenArgv([goName]);
      const server = spawn(
        command,
        [
          ...argv,
          "dev-server",
          "--listen",
          "127.0.0.1:0",
          "--no-grpc",
          "--ca-cert",
          "ca.pem",
          "--domain",
          "example.com=1h",
        ],
        { cwd: tmp, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
      );
      const closed = new Promise((resolve) =>
        server.once("close", (code, signal) => resolve([code, signal])),
      );
      try {
        const backend = await listeningOn(server);
        const run = (...extra: string[]) =>
          hidden(
            [npmName],
            [
              ...["-backend", backend, "-cert-pem", "cert.pem", "-pkey-pem", "key.pem"],
              ...["-token-file", "token.json", "-status-file", "status.json", "-ts-mon-endpoint", "none"],
              ...extra,
            ],
          );
        const status = async () => JSON.parse(await readFile(join(tmp, "status.json"), "utf8"));
        expect((await run()).code).toBe(0);
        expect(await status()).toMatchObject({
          update_outcome: "UPDATE_SUCCESS",
          update_reason: "NEW_TOKEN",
        });
        expect((await run()).code).toBe(0);
        expect(await status()).toMatchObject({ update_outcome: "TOKEN_IS_GOOD" });
        const inspect = await hidden([goName], ["inspect", "-token-file", "token.json"]);
        expect([inspect.code, inspect.stdout]).toEqual([0, expect.stringContaining("bot-3.example.com")]);
      } finally {
        server.kill("SIGTERM");
      }
      expect(await closed).toEqual([0, null]);
    },
  );

  it.skipIf(!asRoot)("runs the demo: it starts itself again as the child, not node with a bin", async () => {
    // Its own network namespace (where `ip` can bring its loopback up): the demo server's fixed
    // port is then free of other tests' demos, so the second run finds the token good.
    const net = IP !== undefined;
    const first = await hidden([npmName], ["demo", "--dir", "demo"], net);
    expect([first.code, first.stderr]).toEqual([0, ""]);
    expect(first.stdout).toMatch(/outcome {7}UPDATE_SUCCESS \(reason NEW_TOKEN\), 1 MintMachineToken RPC\n/);
    expect(first.stdout).toMatch(/signature {5}valid/);
    expect(first.stdout).toContain("sent with a new OAuth token (1 token grant)");
    const second = await hidden([npmName], ["demo", "--dir", "demo"], net);
    expect(second.stdout).toMatch(
      /outcome {7}TOKEN_IS_GOOD \(reason TOKEN_IS_GOOD\), 0 MintMachineToken RPCs\n/,
    );
    expect(second.stdout).toContain(
      '\n    /chrome/infra/luci/machine_tokend/update_outcome "TOKEN_IS_GOOD"\n',
    );
  });
});

/** The dev server's address, from its "listening on" line; rejects if it exits first. */
function listeningOn(server: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    server.stdout?.on("data", (d: Buffer) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    server.stderr?.on("data", (d: Buffer) => {
      err += d;
    });
    server.once("exit", (code) => reject(new Error(`dev-server exited with ${code}: ${err}`)));
  });
}
