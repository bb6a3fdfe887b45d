import { spawn } from "node:child_process";
import type { Logger } from "@luci-machine-tokend/core";
import { errorMessage, formatGoDuration } from "@luci-machine-tokend/core/internal";

/** How long a timed-out hook's process group has between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 1000;
const GROUP_POLL_MS = 50;
/** How long what a hook leaves in its group gets to leave it (`setsid`) before it is ended. */
const SETSID_SETTLE_MS = 100;

/** Options of {@link runExecHook}. */
export interface ExecHookOptions {
  /** Where the command's stdout and stderr go. Default: our stderr. */
  output?: { write(chunk: Uint8Array): unknown };
  /** Ends the command like a timeout (SIGINT/SIGTERM of the run: its own group no longer gets them). */
  signal?: AbortSignal;
}

/**
 * Runs the `-exec` command after a refresh changed the token: through the shell, with
 * LUCI_MACHINE_TOKEN_FILE set to the primary token file, its output copied to our stderr. It runs
 * in its own process group; after `timeoutMs` the whole group gets SIGTERM, then SIGKILL if it is
 * still there a second later, so nothing it started outlives the timeout (the same when `signal`
 * aborts, or the process exits). When the shell exits, what is left in the group (a background
 * `cmd &`) is ended the same way, so refreshes do not pile up processes; a program that must keep
 * running leaves the group with `setsid`. Its output is read
 * through pipes that are closed when the shell is gone, so a background process that keeps them
 * open cannot hold the run (or whoever reads our stderr). Its status goes to the log (and so to
 * the status file's log_dump); it never fails the run.
 */
export async function runExecHook(
  command: string,
  tokenFile: string,
  timeoutMs: number,
  logger: Logger,
  options: ExecHookOptions = {},
): Promise<number | undefined> {
  const output = options.output ?? process.stderr;
  const started = performance.now();
  const child = spawn(command, {
    shell: true,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LUCI_MACHINE_TOKEN_FILE: tokenFile },
  });
  child.stdout.on("data", (d: Buffer) => output.write(d));
  child.stderr.on("data", (d: Buffer) => output.write(d));
  let killing: Promise<void> | undefined;
  let why = `timed out after ${formatGoDuration(timeoutMs)}`;
  const stop = () => {
    killing ??= endGroup(child.pid);
  };
  const timer = setTimeout(stop, timeoutMs);
  const onAbort = () => {
    why = "stopped: the run was interrupted";
    stop();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  // If the process exits meanwhile (a second signal), the group must not outlive it.
  const onExit = () => signalGroup(child.pid, "SIGKILL");
  process.once("exit", onExit);
  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | Error>(
    (resolve) => {
      child.once("error", resolve);
      child.once("exit", (code, signal) => resolve({ code, signal }));
    },
  );
  clearTimeout(timer);
  options.signal?.removeEventListener("abort", onAbort);
  child.stdout.destroy();
  child.stderr.destroy();
  if (outcome instanceof Error) {
    logger.log("warning", `-exec command could not start: ${errorMessage(outcome)}`);
    return undefined;
  }
  const took = formatGoDuration(performance.now() - started);
  // What the command started and left behind (`cmd &`) would otherwise outlive every refresh.
  const leftBehind = !killing && (await groupStaysAfterExit(child.pid));
  if (leftBehind) killing = endGroup(child.pid);
  if (killing) await killing;
  process.off("exit", onExit);
  if (killing && !leftBehind) {
    logger.log("warning", `-exec command ${why}; its process group was killed`);
    return undefined;
  }
  if (outcome.signal !== null) {
    logger.log("warning", `-exec command killed by ${outcome.signal} in ${took}`);
  } else if (outcome.code === 0) {
    logger.log("info", `-exec command exited with status 0 in ${took}`);
  } else {
    logger.log("warning", `-exec command exited with status ${outcome.code} in ${took}`);
  }
  if (leftBehind) {
    logger.log(
      "warning",
      "-exec command left processes running in its process group; ended them (start what must keep running with setsid)",
    );
  }
  return outcome.code ?? undefined;
}

/** Signals the process group led by `pid` (the hook's shell); false when the group is gone. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  if (pid === undefined) return false;
  try {
    // Windows has no process groups: there the shell alone is signalled.
    process.kill(process.platform === "win32" ? pid : -pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether processes stay in the group of the exited shell `pid`. A moment is left for what it
 * started with `setsid cmd &` to leave the group: the shell may exit before `setsid` ran.
 */
async function groupStaysAfterExit(pid: number | undefined): Promise<boolean> {
  if (!signalGroup(pid, 0)) return false;
  await new Promise((resolve) => setTimeout(resolve, SETSID_SETTLE_MS));
  return signalGroup(pid, 0);
}

/** SIGTERMs the group, waits up to the grace period for it to go, then SIGKILLs what is left. */
async function endGroup(pid: number | undefined): Promise<void> {
  signalGroup(pid, "SIGTERM");
  for (let waited = 0; waited < KILL_GRACE_MS; waited += GROUP_POLL_MS) {
    await new Promise((resolve) => setTimeout(resolve, GROUP_POLL_MS));
    if (!signalGroup(pid, 0)) return;
  }
  signalGroup(pid, "SIGKILL");
}
