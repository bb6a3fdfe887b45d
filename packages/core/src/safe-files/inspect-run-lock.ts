import type { Stats } from "node:fs";
import { constants, type FileHandle, lstat, open, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { errnoCode, fsErrorReason } from "../common/fs-errors.js";
import { formatGoDuration } from "../common/go-duration.js";
import { fileTypeName, isTrustedOwner } from "./open-regular-file.js";
import { processIsAlive } from "./stale-temp-files.js";

/** What a lock file says about its owner (the body a run writes). */
export interface LockOwner {
  pid: number;
  host: string;
  createdMs: number;
  /** Tells this lock from any other, also from an earlier process with the same pid. */
  nonce: string;
  /**
   * When the process started (clock ticks since boot, /proc/<pid>/stat), where the system says:
   * with it a live lock is told from a reused pid without trusting the wall clock.
   */
  startTime?: string;
  /** Milliseconds since boot when the lock was taken (/proc/uptime): an age no clock step changes. */
  bootMs?: number;
}

/** Enough of a file's identity to tell whether a name still points at the file judged. */
export type FileId = Pick<Stats, "dev" | "ino" | "mtimeMs" | "size">;

/** What the lock file at a path is now; `holder` describes it in one line. */
export type LockState =
  | { state: "gone" }
  | { state: "foreign"; uid: number }
  /** Not a lock file at all, and nothing a rename and unlink can remove: never broken. */
  | { state: "directory" }
  | { state: "held"; id: FileId; holder: string }
  | { state: "stale"; id: FileId; holder: string; why: string };

/** How {@link inspectRunLock} judges a lock. */
export interface InspectOptions {
  /** A lock older than this is stale even if its process seems alive (pid reuse). Default 10 min. */
  staleAfterMs?: number;
  /** True when a process id belongs to a running process; default `kill(pid, 0)`. */
  isAlive?: (pid: number) => boolean;
  /** When a process started, or undefined where that cannot be known; default {@link processStartTime}. */
  startTimeOf?: (pid: number) => Promise<string | undefined>;
  /** Milliseconds since boot, or undefined where unknown; default {@link msSinceBoot}. */
  bootClock?: () => Promise<number | undefined>;
  /** True when this process holds the lock with this nonce now. */
  heldHere(nonce: string): boolean;
  /**
   * Whether a lock file of this owner may be judged (waited for, broken); default this user and
   * root ({@link isTrustedOwner}). Tests inject it to stand for another user without privileges.
   */
  isTrustedOwner?: (uid: number) => boolean;
}

/** A lock body is ~150 bytes; more is not ours. */
const MAX_LOCK_BYTES = 4096;
/** Processes on one host share a clock; a lock from further ahead than this is forged or damaged. */
const FUTURE_SLACK_MS = 5_000;
/** A lock without a valid body is judged only after this (a file system without hard links writes it after creating it). */
const UNFINISHED_GRACE_MS = 2_000;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

/**
 * Reads and judges the lock file at `path` without following a symlink, blocking on a FIFO or
 * trusting another user's file: gone, another user's (never to be waited for or removed), held,
 * or stale, with a one-line description of its holder for the log. A lock of this host is judged
 * by its process: stale when the process is gone or its pid now belongs to another process (the
 * start time differs), held while it runs, whatever the wall clock says (a clock step must not
 * let two runs in). Only a lock whose process cannot be checked (another host; no start time, as
 * without /proc) is judged by its date: stale when too old or dated in the future. A body that
 * cannot be read is stale past a grace period.
 */
export async function inspectRunLock(
  path: string,
  nowMs: number,
  options: InspectOptions,
): Promise<LockState> {
  const trusted = options.isTrustedOwner ?? isTrustedOwner;
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return { state: "gone" };
    // A symlink (ELOOP) or a file we may not read: judged by what lstat says of the entry itself.
    const stats = await lstat(path).catch(() => undefined);
    if (stats === undefined) return { state: "gone" };
    return judgeUnreadable(stats, `unreadable (${fsErrorReason(err)})`, nowMs, trusted);
  }
  try {
    const stats = await handle.stat();
    if (!trusted(stats.uid)) return { state: "foreign", uid: stats.uid };
    // Renamed aside, a directory could not be unlinked and would stay there for ever; what is
    // inside it is nobody's business here.
    if (stats.isDirectory()) return { state: "directory" };
    if (!stats.isFile())
      return judgeUnreadable(stats, `not a regular file (it is ${fileTypeName(stats)})`, nowMs, trusted);
    const buffer = Buffer.alloc(MAX_LOCK_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const owner = parseOwner(buffer.subarray(0, bytesRead).toString("utf8"));
    if (owner === undefined) return judgeUnreadable(stats, "not a valid lock", nowMs, trusted);
    return await judgeOwner(stats, owner, nowMs, options);
  } finally {
    await handle.close();
  }
}

/** A lock whose body cannot be used: stale once past the grace for a lock still being written. */
function judgeUnreadable(
  stats: Stats,
  why: string,
  nowMs: number,
  trusted: (uid: number) => boolean,
): LockState {
  if (!trusted(stats.uid)) return { state: "foreign", uid: stats.uid };
  if (stats.isDirectory()) return { state: "directory" };
  const holder = `a lock file that is ${why}`;
  if (nowMs - stats.mtimeMs <= UNFINISHED_GRACE_MS) return { state: "held", id: stats, holder };
  return { state: "stale", id: stats, holder, why };
}

async function judgeOwner(
  stats: Stats,
  owner: LockOwner,
  nowMs: number,
  options: InspectOptions,
): Promise<LockState> {
  const age = nowMs - owner.createdMs;
  const holder = `pid ${owner.pid} on ${JSON.stringify(owner.host)}, taken ${formatGoDuration(Math.max(0, age))} ago`;
  const stale = (why: string): LockState => ({ state: "stale", id: stats, holder, why });
  const staleAfterMs = options.staleAfterMs ?? 10 * 60_000;
  if (owner.host === hostname()) {
    // Our own pid is alive, but the lock is ours only if this process holds it; otherwise an
    // earlier process had the same pid (pid 1 in a container) and was killed.
    if (owner.pid === process.pid) {
      return options.heldHere(owner.nonce)
        ? { state: "held", id: stats, holder }
        : stale("an earlier process with our pid");
    }
    if (!(options.isAlive ?? processIsAlive)(owner.pid)) return stale(`its process ${owner.pid} is gone`);
    const started = owner.startTime && (await (options.startTimeOf ?? processStartTime)(owner.pid));
    if (started) {
      if (started !== owner.startTime) return stale(`its process ${owner.pid} is gone (the pid was reused)`);
      // Held while its process runs, whatever the wall clock says; but a holder stuck past
      // staleAfterMs by the boot clock, which no clock step moves, loses it.
      const bootNow = owner.bootMs === undefined ? undefined : await (options.bootClock ?? msSinceBoot)();
      const heldMs = bootNow === undefined || owner.bootMs === undefined ? 0 : bootNow - owner.bootMs;
      if (heldMs > staleAfterMs) return stale(`it was taken ${formatGoDuration(heldMs)} ago`);
      return { state: "held", id: stats, holder };
    }
  }
  if (age < -FUTURE_SLACK_MS) return stale(`it is dated ${formatGoDuration(-age)} in the future`);
  if (age > staleAfterMs) return stale(`it was taken ${formatGoDuration(age)} ago`);
  return { state: "held", id: stats, holder };
}

/** Milliseconds since boot (/proc/uptime), or undefined where there is no /proc. */
export async function msSinceBoot(): Promise<number | undefined> {
  try {
    const seconds = Number.parseFloat(await readFile("/proc/uptime", "utf8"));
    return Number.isFinite(seconds) ? Math.round(seconds * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or
 * undefined where there is no /proc or it cannot be read.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const field = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return field && /^\d+$/.test(field) ? field : undefined;
  } catch {
    return undefined;
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    const valid =
      Number.isSafeInteger(o.pid) &&
      Number.isFinite(o.createdMs) &&
      typeof o.host === "string" &&
      o.host.length <= 255 &&
      typeof o.nonce === "string" &&
      (o.startTime === undefined || typeof o.startTime === "string") &&
      (o.bootMs === undefined || Number.isFinite(o.bootMs));
    return valid ? (o as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}
