import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemSleep } from "./clock.js";
import { acquireRunLock, type RunLock, type RunLockOptions } from "./run-lock.js";
import { createFakeClock } from "./testing/fake-clock.js";
import { type RecordingLogger, recordingLogger } from "./testing/recording-logger.js";
import { makeTempDir } from "./testing/temp-dir.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const runLockSource = fileURLToPath(new URL("./run-lock.ts", import.meta.url));

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

/** Options on a fake clock: sleeping moves the clock, so a deadline passes without waiting. */
function fakeOpts(extra: Partial<RunLockOptions> = {}) {
  const clock = createFakeClock(Date.now());
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

async function writeLock(owner: Record<string, unknown> | string): Promise<string> {
  const text = typeof owner === "string" ? owner : JSON.stringify(owner);
  await writeFile(lockPath, text);
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
    const lock = await acquireRunLock(${JSON.stringify(token)}, { deadline: new Date(Date.now() + 5000) });
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
  it("creates <token>.lock naming this process, and release removes it", async () => {
    const lock = await acquireRunLock(token, opts());
    expect(lock?.path).toBe(lockPath);
    const owner = JSON.parse(await readFile(lockPath, "utf8"));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect(owner.createdMs).toBeTypeOf("number");
    expect(await readdir(tmp.dir)).toEqual(["token.json.lock"]);
    await lock?.release();
    expect(await readdir(tmp.dir)).toEqual([]);
    await lock?.release(); // twice is harmless
    expect(logger.lines).toEqual([]);
  });

  it("makes a second acquirer wait until the first releases", async () => {
    const first = await acquireRunLock(token, opts());
    expect(first).toBeDefined();
    let second: RunLock | undefined;
    let settled = false;
    const waiting = acquireRunLock(token, opts()).then((l) => {
      settled = true;
      second = l;
    });
    await systemSleep(60);
    expect(settled).toBe(false);
    expect(logger.at("info")).toEqual([`Another run holds ${lockPath}; waiting for it`]);
    await first?.release();
    await waiting;
    expect(second?.path).toBe(lockPath);
    const owner = JSON.parse(await readFile(lockPath, "utf8"));
    expect(owner.pid).toBe(process.pid);
    await second?.release();
    expect(await readdir(tmp.dir)).toEqual([]);
  });

  it("gives up at the deadline, leaving the holder's lock alone", async () => {
    const held = await acquireRunLock(token, opts());
    const before = await readFile(lockPath, "utf8");
    const { clock, options } = fakeOpts();
    const start = clock.ms();
    expect(await acquireRunLock(token, options)).toBeUndefined();
    expect(clock.ms() - start).toBe(1000);
    expect(clock.delays).toEqual(Array(10).fill(100));
    expect(await readFile(lockPath, "utf8")).toBe(before);
    await held?.release();
  });

  it("sleeps no longer than what is left before the deadline", async () => {
    const held = await acquireRunLock(token, opts());
    const { clock, options } = fakeOpts({ pollMs: 300 });
    expect(await acquireRunLock(token, options)).toBeUndefined();
    expect(clock.delays).toEqual([300, 300, 300, 100]);
    await held?.release();
  });

  it("takes a free lock even when the deadline has passed", async () => {
    const lock = await acquireRunLock(token, opts({ deadline: new Date(0) }));
    expect(lock).toBeDefined();
    await lock?.release();
  });

  it("gives up when the signal aborts while waiting", async () => {
    const held = await acquireRunLock(token, opts());
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("stop")), 50);
    const lock = await acquireRunLock(
      token,
      opts({ deadline: new Date(Date.now() + 60_000), signal: controller.signal, pollMs: 20 }),
    );
    expect(lock).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await readFile(lockPath, "utf8")).toContain(`"pid":${process.pid}`);
    // Already aborted: no wait at all.
    const { clock, options } = fakeOpts({ signal: AbortSignal.abort() });
    expect(await acquireRunLock(token, options)).toBeUndefined();
    expect(clock.delays).toEqual([]);
    await held?.release();
  });

  it("waits for a lock held by another live process, and breaks it once that process is killed", async () => {
    const child = await childHoldingLock();
    const owner = JSON.parse(await readFile(lockPath, "utf8"));
    expect(owner).toMatchObject({ pid: child.pid, host: hostname() });

    const { options } = fakeOpts();
    expect(await acquireRunLock(token, options)).toBeUndefined();
    expect(logger.at("warning")).toEqual([]);

    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const lock = await acquireRunLock(token, fakeOpts().options);
    expect(lock).toBeDefined();
    expect(logger.at("warning")).toEqual([`Broke a stale lock ${lockPath} (its run is gone)`]);
    expect(JSON.parse(await readFile(lockPath, "utf8")).pid).toBe(process.pid);
    await lock?.release();
    expect(await readdir(tmp.dir)).toEqual([]);
  });

  it("breaks a lock whose process is gone (same host) without waiting", async () => {
    await writeLock({ pid: await deadPid(), host: hostname(), createdMs: Date.now() });
    const { clock, options } = fakeOpts();
    const lock = await acquireRunLock(token, options);
    expect(lock).toBeDefined();
    expect(clock.delays).toEqual([]);
    expect(logger.at("warning")).toEqual([`Broke a stale lock ${lockPath} (its run is gone)`]);
    await lock?.release();
  });

  it("does not judge the pid of a lock taken on another host", async () => {
    await writeLock({ pid: await deadPid(), host: `not-${hostname()}`, createdMs: Date.now() });
    const { options } = fakeOpts();
    expect(await acquireRunLock(token, options)).toBeUndefined();
    expect(logger.at("warning")).toEqual([]);
  });

  it("breaks a lock older than staleAfterMs even if its process is alive, and not a moment sooner", async () => {
    const { clock, options } = fakeOpts({ staleAfterMs: 60_000, isAlive: () => true, deadline: new Date(0) });
    const parent = { pid: process.ppid, host: hostname() };
    await writeLock({ ...parent, createdMs: clock.ms() - 60_000 });
    expect(await acquireRunLock(token, options)).toBeUndefined();
    await writeLock({ ...parent, createdMs: clock.ms() - 60_001 });
    const lock = await acquireRunLock(token, options);
    expect(lock).toBeDefined();
    expect(logger.at("warning")).toEqual([`Broke a stale lock ${lockPath} (its run is gone)`]);
    await lock?.release();
  });

  it("breaks the lock after 10 minutes by default", async () => {
    const { clock, options } = fakeOpts({ isAlive: () => true, deadline: new Date(0) });
    await writeLock({ pid: process.ppid, host: hostname(), createdMs: clock.ms() - 10 * 60_000 });
    expect(await acquireRunLock(token, options)).toBeUndefined();
    await writeLock({ pid: process.ppid, host: hostname(), createdMs: clock.ms() - 10 * 60_000 - 1 });
    const lock = await acquireRunLock(token, options);
    expect(lock).toBeDefined();
    await lock?.release();
  });

  it("counts a lock's age from when it was taken, not from when its taker started waiting", async () => {
    const held = await acquireRunLock(token, opts());
    const { clock, options } = fakeOpts({ deadline: new Date(Date.now() + 60 * 60_000), pollMs: 60_000 });
    const start = clock.ms();
    const waiter = acquireRunLock(token, options);
    // Let the waiter sleep through 5 fake minutes, then free the lock.
    while (clock.ms() - start < 5 * 60_000) await systemSleep(1);
    await held?.release();
    const lock = await waiter;
    expect(JSON.parse(await readFile(lockPath, "utf8")).createdMs).toBeGreaterThanOrEqual(start + 5 * 60_000);
    await lock?.release();
  });

  it.each([
    ["garbage", "not json at all"],
    ["empty", ""],
    ["JSON without a pid", JSON.stringify({ host: "h", createdMs: 1 })],
    ["a pid that is not a number", JSON.stringify({ pid: "12", host: "h", createdMs: 1 })],
  ])("breaks a lock with %s content", async (_name, content) => {
    await writeLock(content);
    const { options } = fakeOpts();
    const lock = await acquireRunLock(token, options);
    expect(lock).toBeDefined();
    expect(logger.at("warning")).toEqual([`Broke a stale lock ${lockPath} (its run is gone)`]);
    await lock?.release();
  });

  it("breaks a lock with this process's pid that this process does not hold (an earlier process, pid reused)", async () => {
    await writeLock({ pid: process.pid, host: hostname(), createdMs: Date.now() - 1000 });
    const { options } = fakeOpts();
    const lock = await acquireRunLock(token, options);
    expect(lock).toBeDefined();
    expect(logger.at("warning")).toHaveLength(1);
    await lock?.release();
  });

  it("releases only its own lock", async () => {
    const lock = await acquireRunLock(token, opts());
    const someoneElse = await writeLock({ pid: process.ppid, host: hostname(), createdMs: Date.now() });
    await lock?.release();
    expect(await readFile(lockPath, "utf8")).toBe(someoneElse);
  });

  it("runs without a lock, with a warning, when the lock cannot be made", async () => {
    const file = tmp.path("a-file");
    await writeFile(file, "x");
    const inFile = `${file}/token.json`;
    expect(await acquireRunLock(inFile, opts())).toBeUndefined();
    const warnings = logger.at("warning");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(`Cannot take the lock ${inFile}.lock, running without it - ENOTDIR`);
  });

  it("never lets two of 20 concurrent acquirers in one process inside at once", async () => {
    let inside = 0;
    let maxInside = 0;
    let entered = 0;
    const worker = async () => {
      const lock = await acquireRunLock(token, opts({ deadline: new Date(Date.now() + 10_000), pollMs: 1 }));
      if (!lock) throw new Error("did not get the lock");
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
