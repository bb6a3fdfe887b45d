import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { watch } from "node:fs";
import { chmod, chown, lstat, readdir, readFile, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemSleep } from "../common/clock.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { type RecordingLogger, recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { until } from "../testing/until.js";
import { acquireRunLock, type RunLock, type RunLockOptions, type RunLockResult } from "./run-lock.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const runLockSource = fileURLToPath(new URL("./run-lock.ts", import.meta.url));
const asRoot = process.getuid?.() === 0;

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let token: string;
let lockPath: string;
let logger: RecordingLogger;
const children: ChildProcess[] = [];

beforeEach(async () => {
  tmp = await makeTempDir();
  token = tmp.path("token.json");
  lockPath = `${token}.lock`;
  logger = recordingLogger();
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await tmp.remove();
});

/** Options with a real clock, a 2 s deadline and a 5 ms poll. */
function opts(extra: Partial<RunLockOptions> = {}): RunLockOptions {
  return { deadline: new Date(Date.now() + 2000), pollMs: 5, logger, ...extra };
}

/** Options on a fake clock (from `startMs`): sleeping moves the clock, so a deadline passes without waiting. */
function fakeOpts(extra: Partial<RunLockOptions> = {}, startMs = Date.now()) {
  const clock = createFakeClock(startMs);
  const options: RunLockOptions = {
    deadline: new Date(clock.ms() + 1000),
    pollMs: 100,
    now: clock.now,
    sleep: clock.sleep,
    logger,
    ...extra,
  };
  return { clock, options };
}

/** The lock of a result that must have one. */
function held(result: RunLockResult): RunLock {
  if (!result.lock) throw new Error(`no lock: ${result.refused} - ${result.message}`);
  return result.lock;
}

/** A lock body as a run writes it, with `extra` fields changed. */
function body(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    pid: process.ppid,
    host: hostname(),
    createdMs: Date.now(),
    nonce: randomBytes(16).toString("hex"),
    ...extra,
  });
}

/** Writes a lock file, optionally dated `ageMs` in the past (its mtime). */
async function writeLock(text: string, ageMs = 0): Promise<string> {
  await writeFile(lockPath, text);
  if (ageMs) {
    const then = new Date(Date.now() - ageMs);
    await utimes(lockPath, then, then);
  }
  return text;
}

