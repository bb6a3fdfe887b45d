import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFakeClock } from "../testing/fake-clock.js";
import { type RecordingLogger, recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { isTrustedOwner } from "./open-regular-file.js";
import { acquireRunLock, type RunLockOptions } from "./run-lock.js";

// What can sit at `<token>.lock` besides a lock of ours: another user's lock (judged with an
// injected owner check, so it runs without privileges; run-lock.test.ts does it with chown as
// root) and a directory (issue 20 #8: it was renamed aside as stale and left for ever).

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let token: string;
let lockPath: string;
let logger: RecordingLogger;
const me = process.getuid?.() ?? 0;

beforeEach(async () => {
  tmp = await makeTempDir();
  token = tmp.path("token.json");
  lockPath = `${token}.lock`;
  logger = recordingLogger();
});
afterEach(() => tmp.remove());

/** Options on a fake clock (sleeping moves it): a wait for the lock shows in `clock.delays`. */
function fakeOpts(extra: Partial<RunLockOptions> = {}) {
  const clock = createFakeClock(Date.now());
  const options: RunLockOptions = {
    deadline: new Date(clock.ms() + 60_000),
    pollMs: 100,
    now: clock.now,
    sleep: clock.sleep,
    logger,
    ...extra,
  };
  return { clock, options };
}

/** Every file and directory under the temp dir, as relative paths. */
async function tree(): Promise<string[]> {
  return (await readdir(tmp.dir, { recursive: true })).map(String).sort();
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid ?? -1;
}

/** Only files of `owner` count as this user's or root's: every other file stands for a stranger's. */
const onlyOwnedBy = (owner: number) => (uid: number) => uid === owner;

describe("acquireRunLock and what else sits at the lock path", () => {
  it("(the default owner check trusts this user and root, and no one else)", () => {
    expect([isTrustedOwner(me), isTrustedOwner(0), isTrustedOwner(me + 1), isTrustedOwner(65534)]).toEqual([
      true,
      true,
      false,
      me === 65534,
    ]);
  });

  it("never waits for, nor removes, another user's lock, however it looks (owner check injected, no root needed)", async () => {
    const stranger = { isTrustedOwner: onlyOwnedBy(me + 1) }; // the files we make are "theirs"
    const lock = (extra: Record<string, unknown>) =>
      JSON.stringify({ pid: process.ppid, host: hostname(), createdMs: Date.now(), nonce: "ab", ...extra });
    for (const [name, content] of [
      ["from the far future", lock({ createdMs: Date.now() + 10 * 365 * 24 * 3600_000 })],
      ["of a dead process", lock({ pid: await deadPid() })],
      ["an hour old", lock({ createdMs: Date.now() - 3600_000 })],
      ["garbage", "garbage"],
    ] as const) {
      await writeFile(lockPath, content);
      const then = new Date(Date.now() - 60_000);
      await utimes(lockPath, then, then);
      const { clock, options } = fakeOpts(stranger);
      const result = await acquireRunLock(token, options);
      expect(result, name).toEqual({
        refused: "foreign",
        message: `The lock ${lockPath} belongs to uid ${me}, not to this user or root; ignoring it and running without a lock`,
      });
      expect(clock.delays).toEqual([]);
      expect(await readFile(lockPath, "utf8")).toBe(content);
      expect(await readdir(tmp.dir)).toEqual(["token.json.lock"]);
    }
    // The same stale lock, judged as ours: broken at once (the check is what stops it above).
    const { options } = fakeOpts();
    const ours = await acquireRunLock(token, options);
    expect(ours.lock).toBeDefined();
    await ours.lock?.release();
  });

  it("never breaks a directory (ours or root's, empty or not): it goes on without the lock and leaves it as it was", async () => {
    await mkdir(lockPath);
    await writeFile(`${lockPath}/inside`, "someone's");
    const then = new Date(Date.now() - 3600_000);
    await utimes(lockPath, then, then);
    const before = await stat(lockPath);
    const { clock, options } = fakeOpts();
    const result = await acquireRunLock(token, options);
    const message = `The lock ${lockPath} is a directory, not a lock file; leaving it (remove it if nothing uses it) and running without a lock`;
    expect(result).toEqual({ refused: "unavailable", message });
    expect(logger.at("warning")).toEqual([message]);
    expect(clock.delays).toEqual([]);
    expect(await tree()).toEqual(["token.json.lock", "token.json.lock/inside"]);
    expect((await stat(lockPath)).ino).toBe(before.ino);
    // Empty, it is left too: a run makes files, so a directory there is somebody else's doing.
    await writeFile(`${lockPath}/inside`, "");
    const { options: again } = fakeOpts();
    expect((await acquireRunLock(token, { ...again, logger: recordingLogger() })).refused).toBe(
      "unavailable",
    );
    expect(await tree()).toEqual(["token.json.lock", "token.json.lock/inside"]);
  });

  it("a symlink to a directory at the lock path is not followed: the link alone is broken", async () => {
    await mkdir(tmp.path("elsewhere"));
    await writeFile(tmp.path("elsewhere/kept"), "");
    await symlink(tmp.path("elsewhere"), lockPath);
    const then = new Date(Date.now() - 60_000);
    await utimes(tmp.path("elsewhere"), then, then);
    const { spawnSync } = await import("node:child_process");
    spawnSync("touch", ["-h", "-d", then.toISOString(), lockPath]);
    const { options } = fakeOpts();
    const result = await acquireRunLock(token, options);
    expect(result.lock).toBeDefined();
    expect((await lstat(lockPath)).isFile()).toBe(true);
    await result.lock?.release();
    expect(await tree()).toEqual(["elsewhere", "elsewhere/kept"]);
  });

  it("removes the empty `.stale` directories earlier versions left, and nothing in or behind others", async () => {
    const dead = await deadPid();
    const stale = (n: string) => `token.json.lock.${dead}.${n}.stale`;
    const hex = () => randomBytes(8).toString("hex");
    const [empty, full, linked] = [stale(hex()), stale(hex()), stale(hex())];
    await mkdir(tmp.path(empty));
    await mkdir(tmp.path(full));
    await writeFile(tmp.path(`${full}/kept`), "");
    await mkdir(tmp.path("target"));
    await symlink(tmp.path("target"), tmp.path(linked));
    const { options } = fakeOpts();
    const lock = await acquireRunLock(token, options);
    await lock.lock?.release();
    expect(await tree()).toEqual([full, `${full}/kept`, linked, "target"].sort());
  });
});
