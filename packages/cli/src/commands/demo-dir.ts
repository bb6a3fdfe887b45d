import { lstat, mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { errnoCode } from "@luci-machine-tokend/core/internal";

/**
 * Makes the demo's folder (and its missing parents, mode 0700) and refuses one another user could
 * write to: the demo reads its CA and keys back from it. Parents are made one at a time because
 * Node's recursive mkdir never returns where the kernel answers ENOENT to mkdir (under /proc).
 */
export async function makeDemoDir(dir: string): Promise<string> {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let d = target; ; d = dirname(d)) {
    const exists = await lstat(d).then(
      () => true,
      (err: unknown) => {
        if (errnoCode(err) === "ENOENT" && dirname(d) !== d) return false;
        throw err;
      },
    );
    if (exists) break;
    missing.unshift(d);
  }
  for (const d of missing) {
    await mkdir(d, { mode: 0o700 }).catch((err: unknown) => {
      if (errnoCode(err) !== "EEXIST") throw err;
    });
  }
  const st = await stat(target);
  if (!st.isDirectory()) throw new Error(`--dir ${target}: not a directory`);
  if (process.getuid !== undefined && st.uid !== process.getuid())
    throw new Error(`--dir ${target}: owned by uid ${st.uid}, not by this user (uid ${process.getuid()})`);
  if ((st.mode & 0o022) !== 0)
    throw new Error(`--dir ${target}: writable by others (mode ${(st.mode & 0o777).toString(8)})`);
  return target;
}
