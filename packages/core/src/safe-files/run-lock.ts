/**
 * One run at a time per token file, with a lock file `<token>.lock`.
 *
 * Why a hand-made lock file and not something else:
 * - flock(2) would be best (the kernel drops it with its process), but Node has no flock and
 *   native addons are ruled out (the CLI is bundled and ships as one executable).
 * - proper-lockfile (the widely used package) fits a single-user app, not a privileged tool in a
 *   directory others can write: it makes `<file>.lock` with mkdir and judges it only by its mtime,
 *   which the holder refreshes from a timer. It never checks who owns the lock (another user's
 *   directory, kept fresh with `touch`, blocks every run; a future mtime is never stale), it
 *   stat()s through symlinks and realpath()s the target by default, its stale check and rmdir
 *   are two steps (two breakers can judge the same stale lock and the second removes the fresh
 *   lock the first just took), a process that is alive but stalled past the stale time loses its
 *   lock (and by default throws from a timer), and it has no notion of a dead pid, so every
 *   killed run blocks the next one for the stale time.
 * So: a lock file created with O_EXCL|O_NOFOLLOW (never through a symlink or an existing file),
 * whole at once (written under an unpredictable name, then hard-linked into place), trusted only
 * when owned by this user or root (fstat), judged by liveness (pid alive on this host with the
 * start time it had, a nonce per lock; by date only when that cannot be checked: an age limit,
 * no time from the future), broken by a rename to an unpredictable name that
 * is checked and undone if it caught a fresh lock, with every wait bounded by the run's deadline,
 * and the leftovers of killed runs removed. (How a lock is judged: inspect-run-lock.ts.)
 */
import { randomBytes } from "node:crypto";
import { constants, type FileHandle, link, lstat, open, rename, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname } from "node:path";
import { type Now, type Sleep, systemMonotonic, systemNow, systemSleep } from "../common/clock.js";
import { errnoCode, fsErrorReason } from "../common/fs-errors.js";
import { type Logger, silentLogger } from "../common/logger.js";
import {
  type FileId,
  inspectRunLock,
  type LockOwner,
  type LockState,
  msSinceBoot,
  processStartTime,
} from "./inspect-run-lock.js";
import { removeLeftoverFiles } from "./stale-temp-files.js";

/** A held lock; release it when the run is done. */
export interface RunLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Why a run goes on without the lock: the holder kept it past the deadline (`timeout`), the run
 * was cancelled while waiting (`aborted`), the lock file belongs to another user (`foreign`,
 * ignored and left alone), or no lock file can be made here (`unavailable`: a read-only
 * directory, a directory at the lock path).
 */
export type RunLockRefusal = "timeout" | "aborted" | "foreign" | "unavailable";

/** What {@link acquireRunLock} got: the lock, or why not (already logged) in one line. */
export type RunLockResult =
  | { lock: RunLock; refused?: undefined; message?: undefined }
  | { lock?: undefined; refused: RunLockRefusal; message: string };

/** Options of {@link acquireRunLock}. */
export interface RunLockOptions {
  /** Give up waiting at this time. */
  deadline: Date;
  /** Stop waiting when aborted. */
  signal?: AbortSignal;
  /** A lock older than this is stale even if its process seems alive (pid reuse). Default 10 min. */
  staleAfterMs?: number;
  /** Wait between tries. Default 50 ms. */
  pollMs?: number;
  now?: Now;
  sleep?: Sleep;
  logger?: Logger;
  /** True when a process id belongs to a running process; default `kill(pid, 0)`. */
  isAlive?: (pid: number) => boolean;
  /** When a process started (to tell a live lock from a reused pid); default from /proc. */
  startTimeOf?: (pid: number) => Promise<string | undefined>;
  /** Milliseconds since boot (the age of a live holder's lock); default from /proc. */
  bootClock?: () => Promise<number | undefined>;
  /** Whose lock files are judged (waited for, broken); default this user and root. */
  isTrustedOwner?: (uid: number) => boolean;
}

/** Tries in a row without sleeping after progress (a lock that went away or was broken). */
const QUICK_TRIES = 3;
/** link(2) errors of file systems without hard links. */
const NO_HARD_LINKS: ReadonlySet<string | undefined> = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** Nonces of the locks this process holds now. */
const heldNonces = new Set<string>();

