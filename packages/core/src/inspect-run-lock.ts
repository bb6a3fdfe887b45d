import { constants, type Stats } from "node:fs";
import { type FileHandle, lstat, open } from "node:fs/promises";
import { hostname } from "node:os";
import { errnoCode, fsErrorReason } from "./fs-errors.js";
import { formatGoDuration } from "./go-duration.js";
import { fileTypeName, isTrustedOwner } from "./open-regular-file.js";
import { processIsAlive } from "./stale-temp-files.js";

/** What a lock file says about its owner (the body a run writes). */
export interface LockOwner {
  pid: number;
  host: string;
  createdMs: number;
  /** Tells this lock from any other, also from an earlier process with the same pid. */
  nonce: string;
}

/** Enough of a file's identity to tell whether a name still points at the file judged. */
export type FileId = Pick<Stats, "dev" | "ino" | "mtimeMs" | "size">;

/** What the lock file at a path is now; `holder` describes it in one line. */
export type LockState =
  | { state: "gone" }
  | { state: "foreign"; uid: number }
  | { state: "held"; id: FileId; holder: string }
  | { state: "stale"; id: FileId; holder: string; why: string };

/** How {@link inspectRunLock} judges a lock. */
export interface InspectOptions {
  /** A lock older than this is stale even if its process seems alive (pid reuse). Default 10 min. */
  staleAfterMs?: number;
  /** True when a process id belongs to a running process; default `kill(pid, 0)`. */
  isAlive?: (pid: number) => boolean;
  /** True when this process holds the lock with this nonce now. */
  heldHere(nonce: string): boolean;
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
 * or stale (its process is gone on this host, it is too old, dated in the future, or unreadable
 * past a grace period), with a one-line description of its holder for the log.
 */
export async function inspectRunLock(
  path: string,
  nowMs: number,
  options: InspectOptions,
): Promise<LockState> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return { state: "gone" };
    // A symlink (ELOOP) or a file we may not read: judged by what lstat says of the entry itself.
    const stats = await lstat(path).catch(() => undefined);
    if (stats === undefined) return { state: "gone" };
    return judgeUnreadable(stats, `unreadable (${fsErrorReason(err)})`, nowMs);
  }
  try {
    const stats = await handle.stat();
    if (!isTrustedOwner(stats.uid)) return { state: "foreign", uid: stats.uid };
    if (!stats.isFile())
      return judgeUnreadable(stats, `not a regular file (it is ${fileTypeName(stats)})`, nowMs);
    const buffer = Buffer.alloc(MAX_LOCK_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const owner = parseOwner(buffer.subarray(0, bytesRead).toString("utf8"));
    if (owner === undefined) return judgeUnreadable(stats, "not a valid lock", nowMs);
    return judgeOwner(stats, owner, nowMs, options);
  } finally {
    await handle.close();
  }
}

/** A lock whose body cannot be used: stale once past the grace for a lock still being written. */
function judgeUnreadable(stats: Stats, why: string, nowMs: number): LockState {
  if (!isTrustedOwner(stats.uid)) return { state: "foreign", uid: stats.uid };
  const holder = `a lock file that is ${why}`;
  if (nowMs - stats.mtimeMs <= UNFINISHED_GRACE_MS) return { state: "held", id: stats, holder };
  return { state: "stale", id: stats, holder, why };
}

function judgeOwner(stats: Stats, owner: LockOwner, nowMs: number, options: InspectOptions): LockState {
  const age = nowMs - owner.createdMs;
  const holder = `pid ${owner.pid} on ${JSON.stringify(owner.host)}, taken ${formatGoDuration(Math.max(0, age))} ago`;
  const stale = (why: string): LockState => ({ state: "stale", id: stats, holder, why });
  if (age < -FUTURE_SLACK_MS) return stale(`it is dated ${formatGoDuration(-age)} in the future`);
  if (age > (options.staleAfterMs ?? 10 * 60_000)) return stale(`it was taken ${formatGoDuration(age)} ago`);
  if (owner.host === hostname()) {
    // Our own pid is alive, but the lock is ours only if this process holds it; otherwise an
    // earlier process had the same pid (pid 1 in a container) and was killed.
    if (owner.pid === process.pid && !options.heldHere(owner.nonce))
      return stale("an earlier process with our pid");
    if (owner.pid !== process.pid && !(options.isAlive ?? processIsAlive)(owner.pid)) {
      return stale(`its process ${owner.pid} is gone`);
    }
  }
  return { state: "held", id: stats, holder };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    const valid =
      Number.isSafeInteger(o.pid) &&
      Number.isFinite(o.createdMs) &&
      typeof o.host === "string" &&
      o.host.length <= 255 &&
      typeof o.nonce === "string";
    return valid ? (o as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}
