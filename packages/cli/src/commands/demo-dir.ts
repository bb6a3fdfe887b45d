import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { makePrivateDirs } from "../make-private-dirs.js";

/**
 * Makes the demo's folder (and its missing parents, mode 0700) and refuses one another user could
 * write to: the demo reads its CA and keys back from it.
 */
export async function makeDemoDir(dir: string): Promise<string> {
  const target = resolve(dir);
  await makePrivateDirs(target);
  const st = await stat(target);
  if (!st.isDirectory()) throw new Error(`--dir ${target}: not a directory`);
  if (process.getuid !== undefined && st.uid !== process.getuid())
    throw new Error(`--dir ${target}: owned by uid ${st.uid}, not by this user (uid ${process.getuid()})`);
  if ((st.mode & 0o022) !== 0)
    throw new Error(`--dir ${target}: writable by others (mode ${(st.mode & 0o777).toString(8)})`);
  return target;
}
