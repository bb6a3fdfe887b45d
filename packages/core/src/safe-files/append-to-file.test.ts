import { execFileSync } from "node:child_process";
import { link, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { canActAsNobody, shAsNobody } from "../testing/as-nobody.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { appendToFile } from "./append-to-file.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(() => tmp.remove());
const bytes = (text: string) => new TextEncoder().encode(text);

describe("appendToFile", () => {
  it("creates the file with the mode (less the umask), then appends", async () => {
    const path = tmp.path("m.txt");
    await appendToFile(path, bytes("one\n"), 0o664);
    await appendToFile(path, bytes("two\n"), 0o600);
    expect(await readFile(path, "utf8")).toBe("one\ntwo\n");
    expect((await stat(path)).mode & 0o777).toBe(0o664 & ~process.umask());
  });

  it("follows this user's symlink, refuses a FIFO, a directory and a hard-linked file", async () => {
    await symlink(tmp.path("target.txt"), tmp.path("link.txt"));
    await appendToFile(tmp.path("link.txt"), bytes("x"));
    expect(await readFile(tmp.path("target.txt"), "utf8")).toBe("x");
    execFileSync("mkfifo", [tmp.path("fifo")]);
    await expect(appendToFile(tmp.path("fifo"), bytes("x"))).rejects.toThrow(
      "not a regular file (it is a FIFO)",
    );
    await expect(appendToFile(tmp.dir, bytes("x"))).rejects.toThrow("not a regular file (it is a directory)");
    await writeFile(tmp.path("precious"), "keep");
    await link(tmp.path("precious"), tmp.path("hard.txt"));
    await expect(appendToFile(tmp.path("hard.txt"), bytes("x"))).rejects.toThrow("has 2 hard links");
    expect(await readFile(tmp.path("precious"), "utf8")).toBe("keep");
  });

  it.skipIf(!canActAsNobody)("refuses another user's symlink and another user's file", async () => {
    execFileSync("chmod", ["777", tmp.dir]);
    await writeFile(tmp.path("precious"), "keep");
    shAsNobody(`ln -s ${tmp.path("precious")} ${tmp.path("planted")} && touch ${tmp.path("theirs")}`);
    await expect(appendToFile(tmp.path("planted"), bytes("x"))).rejects.toThrow(
      /symbolic link owned by uid \d+/,
    );
    await expect(appendToFile(tmp.path("theirs"), bytes("x"))).rejects.toThrow(/a file owned by uid \d+/);
    expect(await readFile(tmp.path("precious"), "utf8")).toBe("keep");
  });
});