/** Spawns a process and waits until it has exited (and was reaped): its pid is then dead. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  expect(child.pid).toBeTypeOf("number");
  return child.pid ?? -1;
}

/** Starts a process that takes the lock on `token` with the real module and keeps it. */
async function childHoldingLock(): Promise<ChildProcess> {
  const script = `
    const { acquireRunLock } = await import(${JSON.stringify(runLockSource)});
    const { lock } = await acquireRunLock(${JSON.stringify(token)}, { deadline: new Date(Date.now() + 5000) });
    process.stdout.write(lock ? "locked\\n" : "failed\\n");
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim()));
    child.once("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  expect(line).toBe("locked");
  return child;
}

describe("acquireRunLock", () => {
  it("creates <token>.lock naming this process, and release removes it, leaving nothing", async () => {
    const lock = held(await acquireRunLock(token, opts()));
    expect(lock.path).toBe(lockPath);
    const owner = JSON.parse(await readFile(lockPath, "utf8"));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect(owner.createdMs).toBeTypeOf("number");
    expect(owner.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(await readdir(tmp.dir)).toEqual(["token.json.lock"]);
    await lock.release();
    expect(await readdir(tmp.dir)).toEqual([]);
    await lock.release(); // twice is harmless
    expect(logger.lines).toEqual([]);
  });

  it("makes a second acquirer wait until the first releases", async () => {
    const first = held(await acquireRunLock(token, opts()));
    let second: RunLockResult | undefined;
    const waiting = acquireRunLock(token, opts()).then((r) => {
      second = r;
    });
    await until(() => logger.at("info").length > 0, 5_000);
    expect(second).toBeUndefined();
    expect(logger.at("info")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Another run holds ${lockPath} \\(pid ${process.pid} on "[^"]+", taken \\d+(\\.\\d+)?m?s ago\\); waiting for it$`,
        ),
      ),
    ]);
    await first.release();
    await waiting;
    const lock = held(second as RunLockResult);
    expect(JSON.parse(await readFile(lockPath, "utf8")).pid).toBe(process.pid);
    await lock.release();
    expect(await readdir(tmp.dir)).toEqual([]);
  });

  it("gives up at the deadline, saying so with the lock file, leaving the holder's lock alone", async () => {
    const holder = held(await acquireRunLock(token, opts()));
    const before = await readFile(lockPath, "utf8");
    const { clock, options } = fakeOpts();
    const start = clock.ms();
    const result = await acquireRunLock(token, options);
    expect(result).toMatchObject({ refused: "timeout" });
    expect(result.message).toMatch(
      new RegExp(`^another run still held the lock ${lockPath} at the deadline \\(pid ${process.pid} on `),
    );
    expect(logger.at("warning")).toEqual([`Gave up waiting: ${result.message}`]);
    expect(clock.ms() - start).toBe(1000);
    expect(clock.delays).toEqual(Array(10).fill(100));
    expect(await readFile(lockPath, "utf8")).toBe(before);
    await holder.release();
  });

  it("sleeps no longer than what is left before the deadline", async () => {
    const holder = held(await acquireRunLock(token, opts()));
    const { clock, options } = fakeOpts({ pollMs: 300 });
    expect((await acquireRunLock(token, options)).refused).toBe("timeout");
    expect(clock.delays).toEqual([300, 300, 300, 100]);
    await holder.release();
  });

  it("takes a free lock even when the deadline has passed", async () => {
    const lock = held(await acquireRunLock(token, opts({ deadline: new Date(0) })));
    await lock.release();
  });

  it("gives up when the signal aborts while waiting", async () => {
    const holder = held(await acquireRunLock(token, opts()));
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("stop")), 50);
    const result = await acquireRunLock(
      token,
      opts({ deadline: new Date(Date.now() + 60_000), signal: controller.signal, pollMs: 20 }),
    );
    expect(result).toMatchObject({
      refused: "aborted",
      message: `cancelled while waiting for the lock ${lockPath}`,
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await readFile(lockPath, "utf8")).toContain(`"pid":${process.pid}`);
    // Already aborted: no wait at all.
    const { clock, options } = fakeOpts({ signal: AbortSignal.abort() });
    expect((await acquireRunLock(token, options)).refused).toBe("aborted");
    expect(clock.delays).toEqual([]);
    await holder.release();
  });

  it("waits for a lock held by another live process, and breaks it once that process is killed", async () => {
    const child = await childHoldingLock();
    const owner = JSON.parse(await readFile(lockPath, "utf8"));
    expect(owner).toMatchObject({ pid: child.pid, host: hostname() });

    expect((await acquireRunLock(token, fakeOpts().options)).refused).toBe("timeout");
    expect(logger.at("warning").filter((w) => w.startsWith("Broke"))).toEqual([]);

    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const lock = held(await acquireRunLock(token, fakeOpts().options));
    expect(logger.at("warning")).toContain(
      `Broke a stale lock ${lockPath} (its process ${child.pid} is gone)`,
    );
    expect(JSON.parse(await readFile(lockPath, "utf8")).pid).toBe(process.pid);
    await lock.release();
    expect(await readdir(tmp.dir)).toEqual([]);
  });

  it("breaks a lock whose process is gone (same host) without waiting", async () => {
    await writeLock(body({ pid: await deadPid() }));
    const { clock, options } = fakeOpts();
    const lock = held(await acquireRunLock(token, options));
    expect(clock.delays).toEqual([]);
    expect(logger.at("warning")).toEqual([
      expect.stringMatching(/^Broke a stale lock .* \(its process \d+ is gone\)$/),
    ]);
    await lock.release();
  });

  it("does not judge the pid of a lock taken on another host", async () => {
    await writeLock(body({ pid: await deadPid(), host: `not-${hostname()}` }));
    expect((await acquireRunLock(token, fakeOpts().options)).refused).toBe("timeout");
    expect(logger.at("warning")).toHaveLength(1); // the give-up, no break
  });

  it("breaks a lock older than staleAfterMs even if its process is alive, and not a moment sooner", async () => {
    const { clock, options } = fakeOpts({ staleAfterMs: 60_000, isAlive: () => true, deadline: new Date(0) });
    await writeLock(body({ createdMs: clock.ms() - 60_000 }));
    expect((await acquireRunLock(token, options)).refused).toBe("timeout");
    await writeLock(body({ createdMs: clock.ms() - 60_001 }));
    const lock = held(await acquireRunLock(token, options));
    expect(logger.at("warning")).toContain(`Broke a stale lock ${lockPath} (it was taken 1m0.001s ago)`);
    await lock.release();
  });

  it("breaks the lock after 10 minutes by default", async () => {
    const { clock, options } = fakeOpts({ isAlive: () => true, deadline: new Date(0) });
    await writeLock(body({ createdMs: clock.ms() - 10 * 60_000 }));
    expect((await acquireRunLock(token, options)).refused).toBe("timeout");
    await writeLock(body({ createdMs: clock.ms() - 10 * 60_000 - 1 }));
    held(await acquireRunLock(token, options)).release();
  });

  it("treats a lock dated in the future as invalid: broken at once, never waited for", async () => {
    const { clock, options } = fakeOpts({ isAlive: () => true });
    await writeLock(body({ createdMs: clock.ms() + 5000 }));
    expect((await acquireRunLock(token, { ...options, deadline: new Date(0) })).refused).toBe("timeout");
    await writeLock(body({ createdMs: clock.ms() + 365 * 24 * 3600_000 }));
    const lock = held(await acquireRunLock(token, options));
    expect(clock.delays).toEqual([]);
    expect(logger.at("warning")).toContain(
      `Broke a stale lock ${lockPath} (it is dated 8760h0m0s in the future)`,
    );
    await lock.release();
  });

  it("keeps a live holder's lock through clock steps either way (judged by its process, not the date)", async () => {
    const child = await childHoldingLock();
    const owner = JSON.parse(await readFile(lockPath, "utf8"));
    expect(owner).toMatchObject({ pid: child.pid, startTime: expect.stringMatching(/^\d+$/) }); // from /proc
    for (const stepMs of [11 * 60_000, 24 * 3600_000, -6_000, -365 * 24 * 3600_000]) {
      const { options } = fakeOpts({}, owner.createdMs + stepMs);
      expect((await acquireRunLock(token, options)).refused, `clock stepped ${stepMs} ms`).toBe("timeout");
    }
    expect(logger.at("warning").filter((w) => w.startsWith("Broke"))).toEqual([]);
    expect(JSON.parse(await readFile(lockPath, "utf8")).nonce).toBe(owner.nonce);
  });

  it("breaks a live holder's lock held past staleAfterMs by the boot clock (a stuck process), whatever the wall clock", async () => {
    const child = await childHoldingLock();
    const owner = JSON.parse(await readFile(lockPath, "utf8"));
    expect(owner.bootMs).toBeGreaterThan(0);
    await writeLock(JSON.stringify({ ...owner, bootMs: owner.bootMs - 61_000 }));
    const { options } = fakeOpts({ staleAfterMs: 60_000 });
    const lock = held(await acquireRunLock(token, options));
    expect(logger.at("warning")).toEqual([
      expect.stringMatching(/^Broke a stale lock .* \(it was taken 1m\d.*s ago\)$/),
    ]);
    expect(child.exitCode).toBeNull(); // alive all along
    await lock.release();
  });

  it("breaks a lock whose live pid started at another time (the pid was reused), without waiting", async () => {
    const child = await childHoldingLock();
    const owner = JSON.parse(await readFile(lockPath, "utf8"));
    await writeLock(JSON.stringify({ ...owner, startTime: String(Number(owner.startTime) - 1) }));
    const { clock, options } = fakeOpts();
    const lock = held(await acquireRunLock(token, options));
    expect(clock.delays).toEqual([]);
    expect(logger.at("warning")).toEqual([
      `Broke a stale lock ${lockPath} (its process ${child.pid} is gone (the pid was reused))`,
    ]);
    await lock.release();
  });

  it("counts a lock's age from when it was taken, not from when its taker started waiting", async () => {
    const holder = held(await acquireRunLock(token, opts()));
    const { clock, options } = fakeOpts({ deadline: new Date(Date.now() + 60 * 60_000), pollMs: 60_000 });
    const start = clock.ms();
    const waiter = acquireRunLock(token, options);
    // Let the waiter sleep through 5 fake minutes, then free the lock.
    while (clock.ms() - start < 5 * 60_000) await systemSleep(1);
    await holder.release();
    const lock = held(await waiter);
    expect(JSON.parse(await readFile(lockPath, "utf8")).createdMs).toBeGreaterThanOrEqual(start + 5 * 60_000);
    await lock.release();
  });

  it.each([
    ["garbage", "not json at all"],
    ["empty", ""],
    ["JSON without a pid", JSON.stringify({ host: "h", createdMs: 1, nonce: "n" })],
    ["a pid that is not a number", body({ pid: "12" })],
    ["no nonce (an older version's lock)", body({ nonce: undefined })],
    ["more than 4 KiB", body({ host: "h".repeat(5000) })],
  ])(
    "breaks a lock with %s content once it is 2 s old (it may still be being written before)",
    async (_name, content) => {
      await writeLock(content);
      expect((await acquireRunLock(token, fakeOpts({ deadline: new Date(0) }).options)).refused).toBe(
        "timeout",
      );
      await writeLock(content, 2500);
      const { clock, options } = fakeOpts();
      const lock = held(await acquireRunLock(token, options));
      expect(clock.delays).toEqual([]);
      expect(logger.at("warning")).toContain(`Broke a stale lock ${lockPath} (not a valid lock)`);
      await lock.release();
    },
  );

  it("breaks a lock with this process's pid that this process does not hold (an earlier process, pid reused)", async () => {
    await writeLock(body({ pid: process.pid, createdMs: Date.now() - 1000 }));
    held(await acquireRunLock(token, fakeOpts().options)).release();
    expect(logger.at("warning")).toEqual([
      `Broke a stale lock ${lockPath} (an earlier process with our pid)`,
    ]);
  });

  it("releases only its own lock, even when another has the same content", async () => {
    const lock = held(await acquireRunLock(token, opts()));
    const text = await readFile(lockPath, "utf8");
    await unlink(lockPath);
    await writeFile(lockPath, text); // another file, same bytes
    await lock.release();
    expect(await readFile(lockPath, "utf8")).toBe(text);
  });

  it("runs without a lock, with a warning that puts the real error first, when the lock cannot be made", async () => {
    const file = tmp.path("a-file");
    await writeFile(file, "x");
    const inFile = `${file}/token.json`;
    const result = await acquireRunLock(inFile, opts());
    expect(result).toMatchObject({ refused: "unavailable" });
    expect(logger.at("warning")).toEqual([
      `ENOTDIR: not a directory (creating the lock ${inFile}.lock); running without it`,
    ]);
  });

  it("never lets two of 20 concurrent acquirers in one process inside at once", async () => {
    let inside = 0;
    let maxInside = 0;
    let entered = 0;
    const worker = async () => {
      const lock = held(
        await acquireRunLock(token, opts({ deadline: new Date(Date.now() + 10_000), pollMs: 1 })),
      );
      inside++;
      entered++;
      maxInside = Math.max(maxInside, inside);
      await systemSleep(1);
      inside--;
      await lock.release();
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    expect(entered).toBe(20);
    expect(maxInside).toBe(1);
    expect(logger.at("warning")).toEqual([]);
    expect(await readdir(tmp.dir)).toEqual([]);
  });
});

