import { constants, type FileHandle, lstat, open, readlink } from "node:fs/promises";
import { errnoCode } from "../common/fs-errors.js";
import {
  changedError,
  followLink,
  isJudgedFile,
  isTrustedOwner,
  linkTarget,
  MAX_TRIES,
  swappedToLink,
  UntrustedFileError,
} from "./open-regular-file.js";

const NOFOLLOW = (constants.O_NOFOLLOW ?? 0) | (constants.O_NOCTTY ?? 0);
const APPEND = constants.O_WRONLY | constants.O_APPEND | NOFOLLOW | (constants.O_NONBLOCK ?? 0);
const CREATE = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | NOFOLLOW;

/**
 * Appends `data` to the file at `path`, creating it with `mode` (before the umask) when missing,
 * in a directory others may write (a metrics dump in /tmp): the path is judged as
 * openRegularFile judges it (symlinks followed only when this user or root owns them; a FIFO,
 * device or directory refused unopened), a new file is created with O_EXCL|O_NOFOLLOW, an
 * existing one opened with O_APPEND|O_NOFOLLOW and refused unless it is the regular file judged,
 * owned by this user or root, with one link (a hard link planted to another file is refused).
 *
 * @throws the fs error, NotRegularFileError, UntrustedFileError, or an Error for a hard-linked file.
 */
export async function appendToFile(path: string, data: Uint8Array, mode = 0o664): Promise<void> {
  const handle = await openForAppend(path, mode);
  try {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await handle.write(data, written, data.length - written, null);
      written += bytesWritten;
    }
  } finally {
    await handle.close();
  }
}

async function openForAppend(path: string, mode: number): Promise<FileHandle> {
  for (let tries = 1; ; tries++) {
    let current = path;
    let entry = await lstat(current).catch(missing);
    for (let links = 0; entry !== undefined && followLink(entry, links); links++) {
      current = linkTarget(current, await readlink(current));
      entry = await lstat(current).catch(missing);
    }
    if (entry === undefined) {
      const created = await open(current, CREATE, mode).catch((err: unknown) => {
        if (errnoCode(err) === "EEXIST") return undefined; // made meanwhile: judge it
        throw err;
      });
      if (created !== undefined) return created;
    } else {
      const handle = await open(current, APPEND).catch(swappedToLink);
      if (handle !== undefined) {
        const stats = await handle.stat().catch(async (err: unknown) => {
          await handle.close();
          throw err;
        });
        if (isJudgedFile(entry, stats)) {
          const problem = !isTrustedOwner(stats.uid)
            ? new UntrustedFileError(stats.uid, "a file")
            : stats.nlink !== 1
              ? new Error(`the file has ${stats.nlink} hard links; not written`)
              : undefined;
          if (problem === undefined) return handle;
          await handle.close();
          throw problem;
        }
        await handle.close();
      }
    }
    if (tries >= MAX_TRIES) throw changedError(path);
  }
}

function missing(err: unknown): undefined {
  if (errnoCode(err) === "ENOENT") return undefined;
  throw err;
}
