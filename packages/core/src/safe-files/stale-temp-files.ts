import { lstat, readdir, rmdir, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type Logger, silentLogger } from "../common/logger.js";
import { isTempFileOf } from "./atomic-write.js";

/** Leftover-looking names judged (lstat, maybe unlink) in one pass over a directory. */
export const MAX_JUDGED_PER_PASS = 200;

/** Options of {@link removeStaleTempFiles}. */
export interface StaleTempFileOptions {
  /** The current time, to judge age. */
  now: Date;
  /** Temp files older than this are stale whatever their pid says. Default 10 minutes. */
  maxAgeMs?: number;
  /** True when a process id belongs to a running process. Default: `process.kill(pid, 0)`. */
  isAlive?: (pid: number) => boolean;
  logger?: Logger;
  /** Also remove empty directories with such names (rmdir, never recursive). Default false. */
  emptyDirectories?: boolean;
}

/**
 * Removes temp files that atomic writes of `paths` left behind when their process was killed:
 * only files named like ours (`<name>.<pid>_<n>_<nanos>.tmp`, also Go tokend's pattern) whose
 * process is gone or that are older than `maxAgeMs`. Each directory is read once, however many of
 * the paths it holds (a run's token and status files usually share one). Returns the removed
 * paths; never throws.
 */
export async function removeStaleTempFiles(
  paths: string | readonly string[],
  options: StaleTempFileOptions,
): Promise<string[]> {
  const byDirectory = new Map<string, string[]>();
  for (const path of typeof paths === "string" ? [paths] : paths) {
    const siblings = byDirectory.get(dirname(path));
    if (siblings) siblings.push(path);
    else byDirectory.set(dirname(path), [path]);
  }
  const removed: string[] = [];
  for (const [dir, files] of byDirectory) {
    const pidOf = (name: string) =>
      files.some((path) => isTempFileOf(path, name))
        ? Number(/\.(\d+)_\d+_\d+\.tmp$/.exec(name)?.[1])
        : undefined;
    removed.push(...(await removeLeftoverFiles(dir, pidOf, options)));
  }
  return removed;
}

/**
 * Removes the files of `dir` that `pidOf` recognizes as leftovers (it returns the pid their name
 * holds) when that process is gone or the file is older than `maxAgeMs`. Only regular files owned
 * by this user are removed, and with `emptyDirectories` this user's empty directories (lstat: a
 * symlink is never followed, another user's file never touched, a directory never looked into),
 * and never one of this process younger than `maxAgeMs` (it may be in use). At most
 * {@link MAX_JUDGED_PER_PASS} names are judged per call. Never throws.
 */
export async function removeLeftoverFiles(
  dir: string,
  pidOf: (name: string) => number | undefined,
  options: StaleTempFileOptions,
): Promise<string[]> {
  const logger = options.logger ?? silentLogger;
  const isAlive = options.isAlive ?? processIsAlive;
  const maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  let judged = 0;
  for (const name of names) {
    const pid = pidOf(name);
    if (pid === undefined) continue;
    // Names others planted in a shared directory must not make every run slow: the next run
    // takes the rest.
    if (++judged > MAX_JUDGED_PER_PASS) break;
    const full = join(dir, name);
    try {
      const stats = await lstat(full);
      const directory = stats.isDirectory() && options.emptyDirectories === true;
      if (!(stats.isFile() || directory) || (uid !== undefined && stats.uid !== uid)) continue;
      const old = options.now.getTime() - stats.mtimeMs > maxAgeMs;
      if ((pid !== process.pid && !isAlive(pid)) || old) {
        // rmdir fails on a directory with anything in it (ENOTEMPTY): that one is left alone.
        await (directory ? rmdir(full) : unlink(full));
        removed.push(full);
        logger.log("info", `Removed a file left by an interrupted run: ${basename(full)}`);
      }
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed;
}

/** `kill(pid, 0)`: ESRCH means no such process; EPERM means it exists under another user. */
export function processIsAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