describe("acquireRunLock in a directory others can write (hardening #11)", () => {
  it("never writes through a symlink planted at the earlier version's scratch names or at the lock itself (guessed new names: run-lock-planted.test.ts)", async () => {
    const victim = tmp.path("victim");
    await writeFile(victim, "precious");
    // The names the earlier version used (`<lock>.<pid>_<n>.new|.stale`, n counting from 1).
    const planted: string[] = [];
    for (let n = 1; n <= 100; n++) {
      for (const kind of ["new", "stale"]) {
        planted.push(`token.json.lock.${process.pid}_${n}.${kind}`);
        await symlink(victim, tmp.path(planted.at(-1) ?? ""));
      }
    }
    for (let i = 0; i < 5; i++) await held(await acquireRunLock(token, opts())).release();
    // A symlink at the lock name: never followed, broken (the link itself) once judged.
    await symlink(victim, lockPath);
    const then = new Date(Date.now() - 5000);
    execFileSync("touch", ["-h", "-d", then.toISOString(), lockPath]);
    await held(await acquireRunLock(token, opts())).release();
    expect(await readFile(victim, "utf8")).toBe("precious");
    expect((await readdir(tmp.dir)).sort()).toEqual([...planted, "victim"].sort());
  });

  it("makes scratch names nobody can guess: <lock>.<pid>.<64 random bits>.new", async () => {
    const seen = new Set<string>();
    const watcher = watch(tmp.dir, (_event, name) => {
      if (name) seen.add(String(name));
    });
    try {
      for (let i = 0; i < 3; i++) await held(await acquireRunLock(token, opts())).release();
      await systemSleep(50);
    } finally {
      watcher.close();
    }
    const scratch = [...seen].filter((n) => n !== "token.json.lock");
    expect(scratch.length).toBeGreaterThanOrEqual(3);
    for (const n of scratch)
      expect(n).toMatch(new RegExp(`^token\\.json\\.lock\\.${process.pid}\\.[0-9a-f]{16}\\.(new|stale)$`));
  });

  it.skipIf(!asRoot)(
    "never waits for, nor removes, a lock owned by another user, however it looks",
    async () => {
      for (const [name, content] of [
        ["from the far future", body({ createdMs: Date.now() + 10 * 365 * 24 * 3600_000 })],
        ["of a dead process", body({ pid: await deadPid() })],
        ["garbage", "garbage"],
      ] as const) {
        await writeLock(content, 60_000);
        await chown(lockPath, 12345, 12345);
        await chmod(lockPath, 0o600);
        const { clock, options } = fakeOpts({ deadline: new Date(Date.now() + 60_000) });
        const result = await acquireRunLock(token, options);
        expect(result, name).toEqual({
          refused: "foreign",
          message: `The lock ${lockPath} belongs to uid 12345, not to this user or root; ignoring it and running without a lock`,
        });
        expect(clock.delays).toEqual([]);
        expect(await readFile(lockPath, "utf8")).toBe(content);
        expect((await lstat(lockPath)).uid).toBe(12345);
        expect(await readdir(tmp.dir)).toEqual(["token.json.lock"]);
        await unlink(lockPath);
      }
    },
  );

  it("removes the scratch files that killed lock takers and breakers left, and no one else's", async () => {
    const dead = await deadPid();
    const litter = [
      `token.json.lock.${dead}.0123456789abcdef.new`,
      `token.json.lock.${dead}.fedcba9876543210.stale`,
      `token.json.lock.${dead}_1.new`, // earlier versions' names
      `token.json.lock.${dead}_7.stale`,
    ];
    const kept = [
      `token.json.lock.${process.ppid}.0123456789abcdef.new`, // a live process's, in use
      `token.json.lock.${dead}.0123456789abcdef.new.bak`,
      `other.json.lock.${dead}.0123456789abcdef.new`,
    ];
    for (const n of [...litter, ...kept]) await writeFile(tmp.path(n), body());
    const lock = held(await acquireRunLock(token, opts()));
    expect((await readdir(tmp.dir)).sort()).toEqual([...kept, "token.json.lock"].sort());
    await lock.release();
  });
});
