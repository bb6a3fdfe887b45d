import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { symlinkSync } from "node:fs";
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  utimes,
  writeFile,
} from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { verifyMachineToken } from "@luci-machine-tokend/core";
import { parseTokenFile } from "@luci-machine-tokend/core/internal";
import type { DevServer, TestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeTlsCa } from "../../../core/src/testing/tls-fixtures.js";
import { processGone } from "../testing/process-gone.js";
import { runCli } from "../testing/run-cli.js";
import { startTestTokenServer } from "../testing/test-token-server.js";
import { startTlsFront, type TlsFront } from "../testing/tls-front.js";
import { createTokendFixture, type TokendFixture } from "../testing/tokend-fixture.js";
import { FAULT_SERVER_MAX_CONNECTIONS, hostileServerFaults } from "./faults/hostile-server.js";

/**
 * The fault-injection suite of the reliability promise: whatever breaks (the process, the disk,
 * the network, the server, the inputs), an existing good token is never lost or damaged, every
 * failure is named in the status file, and nothing secret leaks. It ends by printing a table
 * (fault, runs, tokens lost) and fails if any token was lost.
 */

let pki: TestPki;
let server: DevServer;
let certificates: unknown;
const table: Array<{ fault: string; runs: number; lost: number }> = [];

beforeAll(async () => {
  // A low connection cap, so the abuse rows (hostile-server.ts) reach it with few sockets.
  ({ pki, server } = await startTestTokenServer({ maxConnections: FAULT_SERVER_MAX_CONNECTIONS }));
  certificates = await (await fetch(`${server.url}/auth/api/v1/server/certificates`)).json();
});
afterAll(async () => {
  await server.close();
  const width = Math.max(...table.map((r) => r.fault.length), 5);
  const lines = [
    `${"fault".padEnd(width)}  runs  tokens lost`,
    ...table.map(
      (r) => `${r.fault.padEnd(width)}  ${String(r.runs).padStart(4)}  ${String(r.lost).padStart(11)}`,
    ),
  ];
  console.log(`\n${lines.join("\n")}\n`);
  expect(table.reduce((n, r) => n + r.lost, 0)).toBe(0);
});
beforeEach(() => {
  server.faults.clear();
  server.requests.length = 0;
});

/** True when the file holds a whole, valid token that the server signed. */
async function tokenIsWhole(path: string): Promise<boolean> {
  const bytes = await readFile(path).catch(() => undefined);
  if (!bytes) return false;
  const parsed = parseTokenFile(bytes);
  if (parsed.error !== undefined) return false;
  try {
    verifyMachineToken(parsed.token.luciMachineToken, {
      certificates: certificates as never,
      now: new Date(),
    });
    return true;
  } catch {
    return false;
  }
}

/** A fixture with a good token minted, so every fault below has something to lose. */
async function withGoodToken(): Promise<TokendFixture> {
  const fx = await createTokendFixture(pki);
  expect((await runCli(fx.args(server.backend))).code).toBe(0);
  return fx;
}

async function record(fault: string, runs: number, check: () => Promise<boolean>): Promise<void> {
  let lost = 0;
  if (!(await check())) lost++;
  table.push({ fault, runs, lost });
  expect(lost).toBe(0);
}

const status = async (fx: TokendFixture) =>
  JSON.parse(await readFile(fx.statusPath, "utf8")) as Record<string, unknown>;

hostileServerFaults({
  server: () => server,
  withGoodToken,
  status,
  tokenIsWhole,
  record,
});

