import { spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { escapeForLog } from "@luci-machine-tokend/core/internal";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { main } from "./main.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tokend-hint-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Shells to paste into, with whether each reads `$'…'` (dash before 0.5.13 does not). */
function shells(): Array<{ shell: string; dollarQuotes: boolean }> {
  return ["sh", "bash"]
    .filter((shell) => spawnSync(shell, ["-c", "true"]).status === 0)
    .map((shell) => ({
      shell,
      dollarQuotes: spawnSync(shell, ["-c", "printf %s $'\\101'"], { encoding: "utf8" }).stdout === "A",
    }));
}

describe("the check hint of a failed run", () => {
  it("pastes into a shell as exactly the run's paths: planted $(…), backticks, ; and newlines stay text", async () => {
    // Directories another user could have named; each would create a file in `dir` if run.
    const planted = join(dir, "t $(touch PWNED1) `touch PWNED2`; touch PWNED3 'q' \"d\" \\ !x");
    const withNewline = join(dir, "c\n$(touch PWNED4)\ttab\x1b[31m\u202eend");
    await mkdir(planted);
    await mkdir(withNewline);
    const args = {
      "-backend": "localhost:1",
      "-cert-pem": join(withNewline, "cert.pem"),
      "-pkey-pem": join(planted, "missing-key.pem"), // CANT_READ_KEY: the run fails at once
      "-token-file": join(planted, "token.json"),
    };
    let stderr = "";
    const code = await main([...Object.entries(args).flat(), "-ts-mon-config-file", join(dir, "none.json")], {
      stdout: () => {},
      stderr: (t) => {
        stderr += t;
      },
    });
    expect(code).toBe(1);
    const line = /To find out what is wrong, run: (.*)\n/.exec(stderr)?.[1] ?? "";
    expect(line).toMatch(/^luci-machine-tokend check /);
    expect(escapeForLog(line)).toBe(line); // one printable line

    // `luci-machine-tokend` on the PATH writes its arguments to a file, NUL-separated.
    const bin = join(dir, "bin");
    await mkdir(bin);
    await writeFile(join(bin, "luci-machine-tokend"), '#!/bin/sh\nprintf "%s\\000" "$@" > argv\n');
    await chmod(join(bin, "luci-machine-tokend"), 0o755);
    const expected = ["check", ...Object.entries(args).flat()];
    const dollarQuoted = expected.indexOf(args["-cert-pem"]);
    const found = shells();
    expect(found.map((s) => s.shell)).toContain("sh");
    for (const { shell, dollarQuotes } of found) {
      const run = spawnSync(shell, ["-c", line], {
        cwd: dir,
        env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir },
        stdio: ["ignore", "pipe", "pipe"], // (bash reads ~/.bashrc when stdin is a socket)
        encoding: "utf8",
      });
      expect([shell, run.status, run.stderr]).toEqual([shell, 0, ""]);
      expect((await readdir(dir)).filter((f) => f.startsWith("PWNED"))).toEqual([]);
      const argv = (await readFile(join(dir, "argv"), "utf8")).split("\0").slice(0, -1);
      if (dollarQuotes) {
        expect([shell, argv]).toEqual([shell, expected]);
      } else {
        // The `$'…'` word reads as inert text here; every other word is exact.
        const others = (words: string[]) => words.filter((_, i) => i !== dollarQuoted);
        expect([shell, others(argv)]).toEqual([shell, others(expected)]);
        expect(argv[dollarQuoted]).toMatch(/^\$/);
      }
    }
  });
});
