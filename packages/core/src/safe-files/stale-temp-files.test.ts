import { type ChildProcess, spawn } from "node:child_process";
import { chown, lstat, mkdir, readdir, symlink, utimes, writeFile } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { MAX_JUDGED_PER_PASS, processIsAlive, removeStaleTempFiles } from "./stale-temp-files.js";

/** A process that exited (and was reaped), so its pid is free, and one that keeps running. */
let deadPid: number;
let liveChild: ChildProcess;
let livePid: number;
beforeAll(async () => {
  const dead = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => dead.once("exit", resolve));
  deadPid = dead.pid ?? -1;
  liveChild = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  await new Promise((resolve) => liveChild.once("spawn", resolve));
  livePid = liveChild.pid ?? -1;
});
afterAll(() => {
  liveChild?.kill("SIGKILL");
});

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(() => tmp.remove());

describe("removeStaleTempFiles", () => {
  it("removes temp files of dead processes and old ones, keeps the rest", async () => {
    const path = tmp.path("token.json");
    const names = {
      dead: "token.json.111_1_1422936306000000000.tmp",
      alive: "token.json.222_1_1422936306000000000.tmp",
      aliveOld: "token.json.222_2_1422936306000000000.tmp",
      mine: `token.json.${process.pid}_3_1422936306000000000.tmp`,
      other: "other.json.111_1_1.tmp",
      target: "token.json",
      lookalike: "token.json.111_1_x.tmp",
    };
    for (const n of Object.values(names)) await writeFile(tmp.path(n), "x");
    const now = new Date();
    const old = new Date(now.getTime() - 11 * 60_000);
    await utimes(tmp.path(names.aliveOld), old, old);
    const removed = await removeStaleTempFiles(path, { now, isAlive: (pid) => pid === 222 });
    expect(removed.sort()).toEqual([tmp.path(names.dead), tmp.path(names.aliveOld)].sort());
    expect((await readdir(tmp.dir)).sort()).toEqual(
      [names.alive, names.mine, names.other, names.target, names.lookalike].sort(),
    );
  });

  it("judges a bounded number of names per pass (others may plant thousands); later passes take the rest", async () => {
    const path = tmp.path("token.json");
    const count = MAX_JUDGED_PER_PASS + 50;
    for (let i = 0; i < count; i++) await writeFile(tmp.path(`token.json.${100_000 + i}_1_1.tmp`), "x");
    const isAlive = () => false;
    const first = await removeStaleTempFiles(path, { now: new Date(), isAlive });
    expect(first.length).toBe(MAX_JUDGED_PER_PASS);
    const second = await removeStaleTempFiles(path, { now: new Date(), isAlive });
    expect(second.length).toBe(50);
    expect(await readdir(tmp.dir)).toEqual([]);
  });

  it("takes several paths in one or more directories: the leftovers of each, nothing of other files", async () => {
    await mkdir(tmp.path("copies"));
    const paths = [tmp.path("token.json"), tmp.path("status.json"), tmp.path("copies/token.json")];
    const leftovers = paths.map((path) => `${path}.111_1_1.tmp`);
    const kept = [tmp.path("other.json.111_1_1.tmp"), tmp.path("copies/status.json.111_1_1.tmp")];
    for (const file of [...leftovers, ...kept]) await writeFile(file, "x");
    const removed = await removeStaleTempFiles(paths, { now: new Date(), isAlive: () => false });
    expect(removed.sort()).toEqual(leftovers.sort());
    expect((await readdir(tmp.dir, { recursive: true })).sort()).toEqual(
      ["copies", "copies/status.json.111_1_1.tmp", "other.json.111_1_1.tmp"].sort(),
    );
  });

  it("returns nothing for a missing directory", async () => {
    expect(await removeStaleTempFiles(tmp.path("no/token.json"), { now: new Date() })).toEqual([]);
  });
});

describe("processIsAlive", () => {
  it("knows this process and refuses nonsense pids", () => {
    expect(processIsAlive(process.pid)).toBe(true);
    expect(processIsAlive(0)).toBe(false);
    expect(processIsAlive(-1)).toBe(false);
    expect(processIsAlive(Number.NaN)).toBe(false);
  });
});

