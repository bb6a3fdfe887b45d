import { readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFakeClock } from "../testing/fake-clock.js";
import { fsError } from "../testing/fs-faults.js";
import { durableWriteOf, recordingAtomicFs } from "../testing/recording-fs.js";
import { recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import {
  type AtomicWriteOptions,
  isTempFileOf,
  nodeAtomicWriteFs,
  tempPathFor,
  writeFileAtomic,
} from "./atomic-write.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(() => tmp.remove());

const bytes = (s: string) => new TextEncoder().encode(s);

/** Renames that fail with `codes` in turn, then do the real rename. */
function failingRenames(codes: string[]) {
  const calls: Array<[string, string]> = [];
  let i = 0;
  return {
    calls,
    rename: async (from: string, to: string) => {
      calls.push([from, to]);
      const code = codes[i++];
      if (code !== undefined) throw fsError(code);
      await nodeAtomicWriteFs.rename(from, to);
    },
  };
}

/** writeFileAtomic of "new" whose renames fail with `codes` first, on a fake clock from 2015-02-03. */
function refusedRenames(codes: string[], options: AtomicWriteOptions) {
  const clock = createFakeClock(Date.UTC(2015, 1, 3));
  const renames = failingRenames(codes);
  const write = (path: string) =>
    writeFileAtomic(path, bytes("new"), {
      fs: { rename: renames.rename },
      sleep: clock.sleep,
      now: clock.now,
      ...options,
    });
  return { clock, renames, write };
}

async function expectOnlyFile(path: string, content: string) {
  expect(await readdir(dirname(path))).toEqual([basename(path)]);
  expect(await readFile(path, "utf8")).toBe(content);
}

describe("writeFileAtomic", () => {
  it("writes, fsyncs and closes the temp file, then renames it, then fsyncs the directory, in that order", async () => {
    const path = tmp.path("f.json");
    const events: string[] = [];
    await writeFileAtomic(path, bytes("new"), { fs: recordingAtomicFs(events, tmp.dir) });
    expect(events).toEqual(durableWriteOf("f.json"));
    await expectOnlyFile(path, "new");
  });

  it("creates a new file with the content and mode 0644 (before the umask)", async () => {
    const path = tmp.path("f.json");
    await writeFileAtomic(path, bytes("new"));
    await expectOnlyFile(path, "new");
    const umask = process.umask();
    expect((await stat(path)).mode & 0o777).toBe(0o644 & ~umask);
  });

  it("honours the mode option, also when replacing a file with another mode", async () => {
    const path = tmp.path("f.json");
    await writeFile(path, "old", { mode: 0o644 });
    await writeFileAtomic(path, bytes("new"), { mode: 0o600 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await writeFileAtomic(path, bytes("newer"), { mode: 0o640 });
    expect((await stat(path)).mode & 0o777).toBe(0o640 & ~process.umask());
  });

  it("replaces the file through a temp file in the same directory, then syncs the directory", async () => {
    const path = tmp.path("f.json");
    await writeFile(path, "old");
    const created: string[] = [];
    const synced: string[] = [];
    const renames = failingRenames([]);
    await writeFileAtomic(path, bytes("new"), {
      fs: {
        writeNewFile: async (p, data, mode) => {
          created.push(p);
          expect(await readFile(path, "utf8")).toBe("old"); // not touched yet
          await nodeAtomicWriteFs.writeNewFile(p, data, mode);
        },
        rename: renames.rename,
        syncDirectory: async (d) => {
          synced.push(d);
        },
      },
    });
    expect(created).toHaveLength(1);
    expect(dirname(created[0] ?? "")).toBe(tmp.dir);
    expect(renames.calls).toEqual([[created[0], path]]);
    expect(synced).toEqual([tmp.dir]);
    await expectOnlyFile(path, "new");
  });

  it("names the temp file <path>.<pid>_<n>_<unix nanos>.tmp", async () => {
    const path = tmp.path("token.json");
    const clock = createFakeClock(Date.UTC(2015, 1, 3, 4, 5, 6, 789));
    let temp = "";
    await writeFileAtomic(path, bytes("x"), {
      now: clock.now,
      fs: {
        writeNewFile: async (p, d, m) => {
          temp = p;
          await nodeAtomicWriteFs.writeNewFile(p, d, m);
        },
      },
    });
    const m = /^(.*)\.(\d+)_(\d+)_(\d+)\.tmp$/.exec(temp);
    expect(m?.[1]).toBe(path);
    expect(Number(m?.[2])).toBe(process.pid);
    expect(BigInt(m?.[4] ?? "0")).toBe(BigInt(clock.ms()) * 1_000_000n);
    expect(isTempFileOf(path, basename(temp))).toBe(true);
  });

  it("makes temp names nobody can plant ahead: a 48-bit random part, not a counter", () => {
    const now = new Date(0);
    const nonces = Array.from({ length: 50 }, () =>
      Number(/_(\d+)_\d+\.tmp$/.exec(tempPathFor("/x/f", now))?.[1]),
    );
    expect(new Set(nonces).size).toBe(50);
    expect(Math.max(...nonces)).toBeGreaterThan(2 ** 40);
  });

  it("never writes through a symlink or an existing file at the temp name", async () => {
    const victim = tmp.path("victim");
    await writeFile(victim, "precious");
    const planted = tmp.path("planted.tmp");
    await symlink(victim, planted);
    await expect(nodeAtomicWriteFs.writeNewFile(planted, bytes("evil"), 0o644)).rejects.toMatchObject({
      code: "EEXIST",
    });
    await symlink(tmp.path("dangling-target"), tmp.path("dangling.tmp"));
    await expect(
      nodeAtomicWriteFs.writeNewFile(tmp.path("dangling.tmp"), bytes("evil"), 0o644),
    ).rejects.toMatchObject({ code: "EEXIST" });
    await writeFile(tmp.path("existing.tmp"), "theirs");
    await expect(
      nodeAtomicWriteFs.writeNewFile(tmp.path("existing.tmp"), bytes("evil"), 0o644),
    ).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(victim, "utf8")).toBe("precious");
    expect(await readFile(tmp.path("existing.tmp"), "utf8")).toBe("theirs");
    expect(await readdir(tmp.dir)).not.toContain("dangling-target");
  });

  it("recognizes only temp files of the same path", () => {
    expect(isTempFileOf("/d/token.json", "token.json.123_1_1422936306000000000.tmp")).toBe(true);
    expect(isTempFileOf("/d/token.json", "token.json")).toBe(false);
    expect(isTempFileOf("/d/token.json", "token.json.tmp")).toBe(false);
    expect(isTempFileOf("/d/token.json", "token.json.123_1_x.tmp")).toBe(false);
    expect(isTempFileOf("/d/token.json", "other.json.123_1_1.tmp")).toBe(false);
    expect(isTempFileOf("/d/token.json", "token.json.copy.123_1_1.tmp")).toBe(false);
  });

  it("leaves the old file intact and no temp file when writing the temp file fails", async () => {
    const path = tmp.path("f.json");
    await writeFile(path, "old");
    const failure = fsError("ENOSPC", "write");
    await expect(
      writeFileAtomic(path, bytes("new"), {
        fs: {
          // Creates the temp file, writes part of it, then fails like a full disk.
          writeNewFile: async (p, _d, m) => {
            await nodeAtomicWriteFs.writeNewFile(p, bytes("ne"), m);
            throw failure;
          },
        },
      }),
    ).rejects.toMatchObject({ code: "ENOSPC", cause: failure });
    await expectOnlyFile(path, "old");
  });

  it("does not retry other rename errors; the old file stays and the temp file is removed", async () => {
    const path = tmp.path("f.json");
    await writeFile(path, "old");
    const clock = createFakeClock();
    const renames = failingRenames(["EXDEV"]);
    await expect(
      writeFileAtomic(path, bytes("new"), { fs: { rename: renames.rename }, sleep: clock.sleep }),
    ).rejects.toMatchObject({ code: "EXDEV" });
    expect(renames.calls).toHaveLength(1);
    expect(clock.delays).toEqual([]);
    await expectOnlyFile(path, "old");
  });

  it.each(["EACCES", "EPERM", "EBUSY"])(
    "on Windows retries a rename refused with %s every 500 ms, then succeeds",
    async (code) => {
      const path = tmp.path("f.json");
      await writeFile(path, "old");
      const logger = recordingLogger();
      const { clock, renames, write } = refusedRenames([code, code, code], { platform: "win32", logger });
      await write(path);
      expect(renames.calls).toHaveLength(4);
      expect(clock.delays).toEqual([500, 500, 500]);
      expect(logger.at("warning")).toHaveLength(3);
      expect(logger.at("warning")[0]).toBe(
        `Failed to replace "${path}", retrying - ${code}: injected rename failure`,
      );
      await expectOnlyFile(path, "new");
    },
  );

  it.each(["EACCES", "EPERM", "EBUSY"])(
    "on Linux a rename refused with %s is final: no retry, no wait, the error names the target",
    async (code) => {
      const path = tmp.path("f.json");
      await writeFile(path, "old");
      const { clock, renames, write } = refusedRenames(Array(100).fill(code), { platform: "linux" });
      const failure = write(path);
      await expect(failure).rejects.toMatchObject({ code });
      await expect(failure).rejects.toThrow(`${code}: injected rename failure (replacing ${path})`);
      expect(renames.calls).toHaveLength(1);
      expect(clock.delays).toEqual([]);
      await expectOnlyFile(path, "old");
    },
  );

  it("on Windows gives up after 10 s of refused renames (20 waits of 500 ms), removing the temp file", async () => {
    const path = tmp.path("f.json");
    await writeFile(path, "old");
    const { clock, renames, write } = refusedRenames(Array(100).fill("EACCES"), { platform: "win32" });
    await expect(write(path)).rejects.toMatchObject({ code: "EACCES" });
    expect(clock.delays).toEqual(Array(20).fill(500));
    expect(renames.calls).toHaveLength(21);
    await expectOnlyFile(path, "old");
  });

  it("on Windows stops retrying at the deadline, with a last short wait", async () => {
    const path = tmp.path("f.json");
    const start = Date.UTC(2015, 1, 3);
    const soon = refusedRenames(Array(100).fill("EBUSY"), {
      platform: "win32",
      deadline: new Date(start + 1200),
    });
    await expect(soon.write(path)).rejects.toMatchObject({ code: "EBUSY" });
    expect(soon.clock.delays).toEqual([500, 500, 200]);
    const late = refusedRenames(["EBUSY"], { platform: "win32", deadline: new Date(start - 1) });
    await expect(late.write(path)).rejects.toMatchObject({ code: "EBUSY" });
    expect(late.renames.calls).toHaveLength(1);
    expect(await readdir(tmp.dir)).toEqual([]);
  });

  it("on Windows succeeds on the last rename attempt at 10 s", async () => {
    const path = tmp.path("f.json");
    const { clock, write } = refusedRenames(Array(20).fill("EPERM"), { platform: "win32" });
    await write(path);
    expect(clock.delays.reduce((a, b) => a + b, 0)).toBe(10_000);
    await expectOnlyFile(path, "new");
  });

  it("honours renameRetryMs", async () => {
    const path = tmp.path("f.json");
    const { clock, write } = refusedRenames(Array(100).fill("EBUSY"), {
      platform: "win32",
      renameRetryMs: 1000,
    });
    await expect(write(path)).rejects.toMatchObject({ code: "EBUSY" });
    expect(clock.delays).toEqual([500, 500]);
    expect(await readdir(tmp.dir)).toEqual([]);
  });

  it("names the target file, not its temp file, after the real reason", async () => {
    const path = tmp.path("missing/f.json");
    const failure = writeFileAtomic(path, bytes("x"));
    await expect(failure).rejects.toThrow(`ENOENT: no such file or directory (writing ${path})`);
    await expect(failure).rejects.not.toThrow(".tmp");
  });

  it("fails without creating anything when the directory does not exist", async () => {
    const path = tmp.path("missing/f.json");
    await expect(writeFileAtomic(path, bytes("x"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(tmp.dir)).toEqual([]);
  });
});
