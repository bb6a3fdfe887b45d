import { readdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { acquireRunLock } from "./run-lock.js";

// The lock's scratch names carry 64 random bits, so nobody can plant a link at one. Here the bits
// are fixed, as if an attacker had guessed them: what stops the write is then O_EXCL|O_NOFOLLOW
// (and rename, which replaces a link instead of following it), and these tests show it does.
const GUESSED = "ab".repeat(8);
vi.mock("node:crypto", async (importOriginal) => ({
  ...(await importOriginal<typeof import("node:crypto")>()),
  randomBytes: (size: number) => Buffer.alloc(size, 0xab),
}));

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let token: string;
let victim: string;
beforeEach(async () => {
  tmp = await makeTempDir();
  token = tmp.path("token.json");
  victim = tmp.path("victim");
  await writeFile(victim, "precious");
});
afterEach(() => tmp.remove());

const opts = () => ({ deadline: new Date(Date.now() + 2000), pollMs: 5, logger: recordingLogger() });

describe("acquireRunLock with its scratch names guessed", () => {
  it("does not write through a symlink at its next `.new` name: it runs without the lock instead", async () => {
    const planted = `token.json.lock.${process.pid}.${GUESSED}.new`;
    await symlink(victim, tmp.path(planted));
    const result = await acquireRunLock(token, opts());
    expect(result.refused).toBe("unavailable");
    expect(result.message).toMatch(/EEXIST|exists/);
    expect(await readFile(victim, "utf8")).toBe("precious");
    expect((await readdir(tmp.dir)).sort()).toEqual([planted, "victim"]);
  });

  it("breaks a stale lock by renaming it over a symlink at its `.stale` name, never into the link's target", async () => {
    await writeFile(`${token}.lock`, "not a lock");
    const then = new Date(Date.now() - 60_000);
    await utimes(`${token}.lock`, then, then);
    await symlink(victim, tmp.path(`token.json.lock.${process.pid}.${GUESSED}.stale`));
    const result = await acquireRunLock(token, opts());
    expect(result.lock).toBeDefined();
    await result.lock?.release();
    expect(await readFile(victim, "utf8")).toBe("precious");
    expect((await readdir(tmp.dir)).sort()).toEqual(["victim"]);
  });
});
