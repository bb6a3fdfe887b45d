import { execFileSync } from "node:child_process";
import { chmod, chown, mkdir, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeTempDir } from "../../../core/src/testing/temp-dir.js";
import { makeDemoDir } from "./demo-dir.js";

describe("makeDemoDir", () => {
  it("makes missing parents one at a time, mode 0700, and accepts the folder next time", async () => {
    const tmp = await makeTempDir();
    const dir = join(tmp.dir, "a", "b", "demo");
    expect(await makeDemoDir(dir)).toBe(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(tmp.dir, "a"))).mode & 0o777).toBe(0o700);
    expect(await makeDemoDir(dir)).toBe(dir);
    await tmp.remove();
  });

  it("fails at once where the kernel refuses mkdir with ENOENT (Node's recursive mkdir spins there)", async () => {
    await expect(makeDemoDir("/proc/no-such-dir/demo")).rejects.toThrow("mkdir '/proc/no-such-dir'");
  });

  it("refuses a file and a folder others can write to (also behind a link)", async () => {
    const tmp = await makeTempDir();
    await writeFile(join(tmp.dir, "file"), "");
    await expect(makeDemoDir(join(tmp.dir, "file"))).rejects.toThrow(/file: not a directory$/);
    const shared = join(tmp.dir, "shared");
    await mkdir(shared);
    await chmod(shared, 0o777);
    await expect(makeDemoDir(shared)).rejects.toThrow(/shared: writable by others \(mode 777\)$/);
    await chmod(shared, 0o770);
    await expect(makeDemoDir(shared)).rejects.toThrow(/shared: writable by others \(mode 770\)$/);
    await symlink(shared, join(tmp.dir, "link"));
    await expect(makeDemoDir(join(tmp.dir, "link"))).rejects.toThrow(/writable by others/);
    await tmp.remove();
  });

  it.skipIf(process.getuid?.() !== 0)(
    "refuses a folder owned by another user (root gives one away)",
    async () => {
      const tmp = await makeTempDir();
      const foreign = join(tmp.dir, "foreign");
      await mkdir(foreign, { mode: 0o700 });
      const nobody = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }));
      await chown(foreign, nobody, nobody);
      await expect(makeDemoDir(foreign)).rejects.toThrow(`owned by uid ${nobody}, not by this user (uid 0)`);
      await tmp.remove();
    },
  );
});
