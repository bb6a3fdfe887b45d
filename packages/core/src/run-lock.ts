import { randomUUID } from "node:crypto";
import { link, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { type Now, type Sleep, systemNow, systemSleep } from "./clock.js";
import { errnoCode } from "./fs-errors.js";
import { type Logger, silentLogger } from "./logger.js";
import { processIsAlive } from "./stale-temp-files.js";

/** A held lock; release it when the run is done. */
export interface RunLock {
  readonly path: string;
  release(): Promise<void>;
}

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
}

/** What a lock file says about its owner. */
interface LockOwner {
  pid: number;
  host: string;
  createdMs: number;
  /** Tells apart the locks of one process (two acquirers). */
  seq?: number;
  /** Tells this process from an earlier one that had the same pid (pid 1 in a container). */
  nonce?: string;
}

/** Counts the lock attempts of this process, so each lock body and scratch file name is unique. */
let sequence = 0;

/** Marks the locks this process makes. */
const processNonce = randomUUID();

/**
 * Takes the per-token-file lock `<tokenPath>.lock` so only one run at a time reads, mints and
 * writes that token; a second run waits and then finds the fresh token instead of minting again.
 * Stale-safe: a lock whose process is gone (same host) or that is older than `staleAfterMs` is
 * broken, so a killed run cannot leave it stuck. Returns undefined when the deadline passes or
 * the signal fires first, or when the lock cannot be made (read-only directory); the caller then
 * carries on unlocked.
 */
export async function acquireRunLock(
  tokenPath: string,
  options: RunLockOptions,
): Promise<RunLock | undefined> {
  const now = options.now ?? systemNow;
  const sleep = options.sleep ?? systemSleep;
  const logger = options.logger ?? silentLogger;
  const path = `${tokenPath}.lock`;
  let announced = false;
  for (;;) {
    // Made per attempt: the age of a lock counts from when it was taken, not from when we started.
    const owner: LockOwner = {
      pid: process.pid,
      host: hostname(),
      createdMs: now().getTime(),
      seq: ++sequence,
      nonce: processNonce,
    };
    const body = JSON.stringify(owner);
    let created: boolean;
    try {
      created = await tryCreate(path, body, owner.seq ?? 0);
    } catch (err) {
      // A read-only or foreign-owned directory must not stop a run that only finds its token good.
      logger.log("warning", `Cannot take the lock ${path}, running without it - ${(err as Error).message}`);
      return undefined;
    }
    if (created) return { path, release: () => releaseIfOurs(path, body) };
    const holder = await readOwner(path);
    if (holder !== "gone" && isStale(holder, options, now())) {
      await breakStaleLock(path, holder, logger);
      continue;
    }
    if (!announced) {
      logger.log("info", `Another run holds ${path}; waiting for it`);
      announced = true;
    }
    const left = options.deadline.getTime() - now().getTime();
    if (left <= 0 || options.signal?.aborted) return undefined;
    try {
      await sleep(Math.min(options.pollMs ?? 50, left), options.signal);
    } catch {
      return undefined;
    }
  }
}

/** Creates the lock file atomically: written aside, then hard-linked into place (fails if taken). */
async function tryCreate(path: string, body: string, seq: number): Promise<boolean> {
  const aside = `${path}.${process.pid}_${seq}.new`;
  try {
    // Inside the try: on a full disk the aside file is created but not written, and must go too.
    await writeFile(aside, body, { mode: 0o644 });
    await link(aside, path);
    return true;
  } catch (err) {
    if (errnoCode(err) === "EEXIST") return false;
    if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes(errnoCode(err) ?? "")) throw err;
    // No hard links on this file system: an exclusive create is still exclusive.
    return await writeFile(path, body, { flag: "wx", mode: 0o644 }).then(
      () => true,
      (e: unknown) => {
        if (errnoCode(e) === "EEXIST") return false;
        throw e;
      },
    );
  } finally {
    await unlink(aside).catch(() => {});
  }
}

async function readOwner(path: string): Promise<LockOwner | "gone" | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<LockOwner>;
    if (typeof parsed.pid === "number" && typeof parsed.createdMs === "number") return parsed as LockOwner;
    return undefined;
  } catch (err) {
    return errnoCode(err) === "ENOENT" ? "gone" : undefined;
  }
}

function isStale(holder: LockOwner | undefined, options: RunLockOptions, now: Date): boolean {
  if (holder === undefined) return true; // unreadable or foreign content: nobody can own it
  if (now.getTime() - holder.createdMs > (options.staleAfterMs ?? 10 * 60_000)) return true;
  if (holder.host !== hostname()) return false;
  // Our own pid is alive, but the lock is ours only if this process made it; otherwise an earlier
  // process had the same pid (pid 1 in a container) and was killed. (A lock we made and released
  // may still be read here a moment later: it is not stale, the next try finds it gone.)
  if (holder.pid === process.pid) return holder.nonce !== processNonce;
  return !(options.isAlive ?? processIsAlive)(holder.pid);
}

/**
 * Moves the stale lock aside (rename: only one breaker wins) and checks that what it moved is the
 * lock it judged stale; if a fresh lock was moved by mistake, it is put back.
 */
async function breakStaleLock(path: string, judged: LockOwner | undefined, logger: Logger): Promise<void> {
  const aside = `${path}.${process.pid}_${++sequence}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await readOwner(aside);
  const same = moved !== "gone" && JSON.stringify(moved) === JSON.stringify(judged);
  if (same) {
    logger.log("warning", `Broke a stale lock ${path} (its run is gone)`);
  } else {
    await link(aside, path).catch(() => {});
  }
  await unlink(aside).catch(() => {});
}

async function releaseIfOurs(path: string, body: string): Promise<void> {
  try {
    if ((await readFile(path, "utf8")) === body) await unlink(path);
  } catch {
    // Already gone: nothing to release.
  }
}
