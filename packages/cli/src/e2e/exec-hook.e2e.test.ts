import type { ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import type { DevServer, TestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { until } from "../../../core/src/testing/until.js";
import { shellWord } from "../command-line.js";
import { processGone } from "../testing/process-gone.js";
import { runCli } from "../testing/run-cli.js";
import { startTestTokenServer } from "../testing/test-token-server.js";
import { createTokendFixture, type TokendFixture } from "../testing/tokend-fixture.js";

let pki: TestPki;
let server: DevServer;
let fx: TokendFixture;

beforeAll(async () => {
  ({ pki, server } = await startTestTokenServer());
});
afterAll(() => server.close());
beforeEach(async () => {
  fx = await createTokendFixture(pki);
});
afterEach(() => fx.cleanup());

/** The pids the hook appended to `pids`, one a line. */
const pidsOf = async (path: string) =>
  (await readFile(path, "utf8").catch(() => "")).split("\n").filter(Boolean).map(Number);

/** Kills what a failed assertion left behind (the group is ours only while the hook runs). */
const sweep = (pids: number[]) => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
};

describe("-exec leaves nothing running", () => {
  it("one-shot: a background process the hook started is ended once the hook exits", async () => {
    const pids = fx.path("pids");
    const hook = `sleep 31 & echo $! >> ${shellWord(pids)}`;
    const run = await runCli([...fx.args(server.backend), "-exec", hook]);
    const [pid = 0] = await pidsOf(pids);
    try {
      expect([run.code, pid > 0]).toEqual([0, true]);
      expect(await processGone(pid)).toBe(true);
      expect(run.stderr).toMatch(/-exec command left processes running in its process group; ended them/);
    } finally {
      sweep([pid]);
    }
  });

  it("daemon: after each hook, and on the daemon's SIGTERM while a hook runs", async () => {
    const pids = fx.path("pids");
    const hold = fx.path("hold");
    // The first hook exits at once; the second (after SIGHUP) waits for its sleep.
    const hook = `sleep 31 & echo $! >> ${shellWord(pids)}; if [ -e ${shellWord(hold)} ]; then wait; fi`;
    let child: ChildProcess | undefined;
    let stderr = "";
    const running = runCli([...fx.args(server.backend), "-daemon", "-exec", hook], {
      onSpawn: (c) => {
        child = c;
        c.stderr?.on("data", (d: Buffer) => {
          stderr += d;
        });
      },
    });
    const sleeping = (runs: number) => stderr.split("] Next run at ").length > runs;
    try {
      await until(() => child !== undefined, 5_000);
      let seen: number[] = [];
      const poll = async (n: number) => {
        for (let i = 0; i < 1_500 && seen.length < n; i++) {
          seen = await pidsOf(pids);
          await new Promise((r) => setTimeout(r, 10));
        }
        expect(seen).toHaveLength(n);
      };
      await poll(1);
      expect(await processGone(seen[0] ?? 0)).toBe(true);
      await until(() => sleeping(1), 5_000);
      await writeFile(hold, "");
      child?.kill("SIGHUP");
      await poll(2);
      child?.kill("SIGTERM");
      const result = await running;
      expect([result.code, result.signal]).toEqual([0, null]);
      expect(await processGone(seen[1] ?? 0)).toBe(true);
    } finally {
      child?.kill("SIGKILL");
      sweep(await pidsOf(pids));
    }
  });
});