describe("removeStaleTempFiles with real processes", () => {
  /** Writes files with mtime `mtime` and returns their names. */
  async function files(names: string[], mtime = new Date()): Promise<string[]> {
    for (const n of names) {
      await writeFile(tmp.path(n), "x");
      await utimes(tmp.path(n), mtime, mtime);
    }
    return names;
  }

  it("removes the temp files of a dead process and keeps those of live ones", async () => {
    const T = new Date(Date.UTC(2025, 0, 1, 12));
    const dead = `token.json.${deadPid}_1_1735732800000000000.tmp`;
    const deadToo = `token.json.${deadPid}_27_1.tmp`;
    const live = `token.json.${livePid}_1_1735732800000000000.tmp`;
    const parent = `token.json.${process.ppid}_3_1735732800000000000.tmp`;
    const mine = `token.json.${process.pid}_4_1735732800000000000.tmp`;
    await files([dead, deadToo, live, parent, mine], T);
    const logger = recordingLogger();
    const removed = await removeStaleTempFiles(tmp.path("token.json"), { now: T, logger });
    expect(removed.sort()).toEqual([tmp.path(dead), tmp.path(deadToo)].sort());
    expect((await readdir(tmp.dir)).sort()).toEqual([live, mine, parent].sort());
    expect(logger.at("info").sort()).toEqual(
      [dead, deadToo].map((n) => `Removed a file left by an interrupted run: ${n}`).sort(),
    );
    expect(processIsAlive(deadPid)).toBe(false);
    expect(processIsAlive(livePid)).toBe(true);
  });

  it("removes a live process's temp file only once it is older than maxAgeMs", async () => {
    const T = new Date(Date.UTC(2025, 0, 1, 12));
    const [live = "", mine = ""] = await files(
      [`token.json.${livePid}_1_1.tmp`, `token.json.${process.pid}_2_1.tmp`],
      T,
    );
    const path = tmp.path("token.json");
    const at = (ms: number) => new Date(T.getTime() + ms);
    expect(await removeStaleTempFiles(path, { now: at(5000), maxAgeMs: 5000 })).toEqual([]);
    expect(await removeStaleTempFiles(path, { now: at(5001), maxAgeMs: 5000 })).toHaveLength(2);
    expect(await readdir(tmp.dir)).toEqual([]);
    // The default is 10 minutes.
    await files([live, mine], T);
    expect(await removeStaleTempFiles(path, { now: at(10 * 60_000) })).toEqual([]);
    expect((await removeStaleTempFiles(path, { now: at(10 * 60_000 + 1) })).sort()).toEqual(
      [tmp.path(live), tmp.path(mine)].sort(),
    );
  });

  it("never touches files that are not temp files of this token file, however old or dead", async () => {
    const old = new Date(Date.UTC(2001, 0, 1));
    const others = await files(
      [
        "token.json",
        "token.json.bak",
        "token.json.lock",
        `token.json.lock.${deadPid}_1.new`,
        `token.json.${deadPid}_1_1.tmp.bak`,
        `token.json.${deadPid}_1.tmp`,
        `token.json.${deadPid}_1_1_1.tmp`,
        `token.json.${deadPid}_a_1.tmp`,
        `token.json.-${deadPid}_1_1.tmp`,
        `token.json2.${deadPid}_1_1.tmp`,
        `xtoken.json.${deadPid}_1_1.tmp`,
        `other.json.${deadPid}_1_1.tmp`,
        `token.${deadPid}_1_1.tmp`,
        `status.json.${deadPid}_1_1.tmp`,
      ],
      old,
    );
    await mkdir(tmp.path(`token.json.${deadPid}_9_9.tmp`));
    expect(await removeStaleTempFiles(tmp.path("token.json"), { now: new Date() })).toEqual([]);
    expect((await readdir(tmp.dir)).sort()).toEqual([...others, `token.json.${deadPid}_9_9.tmp`].sort());
  });

  it("never removes a symlink or another user's file, however dead its pid", async () => {
    const old = new Date(Date.UTC(2001, 0, 1));
    const target = tmp.path("precious");
    await writeFile(target, "keep");
    const link = `token.json.${deadPid}_1_1.tmp`;
    await symlink(target, tmp.path(link));
    const theirs = `token.json.${deadPid}_2_1.tmp`;
    await files([theirs], old);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chown(tmp.path(theirs), 12345, 12345);
    const removed = await removeStaleTempFiles(tmp.path("token.json"), { now: new Date() });
    expect(removed).toEqual(asRoot ? [] : [tmp.path(theirs)]);
    expect((await readdir(tmp.dir)).sort()).toEqual(["precious", link, ...(asRoot ? [theirs] : [])].sort());
    expect((await lstat(tmp.path(link))).isSymbolicLink()).toBe(true);
  });

  it("cleans only the directory of the token file", async () => {
    await mkdir(tmp.path("sub"));
    const name = `token.json.${deadPid}_1_1.tmp`;
    await writeFile(tmp.path(`sub/${name}`), "x");
    expect(await removeStaleTempFiles(tmp.path("token.json"), { now: new Date() })).toEqual([]);
    expect(await removeStaleTempFiles(tmp.path("sub/token.json"), { now: new Date() })).toEqual([
      tmp.path(`sub/${name}`),
    ]);
  });
});

describe("processIsAlive with real processes", () => {
  it("tells a running process from one that exited", () => {
    expect(processIsAlive(livePid)).toBe(true);
    expect(processIsAlive(process.ppid)).toBe(true);
    expect(processIsAlive(deadPid)).toBe(false);
    expect(processIsAlive(1.5)).toBe(false);
  });
});
