import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { type Now, type Sleep, systemNow, systemSleep } from "./clock.js";
import { errnoCode } from "./fs-errors.js";
import { type Logger, silentLogger } from "./logger.js";

/** The file operations an atomic write uses; inject them to simulate faults. */
export interface AtomicWriteFs {
  /** Creates `path` exclusively (never through an existing file or symlink), writes, fsyncs, closes. */
  writeNewFile(path: string, data: Uint8Array, mode: number): Promise<void>;
  /** Renames `from` over `to`. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /** Flushes a directory entry change to disk (a no-op where directories cannot be fsynced). */
  syncDirectory(dir: string): Promise<void>;
}

/** Options of {@link writeFileAtomic}. */
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
}

/** Default file operations: node:fs with O_EXCL creation and fsyncs. */
export const nodeAtomicWriteFs: AtomicWriteFs = {
  async writeNewFile(path, data, mode) {
    const handle = await open(path, "wx", mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename,
  unlink,
  async syncDirectory(dir) {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(dir, "r");
      await handle.sync();
    } catch (err) {
      // Windows cannot open or fsync a directory; the rename is durable enough there.
      if (!["EISDIR", "EPERM", "EINVAL", "EBADF", "EACCES"].includes(errnoCode(err) ?? "")) throw err;
    } finally {
      await handle?.close();
    }
  },
};

const RENAME_RETRY_INTERVAL_MS = 500;
let tempCounter = 0;

/**
 * Suffix of our temp files: `<path>.<pid>_<counter>_<unix nanos>.tmp`, the names Go tokend uses,
 * so leftovers of either implementation can be recognized and cleaned up.
 */
export const TEMP_FILE_PATTERN = /^\.\d+_\d+_\d+\.tmp$/;

/** A fresh temp file name next to `path`. */
export function tempPathFor(path: string, now: Date): string {
  tempCounter++;
  return `${path}.${process.pid}_${tempCounter}_${BigInt(now.getTime()) * 1_000_000n}.tmp`;
}

/** True if `name` (a file name in the same directory) is a temp file of `path`'s atomic writes. */
export function isTempFileOf(path: string, name: string): boolean {
  const base = basename(path);
  return name.startsWith(base) && TEMP_FILE_PATTERN.test(name.slice(base.length));
}

/**
 * Replaces `path` with `data` so that readers and crashes see either the old or the new content:
 * write a temp file in the same directory (exclusive create, fsync), rename it over the target,
 * fsync the directory. A rename refused with EACCES/EPERM/EBUSY (Windows: a reader holds the file)
 * is retried every 500 ms for up to 10 s. On failure the temp file is removed and the target is
 * untouched.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const fs = { ...nodeAtomicWriteFs, ...options.fs };
  const sleep = options.sleep ?? systemSleep;
  const logger = options.logger ?? silentLogger;
  const retryMs = options.renameRetryMs ?? 10_000;
  const temp = tempPathFor(path, (options.now ?? systemNow)());
  try {
    await fs.writeNewFile(temp, data, options.mode ?? 0o644);
    for (let waited = 0; ; waited += RENAME_RETRY_INTERVAL_MS) {
      try {
        await fs.rename(temp, path);
        break;
      } catch (err) {
        const code = errnoCode(err);
        const retriable = code === "EACCES" || code === "EPERM" || code === "EBUSY";
        if (!retriable || waited + RENAME_RETRY_INTERVAL_MS > retryMs) throw err;
        logger.log("warning", `Failed to replace ${JSON.stringify(path)} - ${(err as Error).message}`);
        await sleep(RENAME_RETRY_INTERVAL_MS);
      }
    }
  } catch (err) {
    await fs.unlink(temp).catch(() => {});
    throw err;
  }
  await fs.syncDirectory(dirname(path));
}