/**
 * Takes the per-token-file lock `<tokenPath>.lock` so only one run at a time reads, mints and
 * writes that token; a second run waits (sleeping `pollMs` between tries, never past the deadline)
 * and then finds the fresh token instead of minting again. A lock whose process is gone (same
 * host: dead, or its pid reused) or unreadable is broken, as is one whose process cannot be
 * checked (another host, no /proc) once older than `staleAfterMs` or dated in the future; a lock
 * owned by another user (not us, not root) is never waited for and never removed. Returns the lock,
 * or why the run goes on without it; everything it decides is logged.
 */
export async function acquireRunLock(tokenPath: string, options: RunLockOptions): Promise<RunLockResult> {
  const now = options.now ?? systemNow;
  const sleep = options.sleep ?? systemSleep;
  const logger = options.logger ?? silentLogger;
  const path = `${tokenPath}.lock`;
  let announced = false;
  let quickTries = 0;
  let last: LockState = { state: "gone" };
  // Read once; each attempt's boot time follows from the monotonic clock (no file read per try).
  const ownStartTime = (options.startTimeOf ?? processStartTime)(process.pid);
  const bootAtStart = (options.bootClock ?? msSinceBoot)();
  const monotonicAtStart = systemMonotonic();
  for (;;) {
    // Made per attempt: the age of a lock counts from when it was taken, not from when we started.
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      createdMs: now().getTime(),
      nonce: randomBytes(16).toString("hex"),
      startTime: await ownStartTime,
      bootMs: await bootAtStart.then((ms) =>
        ms === undefined ? undefined : Math.round(ms + systemMonotonic() - monotonicAtStart),
      ),
    };
    let id: FileId | undefined;
    // Known as ours before the lock appears: another taker in this process may judge it at once.
    heldNonces.add(owner.nonce);
    try {
      id = await createLock(path, JSON.stringify(owner));
    } catch (err) {
      heldNonces.delete(owner.nonce);
      // A read-only or foreign directory must not stop a run that only finds its token good.
      const message = `${fsErrorReason(err)} (creating the lock ${path}); running without it`;
      logger.log("warning", message);
      return { refused: "unavailable", message };
    }
    if (id === undefined) heldNonces.delete(owner.nonce);
    else {
      await removeLockLeftovers(path, now(), options);
      const held = id;
      return { lock: { path, release: () => releaseLock(path, held, owner.nonce) } };
    }
    last = await inspectRunLock(path, now().getTime(), {
      ...options,
      heldHere: (nonce: string) => heldNonces.has(nonce),
    });
    let progress = last.state === "gone";
    if (last.state === "foreign") {
      const message = `The lock ${path} belongs to uid ${last.uid}, not to this user or root; ignoring it and running without a lock`;
      logger.log("warning", message);
      return { refused: "foreign", message };
    }
    if (last.state === "directory") {
      // Not ours (a run makes files) and not removable whole without looking inside: left alone.
      const message = `The lock ${path} is a directory, not a lock file; leaving it (remove it if nothing uses it) and running without a lock`;
      logger.log("warning", message);
      return { refused: "unavailable", message };
    }
    if (last.state === "stale" && (await breakLock(path, last.id))) {
      logger.log("warning", `Broke a stale lock ${path} (${last.why})`);
      progress = true;
    } else if (last.state !== "gone" && !announced) {
      logger.log("info", `Another run holds ${path} (${last.holder}); waiting for it`);
      announced = true;
    }
    if (progress && quickTries++ < QUICK_TRIES) continue;
    quickTries = 0;
    const left = options.deadline.getTime() - now().getTime();
    if (options.signal?.aborted) return aborted(path, logger);
    if (left <= 0) {
      const holder = last.state === "held" || last.state === "stale" ? ` (${last.holder})` : "";
      const message = `another run still held the lock ${path} at the deadline${holder}`;
      logger.log("warning", `Gave up waiting: ${message}`);
      return { refused: "timeout", message };
    }
    try {
      await sleep(Math.min(options.pollMs ?? 50, left), options.signal);
    } catch {
      return aborted(path, logger);
    }
  }
}

