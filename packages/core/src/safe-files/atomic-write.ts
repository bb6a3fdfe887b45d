import { randomInt } from "node:crypto";
import { constants, open, rename, unlink } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { type Now, type Sleep, systemNow, systemSleep } from "../common/clock.js";
import { errnoCode, errorMessage, fsErrorOn } from "../common/fs-errors.js";
import type { Logger } from "../common/logger.js";

/** What an atomic write does with a file it opened: the temp file, or the directory it fsyncs. */
export interface AtomicWriteHandle {
  writeFile(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file operations an atomic write uses; inject them to simulate faults or watch the order. */
export interface AtomicWriteFs {
  /**
   * Opens a file as node:fs/promises' `open` does. The default `writeNewFile` and
   * `syncDirectory` open through it: inject it alone to see every write, fsync and close.
   */
  open(path: string, flags: number | string, mode?: number): Promise<AtomicWriteHandle>;
  /** Creates `path` exclusively (never through an existing file or symlink), writes, fsyncs, closes. */
  writeNewFile(path: string, data: Uint8Array, mode: number): Promise<void>;
  /** Renames `from` over `to`. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /** Flushes a directory entry change to disk (a no-op where directories cannot be fsynced). */
  syncDirectory(dir: string): Promise<void>;
}

/** Options of an atomic write (temp file, fsync, rename, directory fsync): clock, sleep, file system, mode. */
export interface AtomicWriteOptions {
  /** File mode of the new file before the umask. Default 0o644, as Go tokend. */
  mode?: number;
  /** File operations; each defaults to the real one. */
  fs?: Partial<AtomicWriteFs>;
  /** Clock for the temp file name. Default: the system clock. */
  now?: Now;
  /** Waits between rename retries. Default: a real timer. */
  sleep?: Sleep;
  /** Receives rename retry warnings. */
  logger?: Logger;
  /** How long a rename refused by a reader holding the file is retried. Default 10 s, as Go. */
  renameRetryMs?: number;
  /** No rename retry goes past this time (the run's deadline). Default: only `renameRetryMs` bounds them. */
  deadline?: Date;
  /**
   * Whose rename errors are worth retrying. Default `process.platform`. Only on Windows: there a
   * reader holding the file makes the rename fail with EACCES/EPERM/EBUSY for a moment. On POSIX
   * these errors are final (a file owned by another user in a sticky directory), so no retry.
   */
  platform?: NodeJS.Platform;
}

/**
 * The file operations with `given` ones in place of node:fs's; the default `writeNewFile` and
 * `syncDirectory` open files through `given.open` when there is one.
 */
export function atomicWriteFs(given: Partial<AtomicWriteFs> = {}): AtomicWriteFs {
  const fs: AtomicWriteFs = {
    open: given.open ?? open,
    writeNewFile: given.writeNewFile ?? ((path, data, mode) => writeNewFile(fs, path, data, mode)),
    rename: given.rename ?? rename,
    unlink: given.unlink ?? unlink,
    syncDirectory: given.syncDirectory ?? ((dir) => syncDirectory(fs, dir)),
  };
  return fs;
}

/** Default file operations: node:fs with O_EXCL creation and fsyncs. */
export const nodeAtomicWriteFs: AtomicWriteFs = atomicWriteFs();

async function writeNewFile(fs: AtomicWriteFs, path: string, data: Uint8Array, mode: number): Promise<void> {
  // O_EXCL: never through an existing file or symlink (a planted name fails instead of being
  // followed); O_NOFOLLOW says the same where O_EXCL alone might not (old NFS).
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
  const handle = await fs.open(path, flags, mode);
  try {
    await handle.writeFile(data);
    // On disk before the rename makes it the file: a crash must not leave a renamed empty file.
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(fs: AtomicWriteFs, dir: string): Promise<void> {
  let handle: AtomicWriteHandle | undefined;
  try {
    handle = await fs.open(dir, "r");
    // The rename itself on disk: without it a crash may bring back the old file.
    await handle.sync();
  } catch (err) {
    // Windows cannot open or fsync a directory; the rename is durable enough there.
    if (!["EISDIR", "EPERM", "EINVAL", "EBADF", "EACCES"].includes(errnoCode(err) ?? "")) throw err;
  } finally {
    await handle?.close();
  }
}

const RENAME_RETRY_INTERVAL_MS = 500;

/** Rename errors that mean "a reader holds the file" on Windows, and only there. */
const WINDOWS_BUSY_CODES: ReadonlySet<string | undefined> = new Set(["EACCES", "EPERM", "EBUSY"]);

/**
 * Suffix of our temp files: `<path>.<pid>_<n>_<unix nanos>.tmp`, the shape of Go tokend's names,
 * so leftovers of either implementation can be recognized and cleaned up. Go's `<n>` is a counter;
 * ours is random (48 bits), so nobody can plant the name ahead of us.
 */
export const TEMP_FILE_PATTERN = /^\.\d+_\d+_\d+\.tmp$/;

/** A fresh, unpredictable temp file name next to `path`. */
export function tempPathFor(path: string, now: Date): string {
  const nonce = randomInt(2 ** 48 - 1);
  return `${path}.${process.pid}_${nonce}_${BigInt(now.getTime()) * 1_000_000n}.tmp`;
}

/** True if `name` (a file name in the same directory) is a temp file of `path`'s atomic writes. */
export function isTempFileOf(path: string, name: string): boolean {
  const base = basename(path);
  return name.startsWith(base) && TEMP_FILE_PATTERN.test(name.slice(base.length));
}

/**
 * Replaces `path` with `data` so that readers and crashes see either the old or the new content:
 * write a temp file in the same directory (exclusive create, fsync), rename it over the target,
 * fsync the directory. On Windows a rename refused with EACCES/EPERM/EBUSY (a reader holds the
 * file) is retried every 500 ms for up to 10 s, never past `deadline`. On failure the temp file is
 * removed, the target is untouched, and the error names `path` (not the temp file) after the reason.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const fs = atomicWriteFs(options.fs);
  const now = options.now ?? systemNow;
  const temp = tempPathFor(path, now());
  try {
    await fs.writeNewFile(temp, data, options.mode ?? 0o644);
  } catch (err) {
    await fs.unlink(temp).catch(() => {});
    throw fsErrorOn(err, "writing", path);
  }
  try {
    await renameWithRetries(fs, temp, path, options);
  } catch (err) {
    await fs.unlink(temp).catch(() => {});
    throw fsErrorOn(err, "replacing", path);
  }
  await fs.syncDirectory(dirname(path));
}

async function renameWithRetries(
  fs: AtomicWriteFs,
  temp: string,
  path: string,
  options: AtomicWriteOptions,
): Promise<void> {
  const now = options.now ?? systemNow;
  const sleep = options.sleep ?? systemSleep;
  const retryMs = options.renameRetryMs ?? 10_000;
  const windows = (options.platform ?? process.platform) === "win32";
  for (let waited = 0; ; ) {
    try {
      await fs.rename(temp, path);
      return;
    } catch (err) {
      const untilDeadline = (options.deadline?.getTime() ?? Number.POSITIVE_INFINITY) - now().getTime();
      const wait = Math.min(RENAME_RETRY_INTERVAL_MS, retryMs - waited, untilDeadline);
      if (!windows || !WINDOWS_BUSY_CODES.has(errnoCode(err)) || wait <= 0) throw err;
      options.logger?.log(
        "warning",
        `Failed to replace ${JSON.stringify(path)}, retrying - ${errorMessage(err)}`,
      );
      await sleep(wait);
      waited += wait;
    }
  }
}
