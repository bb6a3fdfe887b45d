import { readdir, utimes, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { processIsAlive, removeStaleTempFiles } from "./stale-temp-files.js";
import { makeTempDir } from "./testing/temp-dir.js";

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
