import type { Stats } from "node:fs";
// constants from fs/promises: importing "node:fs" into an ES module loads its stream classes
// (~1.5 ms of every run's start-up); the synchronous opener lives in open-regular-file-sync.ts.
import { constants, type FileHandle, lstat, open, readlink } from "node:fs/promises";
import { dirname, isAbsolute, sep } from "node:path";
import { errnoCode } from "../common/fs-errors.js";

/**
 * Opens files a privileged run reads in directories others may write, without letting them choose
 * what is opened. The entry is judged with lstat before anything is opened: a FIFO, device, socket
 * or directory is refused unopened (opening /dev/watchdog arms it; opening a FIFO wakes its
 * writer); a symlink is followed only when this user or root owns it (its target judged the same
 * way, link by link); a regular file is opened with O_NOFOLLOW|O_NONBLOCK and its handle must be
 * the file judged. If the entry is swapped between the lstat and the open, the open cannot follow a
 * new symlink, cannot block on a FIFO, and the handle is refused; the path is then judged again.
 */

export const OPEN_FLAGS =
  constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);
/** Symlinks followed from one path, as the kernel's own limit for a path is 40. */
const MAX_LINKS = 8;
/** Times a path is judged when it changes under us (a tokend renaming a new file over it). */
export const MAX_TRIES = 3;

/** What {@link openRegularFile} throws for a path that is not a regular file. */
export class NotRegularFileError extends Error {
  override name = "NotRegularFileError";
  constructor(readonly fileType: string) {
    super(`not a regular file (it is ${fileType})`);
  }
}

/**
 * A file or symlink that another user (not this user, not root) owns, where only ours count:
 * {@link openRegularFile} does not follow such a symlink.
 */
export class UntrustedFileError extends Error {
  override name = "UntrustedFileError";
  constructor(
    readonly uid: number,
    kind: "a symbolic link" | "a file",
  ) {
    const verdict = kind === "a file" ? "not trusted" : "not followed";
    super(`${kind} owned by uid ${uid} (not this user or root), ${verdict}`);
  }
}

/** Owners whose files and symlinks are trusted: this user and root. Elsewhere (Windows) every file reads as uid 0. */
export function isTrustedOwner(uid: number): boolean {
  return uid === 0 || uid === (process.getuid?.() ?? 0);
}

/** What kind of file `stats` describes, for error messages: "a FIFO", "a directory", … */
export function fileTypeName(stats: Stats): string {
  if (stats.isFile()) return "a regular file";
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSocket()) return "a socket";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "not a file";
}

/** An open regular file and its fstat. */
export interface OpenedFile<H> {
  handle: H;
  stats: Stats;
}

/** Opens the regular file at `path` (see the module comment); the caller closes the handle. */
export async function openRegularFile(path: string): Promise<OpenedFile<FileHandle>> {
  for (let tries = 1; ; tries++) {
    let current = path;
    let entry = await lstat(current);
    for (let links = 0; followLink(entry, links); links++) {
      current = linkTarget(current, await readlink(current));
      entry = await lstat(current);
    }
    const handle = await open(current, OPEN_FLAGS).catch(swappedToLink);
    if (handle !== undefined) {
      const stats = await handle.stat().catch(async (err: unknown) => {
        await handle.close();
        throw err;
      });
      if (isJudgedFile(entry, stats)) return { handle, stats };
      await handle.close();
    }
    if (tries >= MAX_TRIES) throw changedError(path);
  }
}

/**
 * Whether the entry is a symlink to follow; throws for a symlink of another user, one link too
 * many, or an entry that is not a regular file (refused before it is opened).
 */
export function followLink(entry: Stats, links: number): boolean {
  if (entry.isSymbolicLink()) {
    if (!isTrustedOwner(entry.uid)) throw new UntrustedFileError(entry.uid, "a symbolic link");
    if (links >= MAX_LINKS) {
      throw Object.assign(new Error("ELOOP: too many levels of symbolic links"), { code: "ELOOP" });
    }
    return true;
  }
  if (!entry.isFile()) throw new NotRegularFileError(fileTypeName(entry));
  return false;
}

/** Where a symlink at `path` points, relative to its directory as the kernel reads it (no `..` folding). */
export function linkTarget(path: string, target: string): string {
  return isAbsolute(target) ? target : `${dirname(path)}${sep}${target}`;
}

/** True when an opened file is the regular file lstat judged (not a FIFO swapped in since). */
export function isJudgedFile(entry: Stats, opened: Stats): boolean {
  return opened.isFile() && opened.dev === entry.dev && opened.ino === entry.ino;
}

/** An open that met a symlink (the entry was swapped since the lstat): undefined, to judge again. */
export function swappedToLink(err: unknown): undefined {
  if (errnoCode(err) === "ELOOP") return undefined;
  throw err;
}

export function changedError(path: string): Error {
  return new Error(`${path} kept changing while it was being opened`);
}
