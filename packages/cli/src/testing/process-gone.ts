import { readFile } from "node:fs/promises";

/**
 * True once `pid` has exited, polling for up to a second. A zombie counts as exited: where PID 1
 * does not reap orphans (some containers), a killed grandchild stays a zombie and kill(pid, 0)
 * still succeeds, so this reads the state from /proc (Linux).
 */
export async function processGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
    const state = stat?.replace(/^.*\) /, "")[0];
    if (state === undefined || state === "Z" || state === "X") return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}
