import { execFileSync, spawn } from "node:child_process";

/** Runs a command as nobody (65534): tests run as root, attackers do not. */
export const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

/** True when this process may drop to nobody (it is root), so tests of another user's files can run. */
export const canActAsNobody = process.getuid?.() === 0;

/** Runs a shell command as nobody and waits for it; throws if it fails. */
export function shAsNobody(command: string, cwd?: string): void {
  execFileSync(NOBODY[0] as string, [...NOBODY.slice(1), "sh", "-c", command], { cwd, stdio: "ignore" });
}

/** Starts a shell command as nobody in its own process group; `stop()` kills the group. */
export function spawnAsNobody(command: string, cwd?: string): { exited: () => boolean; stop(): void } {
  const child = spawn(NOBODY[0] as string, [...NOBODY.slice(1), "sh", "-c", command], {
    cwd,
    stdio: "ignore",
    detached: true,
  });
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  return {
    exited: () => exited,
    stop: () => {
      if (!exited && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    },
  };
}