describe("faults", () => {
  it("kill -9 at any moment of a refresh: the token is the old one or a new one, never damaged; leftovers are cleaned", async () => {
    const fx = await withGoodToken();
    server.faults.set({ latencyMs: { min: 0, max: 60 } });
    let lost = 0;
    let killedAfterMinting = 0;
    const runs = 12;
    for (let i = 0; i < runs; i++) {
      const calls = server.requests.length;
      // Killed 0–88 ms after the call starts (start-up and loading the refresh code take longer
      // than that on a busy machine): during the call, while the files are written, or after.
      const r = await runCli(fx.args(server.backend, "-force-refresh"), {
        onSpawn: (child) => {
          let armed = false;
          child.stderr?.on("data", (d: Buffer) => {
            if (armed || !d.toString().includes("MintMachineToken [deadline")) return;
            armed = true;
            setTimeout(() => child.kill("SIGKILL"), i * 8);
          });
        },
      });
      if (r.signal === "SIGKILL" && server.requests.length > calls) killedAfterMinting++;
      if (!(await tokenIsWhole(fx.tokenPath))) lost++;
    }
    // Kills must land after a token was minted (here 6 of 12), or this shows nothing about the
    // writes; the server counts a call once it answered, so one killed before that does not count.
    expect(killedAfterMinting).toBeGreaterThanOrEqual(3);
    server.faults.clear();
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    expect(await extraFiles(fx)).toEqual([]);
    table.push({ fault: "kill -9 during a refresh", runs, lost });
    expect(lost).toBe(0);
    await fx.cleanup();
  });

  it("full disk (ENOSPC on a real tmpfs): UNKNOWN_SAVE_TOKEN_ERROR, the old token intact, no temp file left", async (ctx) => {
    const mount = await mkdtemp(join(tmpdir(), "tokend-tmpfs-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=12k", "tmpfs", mount]);
    } catch {
      // Mounting needs root and a kernel that allows it; the in-process suite injects ENOSPC instead.
      await rm(mount, { recursive: true, force: true });
      ctx.skip();
      return;
    }
    const fx = await withGoodToken();
    try {
      const token = join(mount, "token.json");
      await writeFile(token, await readFile(fx.tokenPath));
      await writeFile(join(mount, "filler"), Buffer.alloc(8 * 1024 - 1)).catch(() => {});
      const args = fx.args(server.backend, "-force-refresh").map((a) => (a === fx.tokenPath ? token : a));
      const before = await readFile(token, "utf8");
      await new Promise((r) => setTimeout(r, 1100)); // a new second, so the new token differs from the old
      expect((await runCli(args)).code).toBe(1);
      expect((await status(fx)).update_outcome).toBe("UNKNOWN_SAVE_TOKEN_ERROR");
      expect((await status(fx)).failure_error).toMatch(/ENOSPC/);
      expect((await readdir(mount)).sort()).toEqual(["filler", "token.json"]);
      await record(
        "full disk (ENOSPC)",
        1,
        async () => (await readFile(token, "utf8")) === before && tokenIsWhole(token),
      );
      execFileSync("mount", ["-o", "remount,ro", mount]);
      expect((await runCli(args)).code).toBe(1);
      expect((await status(fx)).failure_error).toMatch(/EROFS/);
      await record(
        "read-only file system (EROFS)",
        1,
        async () => (await readFile(token, "utf8")) === before,
      );
    } finally {
      execFileSync("umount", [mount]);
      await rm(mount, { recursive: true, force: true });
      await fx.cleanup();
    }
  });

  it("a directory at the token path, a missing directory: named outcomes, no RPC wasted", async () => {
    const fx = await withGoodToken();
    server.requests.length = 0;
    await mkdir(fx.path("token-dir.json"));
    const asDir = fx.args(server.backend).map((a) => (a === fx.tokenPath ? fx.path("token-dir.json") : a));
    expect((await runCli(asDir)).code).toBe(1);
    expect(await status(fx)).toMatchObject({ update_outcome: "UNKNOWN_SAVE_TOKEN_ERROR" });
    expect((await status(fx)).failure_error).toMatch(/is a directory/);
    expect(server.requests).toHaveLength(0);
    await record("directory at the token path", 1, () => tokenIsWhole(fx.tokenPath));
    await fx.cleanup();
  });

  it("server outages of every shape: the old token stays, the outcome is named", async () => {
    const fx = await withGoodToken();
    const cases: Array<[string, Parameters<DevServer["faults"]["set"]>[0], string]> = [
      ["HTML 502 from a proxy", { httpFault: { kind: "proxy-html", status: 502 } }, "GRPC_ERROR_4"],
      ["connection reset", { httpFault: { kind: "reset" } }, "GRPC_ERROR_4"],
      ["truncated body", { httpFault: { kind: "truncate" } }, "GRPC_ERROR_4"],
      ["oversized body", { httpFault: { kind: "oversize" } }, "UNKNOWN_RPC_ERROR"],
      ["wrong content type", { httpFault: { kind: "wrong-content-type" } }, "UNKNOWN_RPC_ERROR"],
      ["INTERNAL from the server", { grpcError: { code: 13 } }, "GRPC_ERROR_4"],
      ["server clock 11 min off", { clockOffsetMs: 11 * 60_000 }, "MINT_TOKEN_ERROR_BAD_TIMESTAMP"],
    ];
    for (const [name, fault, outcome] of cases) {
      server.faults.clear();
      server.faults.set(fault);
      const before = await readFile(fx.tokenPath, "utf8");
      await rm(fx.statusPath, { force: true }); // a crash writes none: the outcome must be this run's
      const r = await runCli(fx.args(server.backend, "-force-refresh", "-timeout", "700ms"));
      expect(r.code).toBe(1);
      expect((await status(fx)).update_outcome).toBe(outcome);
      await record(name, 1, async () => (await readFile(fx.tokenPath, "utf8")) === before);
    }
    await fx.cleanup();
  });

  it("a server that never answers: -timeout holds to within a second", async () => {
    const fx = await withGoodToken();
    server.faults.set({ latencyMs: 3_600_000 });
    const r = await runCli(fx.args(server.backend, "-force-refresh", "-timeout", "1500ms"));
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(1500 + 1000 + 400); // + node start-up
    expect((await status(fx)).update_outcome).toBe("GRPC_ERROR_4");
    await record("server never answers", 1, () => tokenIsWhole(fx.tokenPath));
    await fx.cleanup();
  });

  it("DNS failure: retried until -timeout, GRPC_ERROR_4", async () => {
    const fx = await withGoodToken();
    const r = await runCli(fx.args("tokend-test.invalid", "-timeout", "1s"));
    expect(r.code).toBe(1);
    expect((await status(fx)).update_outcome).toBe("GRPC_ERROR_4");
    expect(r.stderr).toMatch(/ENOTFOUND|EAI_AGAIN/);
    // The status file alone says why: Go's text, then the last attempt's error.
    expect((await status(fx)).failure_error).toMatch(
      /^rpc error: code = DeadlineExceeded desc = prpc: overall deadline exceeded: context deadline exceeded; last attempt: .*(ENOTFOUND|EAI_AGAIN) tokend-test\.invalid/,
    );
    await record("DNS failure", 1, () => tokenIsWhole(fx.tokenPath));
    await fx.cleanup();
  });

  it("hostile token file contents are repaired; hostile key files fail with one clean line", async () => {
    const fx = await withGoodToken();
    const contents = [
      Buffer.from([0, 1, 2, 255]),
      `\uFEFF${await readFile(fx.tokenPath, "utf8")}`,
      "[".repeat(100_000),
      '{"expiry":true}',
      "x".repeat(2 << 20),
    ];
    for (const c of contents) {
      await writeFile(fx.tokenPath, c);
      expect((await runCli(fx.args(server.backend))).code).toBe(0);
      expect((await status(fx)).update_reason).toBe("NEW_TOKEN");
    }
    await record("damaged token file (repaired)", contents.length, () => tokenIsWhole(fx.tokenPath));
    const keys = [
      "",
      "-----BEGIN RSA PRIVATE KEY-----\nnot base64!\n-----END RSA PRIVATE KEY-----\n",
      pki.certPem,
      "A".repeat(3 << 20),
    ];
    for (const k of keys) {
      await writeFile(fx.keyPath, k);
      const r = await runCli(fx.args(server.backend));
      expect(r.code).toBe(1);
      expect((await status(fx)).update_outcome).toBe("CANT_READ_KEY");
      expect(String((await status(fx)).failure_error)).toMatch(new RegExp(`^${fx.keyPath}: [^\\n]+$`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    await record("broken key files", keys.length, () => tokenIsWhole(fx.tokenPath));
    await fx.cleanup();
  });

  it("a lock left by a killed run does not block the next run", async () => {
    const fx = await withGoodToken();
    // A lock as a run writes it, owned by a process that no longer exists.
    const dead = execFileSync(process.execPath, ["-e", "console.log(process.pid)"], {
      encoding: "utf8",
    }).trim();
    await writeFile(
      `${fx.tokenPath}.lock`,
      JSON.stringify({ pid: Number(dead), host: hostname(), createdMs: Date.now(), nonce: "0123" }),
    );
    const r = await runCli(fx.args(server.backend, "-force-refresh", "-timeout", "5s"));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Broke a stale lock");
    await record("stale lock of a killed run", 1, () => tokenIsWhole(fx.tokenPath));
    await fx.cleanup();
  });

  it("never writes the token or key anywhere but the token files; warns about a readable key", async () => {
    const fx = await createTokendFixture(pki);
    await chmod(fx.keyPath, 0o644);
    const metrics = fx.path("metrics.json");
    const prom = fx.path("tokend.prom");
    const r = await runCli(
      fx.args(server.backend, "-ts-mon-endpoint", `file://${metrics}`, "-prometheus-textfile", prom),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/The private key .* is readable by group or others \(mode 0644\); chmod 600 it/);
    const token = JSON.parse(await readFile(fx.tokenPath, "utf8")).luci_machine_token as string;
    const keyBody = pki.keyPem.split("\n")[5] ?? "";
    const outputs = [
      r.stdout,
      r.stderr,
      await readFile(fx.statusPath, "utf8"),
      await readFile(metrics, "utf8"),
      await readFile(prom, "utf8"),
    ];
    for (const out of outputs) {
      expect(out).not.toContain(token.slice(0, 40));
      expect(out).not.toContain(keyBody);
      expect(out).not.toContain("PRIVATE KEY");
    }
    await fx.cleanup();
  });
});

/** Runs a command as nobody (65534); the tokend runs as root in production, attackers do not. */
const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
const asRoot = process.getuid?.() === 0;
const coreDist = fileURLToPath(new URL("../../../core/dist/bundle/internal.js", import.meta.url));

/** Runs `script` (ESM) in a child node process as nobody, e.g. an attacker planting files. */
function asNobody(script: string): void {
  execFileSync(NOBODY[0] ?? "setpriv", [
    ...NOBODY.slice(1),
    process.execPath,
    "--input-type=module",
    "-e",
    script,
  ]);
}

/** A fixture whose directory anyone may write (`mode`, e.g. 1777 like /tmp), its files handed to `uid`. */
async function sharedDirFixture(mode: number, uid = 0, gid = 0): Promise<TokendFixture> {
  const fx = await withGoodToken();
  await chmod(fx.dir, mode);
  await chown(fx.dir, 0, gid);
  await chmod(fx.dir, mode); // chown clears set-gid
  for (const f of [fx.keyPath, fx.certPath, fx.tokenPath, fx.statusPath]) await chown(f, uid, uid);
  return fx;
}

/** CPU seconds (user + system) a live process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).replace(/^.*\) /, "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** The file names of `dir` that are not the fixture's own (key, cert, token, status). */
async function extraFiles(fx: TokendFixture): Promise<string[]> {
  const own = new Set(["key.pem", "cert.pem", "token.json", "status.json"]);
  return (await readdir(fx.dir)).filter((n) => !own.has(n)).sort();
}

describe.skipIf(!asRoot)("hardening #11: a token directory others can write", () => {
  it.each([
    ["world-writable sticky (1777) directory", 0o1777, 0],
    ["group-writable set-gid (2775) directory", 0o2775, 65534],
  ])("symlinks planted at the lock's scratch names in a %s are never followed", async (what, mode, gid) => {
    const fx = await sharedDirFixture(mode, 0, gid);
    const victim = fx.path("victim"); // root's file, outside the attacker's reach
    await writeFile(victim, "precious");
    await chmod(victim, 0o644);
    // The earlier version's names were <lock>.<pid>_1.new: plant them for the next few hundred pids.
    const next = Number(
      execFileSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" }),
    );
    asNobody(`
      import { symlinkSync } from "node:fs";
      for (let pid = ${next}; pid < ${next + 400}; pid++)
        for (const kind of ["new", "stale"]) symlinkSync(${JSON.stringify(victim)}, ${JSON.stringify(`${fx.tokenPath}.lock.`)} + pid + "_1." + kind);
    `);
    const runs = 3;
    for (let i = 0; i < runs; i++) {
      expect((await runCli(fx.args(server.backend, "-force-refresh"))).code).toBe(0);
    }
    expect(await readFile(victim, "utf8")).toBe("precious");
    await record(
      `symlinks planted at lock scratch names, ${mode.toString(8)} dir`,
      runs,
      async () => (await readFile(victim, "utf8")) === "precious" && tokenIsWhole(fx.tokenPath),
    );
    expect(what).toBeTruthy();
    await fx.cleanup();
  });

  it("a FIFO and symlinks another user planted at the token and copy paths are replaced, the token saved", async () => {
    const fx = await sharedDirFixture(0o1777);
    await rm(fx.tokenPath);
    // The reviewer's setup: these used to block every run (exit 1, no RPC) for good.
    asNobody(`
      import { execFileSync } from "node:child_process";
      import { symlinkSync } from "node:fs";
      execFileSync("mkfifo", [${JSON.stringify(fx.tokenPath)}]);
      symlinkSync("/etc", ${JSON.stringify(fx.path("copy.json"))});
    `);
    const copy = ["-token-file-copy", fx.path("copy.json")];
    const r = await runCli(fx.args(server.backend, ...copy, "-timeout", "5s"), {
      onSpawn: (child) => setTimeout(() => child.kill("SIGKILL"), 15_000),
    });
    expect(r.code).toBe(0);
    expect(await status(fx)).toMatchObject({ update_outcome: "UPDATE_SUCCESS", update_reason: "NEW_TOKEN" });
    for (const path of [fx.tokenPath, fx.path("copy.json")]) {
      const entry = await lstat(path);
      expect([entry.isFile(), entry.uid]).toEqual([true, 0]);
    }
    // A copy that is their symlink to their file with our very bytes: rewritten, not "the token is good".
    asNobody(`
      import { copyFileSync, symlinkSync } from "node:fs";
      copyFileSync(${JSON.stringify(fx.tokenPath)}, ${JSON.stringify(fx.path("theirs"))});
      symlinkSync("theirs", ${JSON.stringify(fx.path("copy2.json"))});
    `);
    const good = await runCli(fx.args(server.backend, ...copy, "-token-file-copy", fx.path("copy2.json")));
    expect(good.code).toBe(0);
    expect(await status(fx)).toMatchObject({
      update_outcome: "TOKEN_IS_GOOD",
      update_reason: "MISSING_TOKEN_COPY",
    });
    expect((await lstat(fx.path("copy2.json"))).uid).toBe(0);
    await record(
      "FIFO and symlinks of another user at token and copy paths",
      2,
      async () =>
        (await tokenIsWhole(fx.tokenPath)) &&
        (await tokenIsWhole(fx.path("copy.json"))) &&
        tokenIsWhole(fx.path("copy2.json")),
    );
    await fx.cleanup();
  });

  it("a lock of another user, dated in the far future, neither blocks an unprivileged run nor is removed", async () => {
    const fx = await sharedDirFixture(0o1777, 65534, 65534);
    const lock = `${fx.tokenPath}.lock`;
    const forged = JSON.stringify({
      pid: 1,
      host: hostname(),
      createdMs: Date.now() + 10 * 365 * 86_400_000,
      nonce: "x",
    });
    await writeFile(lock, forged);
    await chown(lock, 12345, 12345);
    const r = await runCli(fx.args(server.backend, "-force-refresh", "-timeout", "3s"), { wrapper: NOBODY });
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(2500);
    expect((await status(fx)).update_outcome).toBe("UPDATE_SUCCESS");
    expect(r.stderr).toContain(
      `The lock ${lock} belongs to uid 12345, not to this user or root; ignoring it`,
    );
    expect(await readFile(lock, "utf8")).toBe(forged);
    // Root's run treats nobody's lock the same way.
    await chown(lock, 65534, 65534);
    const root = await runCli(fx.args(server.backend, "-force-refresh", "-timeout", "3s"));
    expect(root.code).toBe(0);
    expect(root.stderr).toContain(`The lock ${lock} belongs to uid 65534`);
    expect(await readFile(lock, "utf8")).toBe(forged);
    await record("lock of another user from the future", 2, () => tokenIsWhole(fx.tokenPath));
    await fx.cleanup();
  });

  it("an unreadable lock of another user: no busy loop, no waiting, a log line, nothing left behind", async () => {
    const fx = await sharedDirFixture(0o1777, 65534, 65534);
    const lock = `${fx.tokenPath}.lock`;
    await writeFile(lock, "secret", { mode: 0o600 });
    await chown(lock, 12345, 12345);
    const r = await runCli(fx.args(server.backend, "-force-refresh", "-timeout", "3s"), {
      wrapper: NOBODY,
      onSpawn: (child) => setTimeout(() => child.kill("SIGKILL"), 15_000),
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(2500);
    expect(r.stderr).toContain(`The lock ${lock} belongs to uid 12345`);
    expect(await extraFiles(fx)).toEqual(["token.json.lock"]);
    await record("unreadable lock of another user", 1, () => tokenIsWhole(fx.tokenPath));
    await fx.cleanup();
  });

  it("a root lock an unprivileged run may not break: sleeps until -timeout, then names the lock, not the RPC", async () => {
    const fx = await sharedDirFixture(0o1777, 65534, 65534);
    const lock = `${fx.tokenPath}.lock`;
    await writeFile(lock, "damaged", { mode: 0o600 }); // root's, unreadable, stale: nobody can't remove it
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    server.requests.length = 0;
    let cpu = Number.NaN;
    const r = await runCli(fx.args(server.backend, "-force-refresh", "-timeout", "2s"), {
      wrapper: NOBODY,
      onSpawn: (child) => {
        setTimeout(async () => {
          cpu = await cpuSeconds(child.pid ?? 0).catch(() => Number.NaN);
        }, 1800);
        setTimeout(() => child.kill("SIGKILL"), 15_000);
      },
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(2000 + 1200);
    expect(cpu).toBeLessThan(0.9); // start-up and a poll every 50 ms, not a spinning loop
    expect(server.requests).toHaveLength(0);
    const s = await status(fx);
    expect(s.update_outcome).toBe("GRPC_ERROR_4");
    expect(s.failure_error).toBe(
      `another run still held the lock ${lock} at the deadline (a lock file that is unreadable (EACCES: permission denied)); no token was requested`,
    );
    expect(r.stderr).not.toContain("MintMachineToken");
    expect(await readFile(lock, "utf8")).toBe("damaged");
    expect(await extraFiles(fx)).toEqual(["token.json.lock"]);
    await record("root lock an unprivileged run cannot break", 1, () => tokenIsWhole(fx.tokenPath));
    await fx.cleanup();
  });

  it("token and status owned by another user in a sticky directory: -timeout holds, no rename retries", async () => {
    const fx = await sharedDirFixture(0o1777, 12345, 12345);
    await chown(fx.keyPath, 65534, 65534);
    // Another content than a token minted in this second (the same content is not rewritten).
    const file = JSON.parse(await readFile(fx.tokenPath, "utf8"));
    file.last_update = String(Number(file.last_update) - 1);
    await writeFile(fx.tokenPath, JSON.stringify(file, null, 2));
    const before = await readFile(fx.tokenPath, "utf8");
    const r = await runCli(fx.args(server.backend, "-force-refresh", "-timeout", "3s"), { wrapper: NOBODY });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(3000);
    expect(r.stderr).toContain(
      `Failed to write token file ${fx.tokenPath} - EPERM: operation not permitted (replacing ${fx.tokenPath})`,
    );
    expect(r.stderr).toMatch(/Failed to write the status file .*EPERM: operation not permitted \(replacing /);
    expect(r.stderr).not.toMatch(/\.tmp\b/);
    expect(await readFile(fx.tokenPath, "utf8")).toBe(before);
    expect(await extraFiles(fx)).toEqual([]);
    await record(
      "token and status of another user (sticky dir)",
      1,
      async () => (await readFile(fx.tokenPath, "utf8")) === before,
    );
    await fx.cleanup();
  });
});

describe("hardening #11: killed runs, special files, signals, hooks", () => {
  it("kill -9 of lock takers at random moments leaves nothing that one normal run does not clean", async () => {
    const fx = await withGoodToken();
    // Three processes taking and releasing the token's lock in a loop (the real module, built).
    const script = `
      const { acquireRunLock } = await import(${JSON.stringify(coreDist)});
      process.stdout.write("ready\\n");
      for (;;) {
        const r = await acquireRunLock(${JSON.stringify(fx.tokenPath)}, { deadline: new Date(Date.now() + 5000), pollMs: 1 });
        const lock = r && ("lock" in r ? r.lock : r);
        if (lock) await lock.release();
      }
    `;
    const spawnTaker = () =>
      spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "ignore"] });
    let kills = 0;
    let litter: string[] = [];
    // Batches of random kills until some litter is left: a kill lands between lock files more
    // often than not, and one batch can leave nothing (bounded: a lock that never leaves litter
    // fails the precondition below, which is fine too).
    for (let batch = 0; batch < 5 && litter.length === 0; batch++) {
      const takers = [spawnTaker(), spawnTaker(), spawnTaker()];
      for (let round = 0; round < 8; round++) {
        for (let i = 0; i < takers.length; i++) {
          const taker = takers[i] as ChildProcess;
          await new Promise((r) => taker.stdout?.once("data", r));
          await new Promise((r) => setTimeout(r, Math.random() * 40));
          taker.kill("SIGKILL");
          await new Promise((r) => taker.once("exit", r));
          kills++;
          takers[i] = spawnTaker();
        }
      }
      for (const t of takers) {
        t.kill("SIGKILL");
        await new Promise((r) => t.once("exit", r));
        kills++;
      }
      litter = await extraFiles(fx);
    }
    expect(litter.length).toBeGreaterThan(0); // the kills did leave scratch files and locks behind
    const r = await runCli(fx.args(server.backend, "-timeout", "5s"));
    expect(r.code).toBe(0);
    expect(await extraFiles(fx)).toEqual([]);
    await record(`kill -9 of lock takers (${kills} kills)`, 1, () => tokenIsWhole(fx.tokenPath));
    await fx.cleanup();
  });

  it.each([
    ["a FIFO", (p: string) => execFileSync("mkfifo", [p]), "a FIFO", "a FIFO"],
    [
      "a symlink to /dev/zero",
      (p: string) => symlinkSync("/dev/zero", p),
      "a character device",
      "a symbolic link to a character device",
    ],
  ])(
    "%s of our own at the token path: a clear error within -timeout, no RPC, nothing read",
    async (what, make, kind, entry) => {
      // Our own (or root's) special file is a mistake to show; another user's is replaced (hardening #11).
      const fx = await withGoodToken();
      const path = fx.path("special.json");
      make(path);
      const args = fx.args(server.backend, "-timeout", "2s").map((a) => (a === fx.tokenPath ? path : a));
      server.requests.length = 0;
      const r = await runCli(args, { onSpawn: (child) => setTimeout(() => child.kill("SIGKILL"), 15_000) });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(2000);
      expect(r.stderr).toContain(
        `Failed to read token file from "${path}" - not a regular file (it is ${kind})`,
      );
      expect((await status(fx)).update_outcome).toBe("UNKNOWN_SAVE_TOKEN_ERROR");
      expect((await status(fx)).failure_error).toBe(`${path} is ${entry}, not a token file`);
      expect(server.requests).toHaveLength(0);
      await record(`${what} of our own at the token path`, 1, () => tokenIsWhole(fx.tokenPath));
      await fx.cleanup();
    },
  );

  it("a FIFO as the key, passphrase, ca-bundle or ts-mon config file: one clear line, no hang", async () => {
    const fx = await withGoodToken();
    const fifo = fx.path("fifo");
    execFileSync("mkfifo", [fifo]);
    const cases: Array<[string[], RegExp]> = [
      [fx.args(server.backend).map((a) => (a === fx.keyPath ? fifo : a)), /CANT_READ_KEY/],
      [fx.args(server.backend, "-pkey-passphrase-file", fifo), /CANT_READ_KEY/],
      [fx.args(server.backend, "-force-refresh", "-ca-bundle", fifo), /UNKNOWN_RPC_ERROR/],
    ];
    for (const [args, outcome] of cases) {
      await rm(fx.statusPath, { force: true }); // a crash writes none: the outcome must be this run's
      const r = await runCli([...args, "-timeout", "2s"], {
        onSpawn: (child) => setTimeout(() => child.kill("SIGKILL"), 15_000),
      });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.ms).toBeLessThan(2000);
      expect(String((await status(fx)).update_outcome)).toMatch(outcome);
      expect(String((await status(fx)).failure_error)).toMatch(
        new RegExp(`^[^\\n]*${fifo}: not a regular file \\(it is a FIFO\\)$`),
      );
    }
    const tsMon = await runCli(
      fx.args(server.backend).map((a) => (a.endsWith("no-ts-mon.json") ? fifo : a)),
      {
        onSpawn: (child) => setTimeout(() => child.kill("SIGKILL"), 15_000),
      },
    );
    expect(tsMon.code).toBe(0);
    expect(tsMon.stderr).toContain("not a regular file (it is a FIFO)");
    await record("FIFO as key, passphrase, ca-bundle, ts-mon config", cases.length + 1, () =>
      tokenIsWhole(fx.tokenPath),
    );
    await fx.cleanup();
  });

  it("two SIGTERMs during an RPC: the run ends at once with exit code 1, as Go, the token intact", async () => {
    // Whether the second signal lands before the cancelled run ends is a race; either way the exit
    // code is 1. (interrupts.test.ts checks the second signal itself, also with a stuck thread.)
    const fx = await withGoodToken();
    const before = await readFile(fx.tokenPath, "utf8");
    server.faults.set({ latencyMs: 3_600_000 });
    const r = await runCli(fx.args(server.backend, "-force-refresh", "-timeout", "60s"), {
      onSpawn: (child) => {
        child.stderr?.on("data", (d: Buffer) => {
          if (d.toString().includes("Updating the token")) {
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGTERM"), 5);
          }
        });
        setTimeout(() => child.kill("SIGKILL"), 15_000);
      },
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(5000);
    await record(
      "two SIGTERMs during an RPC",
      1,
      async () => (await readFile(fx.tokenPath, "utf8")) === before,
    );
    await fx.cleanup();
  });

  it("an -exec hook outliving -exec-timeout: its whole process group is killed, the run does not wait", async () => {
    const fx = await createTokendFixture(pki);
    const grandchild = fx.path("grandchild.pid");
    const hook = `sleep 31 & echo $! > ${grandchild}; wait; echo after`;
    const r = await runCli(fx.args(server.backend, "-exec", hook, "-exec-timeout", "1s"), {
      onSpawn: (child) => setTimeout(() => child.kill("SIGKILL"), 20_000),
    });
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(1000 + 3000);
    expect(r.stderr).not.toMatch(/^after$/m);
    expect(r.stderr).toMatch(/-exec command timed out after 1s; its process group was killed/);
    const s = await status(fx);
    expect(s.update_outcome).toBe("UPDATE_SUCCESS");
    expect(String(s.log_dump)).toContain("-exec command timed out after 1s");
    const pid = Number(await readFile(grandchild, "utf8"));
    expect(await processGone(pid)).toBe(true); // the grandchild (sleep) is gone too
    await record("-exec hook outliving -exec-timeout", 1, () => tokenIsWhole(fx.tokenPath));
    await fx.cleanup();
  });
});

describe("TLS and proxies", () => {
  let tlsFront: TlsFront;
  let tlsPort = 0;
  let caPem = "";
  let dir = "";

  beforeAll(async () => {
    // An HTTPS front for the dev server, with a certificate for tokens.test from its own CA.
    const ca = await makeTlsCa();
    caPem = ca.certPem;
    dir = await mkdtemp(join(tmpdir(), "tokend-tls-"));
    await writeFile(join(dir, "ca.pem"), caPem);
    tlsFront = await startTlsFront(server.url, await ca.issue({ dns: ["tokens.test"] }));
    tlsPort = tlsFront.port;
  });
  afterAll(async () => {
    await tlsFront.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("rejects an unknown CA by default, accepts it with -ca-bundle or SSL_CERT_FILE, through a real CONNECT proxy", async () => {
    const { createServer } = await import("node:http");
    const { connect } = await import("node:net");
    const tunnels: string[] = [];
    // The proxy resolves every name to the TLS front, as a corporate proxy resolves public names.
    const proxy = createServer();
    proxy.on("connect", (req, socket, head) => {
      tunnels.push(req.url ?? "");
      const upstream = connect(tlsPort, "127.0.0.1", () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const fx = await createTokendFixture(pki);
      const backend = `tokens.test:${tlsPort}`;
      const env = { HTTPS_PROXY: proxyUrl, NO_PROXY: "", no_proxy: "" };
      const untrusted = await runCli(fx.args(backend, "-timeout", "1s"), { env });
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/certificate/i);
      expect(tunnels[0]).toBe(backend);
      const trusted = await runCli(fx.args(backend, "-ca-bundle", join(dir, "ca.pem"), "-timeout", "5s"), {
        env,
      });
      expect(trusted.code).toBe(0);
      expect(await tokenIsWhole(fx.tokenPath)).toBe(true);
      const viaEnv = await runCli(fx.args(backend, "-force-refresh"), {
        env: { ...env, SSL_CERT_FILE: join(dir, "ca.pem") },
      });
      expect(viaEnv.code).toBe(0);
      const tunnelsBefore = tunnels.length;
      const excluded = await runCli(fx.args(backend, "-force-refresh", "-timeout", "1s"), {
        env: { ...env, NO_PROXY: "tokens.test", SSL_CERT_FILE: join(dir, "ca.pem") },
      });
      expect(excluded.code).toBe(1); // not proxied: tokens.test does not resolve
      expect(excluded.stderr).toMatch(/ENOTFOUND|EAI_AGAIN/);
      expect(tunnels.length).toBe(tunnelsBefore);
      expect(tunnels.filter((t) => t === backend).length).toBe(tunnels.length);
      await fx.cleanup();
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
