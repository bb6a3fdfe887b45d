import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@luci-machine-tokend/core/offline";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runExecHook } from "./exec-hook.js";

let dir: string;
let lines: string[];
const logger: Logger = { log: (level, m) => lines.push(`${level}: ${m}`) };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tokend-exec-"));
  lines = [];
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
    expect(lines).toEqual(["warning: -exec command timed out after 200ms"]);
  });
});
