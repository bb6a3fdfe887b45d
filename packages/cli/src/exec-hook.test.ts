import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@luci-machine-tokend/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runExecHook } from "./exec-hook.js";
import { processGone } from "./testing/process-gone.js";

let dir: string;
let lines: string[];
let chunks: Uint8Array[];
const logger: Logger = { log: (level, m) => lines.push(`${level}: ${m}`) };
const sink = { write: (chunk: Uint8Array) => chunks.push(chunk) };
const output = () => Buffer.concat(chunks).toString();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tokend-exec-"));
  lines = [];
  chunks = [];
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("-exec hook", () => {
  it("runs the command through the shell with LUCI_MACHINE_TOKEN_FILE and logs its status", async () => {
    const out = join(dir, "seen");
    const code = await runExecHook(
      `printf %s "$LUCI_MACHINE_TOKEN_FILE" > ${out}`,
      "/var/lib/t.json",
      5_000,
      logger,
    );
    expect(code).toBe(0);
    expect(await readFile(out, "utf8")).toBe("/var/lib/t.json");
    expect(lines[0]).toMatch(/^info: -exec command exited with status 0 in /);
  });

  it("reports a failing command as a warning", async () => {
    expect(await runExecHook("exit 3", "t", 5_000, logger)).toBe(3);
    expect(lines[0]).toMatch(/^warning: -exec command exited with status 3 in /);
  });

  it("kills a command that outlives its timeout", async () => {
    const started = Date.now();
    expect(await runExecHook("sleep 5", "t", 200, logger)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(lines).toEqual(["warning: -exec command timed out after 200ms; its process group was killed"]);
  });

  it("kills the whole process group at the timeout, not only the shell", async () => {
    const pidFile = join(dir, "pid");
    const started = Date.now();
    const code = await runExecHook(`sleep 31 & echo $! > ${pidFile}; wait; echo after`, "t", 300, logger, {
      output: sink,
    });
    expect(code).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(300 + 1_000 + 1_000); // timeout + grace (zombies of a non-reaping init count as alive)
    expect(await processGone(Number(await readFile(pidFile, "utf8")))).toBe(true);
    expect(output()).not.toContain("after");
  });

  it("SIGKILLs what ignores SIGTERM, a second after it", async () => {
    const pidFile = join(dir, "pid");
    const started = Date.now();
    await runExecHook(`trap '' TERM; sleep 31 & echo $! > ${pidFile}; wait`, "t", 200, logger, {
      output: sink,
    });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1_100);
    expect(took).toBeLessThan(3_000);
    expect(await processGone(Number(await readFile(pidFile, "utf8")))).toBe(true);
    expect(lines).toEqual(["warning: -exec command timed out after 200ms; its process group was killed"]);
  });

  it("does not wait for a background process that keeps the output open, and ends it when the shell exits", async () => {
    const pidFile = join(dir, "pid");
    const started = Date.now();
    const code = await runExecHook(`sleep 31 & echo $! > ${pidFile}; echo started`, "t", 10_000, logger, {
      output: sink,
    });
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(1_000 + 2_000); // grace (zombies count as alive) + start
    expect(output()).toBe("started\n");
    expect(await processGone(Number(await readFile(pidFile, "utf8")))).toBe(true);
    expect(lines).toEqual([
      expect.stringMatching(/^info: -exec command exited with status 0 in /),
      "warning: -exec command left processes running in its process group; ended them (start what must keep running with setsid)",
    ]);
  });

  it("leaves alone what the command moved out of its group with setsid", async () => {
    const pidFile = join(dir, "pid");
    const code = await runExecHook(`setsid sleep 31 & echo $! > ${pidFile}`, "t", 10_000, logger);
    const pid = Number(await readFile(pidFile, "utf8"));
    try {
      expect(code).toBe(0);
      expect(await processGone(pid)).toBe(false);
      expect(lines).toEqual([expect.stringMatching(/^info: -exec command exited with status 0 in /)]);
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });

  it("stops the whole group when the run is interrupted (its group no longer gets the terminal's signals)", async () => {
    const pidFile = join(dir, "pid");
    const controller = new AbortController();
    const started = Date.now();
    const running = runExecHook(`sleep 31 & echo $! > ${pidFile}; wait`, "t", 30_000, logger, {
      output: sink,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    expect(await running).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await processGone(Number(await readFile(pidFile, "utf8")))).toBe(true);
    expect(lines).toEqual([
      "warning: -exec command stopped: the run was interrupted; its process group was killed",
    ]);
  });
});