function aborted(path: string, logger: Logger): RunLockResult {
  const message = `cancelled while waiting for the lock ${path}`;
  logger.log("warning", `Stopped waiting: ${message}`);
  return { refused: "aborted", message };
}

/**
 * Creates the lock whole: the body goes into a new file with an unpredictable name (O_EXCL, no
 * symlink followed), which is hard-linked to the lock name (fails if taken); returns the lock's
 * identity, or undefined when another lock is there. Where hard links do not exist, the lock is
 * created directly with O_EXCL and written after (readers give such a lock a grace period).
 */
async function createLock(path: string, body: string): Promise<FileId | undefined> {
  const aside = leftoverName(path, "new");
  const handle = await openNew(aside);
  try {
    await handle.writeFile(body);
    const mine = await handle.stat();
    try {
      await link(aside, path);
    } catch (err) {
      if (errnoCode(err) === "EEXIST") return undefined;
      if (!NO_HARD_LINKS.has(errnoCode(err))) throw err;
      return await createLockDirectly(path, body);
    }
    // In a directory others can write, the aside name could have been swapped before the link.
    const linked = await lstat(path).catch(() => undefined);
    return linked !== undefined && sameFile(linked, mine) ? mine : undefined;
  } finally {
    await handle.close();
    await unlink(aside).catch(() => {});
  }
}

async function createLockDirectly(path: string, body: string): Promise<FileId | undefined> {
  let handle: FileHandle;
  try {
    handle = await openNew(path);
  } catch (err) {
    if (errnoCode(err) === "EEXIST") return undefined;
    throw err;
  }
  try {
    await handle.writeFile(body);
    return await handle.stat();
  } finally {
    await handle.close();
  }
}

/** O_CREAT|O_EXCL|O_NOFOLLOW: never opens an existing file, never follows a symlink. */
function openNew(path: string): Promise<FileHandle> {
  return open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o644);
}

/**
 * Removes the lock file judged (`judged`), and only it: the lock is renamed to an unpredictable
 * name (one breaker wins), and if what was moved is not the file judged (it was broken and taken
 * again meanwhile), it is linked back. True when the judged lock is gone.
 */
async function breakLock(path: string, judged: FileId): Promise<boolean> {
  const current = await lstat(path).catch(() => undefined);
  if (current === undefined || !sameFile(current, judged)) return false;
  const aside = leftoverName(path, "stale");
  try {
    await rename(path, aside);
  } catch {
    return false; // someone else broke it first, or we may not (a root lock in a sticky directory)
  }
  const moved = await lstat(aside).catch(() => undefined);
  if (moved?.isDirectory()) {
    // A directory swapped in since it was judged: back where it was (it cannot be linked).
    await rename(aside, path).catch(() => {});
    return false;
  }
  if (moved !== undefined && !sameFile(moved, judged)) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
  return moved !== undefined && sameFile(moved, judged);
}

async function releaseLock(path: string, id: FileId, nonce: string): Promise<void> {
  if (!heldNonces.has(nonce)) return; // released already
  await breakLock(path, id);
  heldNonces.delete(nonce);
}

function sameFile(a: FileId, b: FileId): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size;
}

/** `<lock>.<pid>.<random>.new|stale`: names of this module's scratch files, unpredictable. */
function leftoverName(path: string, kind: "new" | "stale"): string {
  return `${path}.${process.pid}.${randomBytes(8).toString("hex")}.${kind}`;
}

/**
 * Removes the scratch files of lock takers and breakers that were killed: ours
 * (`<lock>.<pid>.<hex>.new|stale`) and those of earlier versions (`<lock>.<pid>_<n>.new|stale`),
 * and the empty `.stale` directories that earlier versions left when they broke a directory.
 */
async function removeLockLeftovers(path: string, now: Date, options: RunLockOptions): Promise<void> {
  const base = basename(path);
  const pattern = /^\.(\d+)[._][0-9a-f]+\.(new|stale)$/;
  await removeLeftoverFiles(
    dirname(path),
    (name) => {
      if (!name.startsWith(base)) return undefined;
      const pid = pattern.exec(name.slice(base.length))?.[1];
      return pid === undefined ? undefined : Number(pid);
    },
    { now, isAlive: options.isAlive, logger: options.logger, emptyDirectories: true },
  );
}
