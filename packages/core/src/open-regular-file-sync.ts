import { closeSync, fstatSync, lstatSync, openSync, readlinkSync, type Stats } from "node:fs";
import {
  changedError,
  followLink,
  isJudgedFile,
  linkTarget,
  MAX_TRIES,
  OPEN_FLAGS,
  type OpenedFile,
  swappedToLink,
} from "./open-regular-file.js";

/** The synchronous `openRegularFile`, judging the path the same way (trust roots are read when a client is made, synchronously). */
export function openRegularFileSync(path: string): OpenedFile<number> {
  for (let tries = 1; ; tries++) {
    let current = path;
    let entry = lstatSync(current);
    for (let links = 0; followLink(entry, links); links++) {
      current = linkTarget(current, readlinkSync(current));
      entry = lstatSync(current);
    }
    let fd: number | undefined;
    try {
      fd = openSync(current, OPEN_FLAGS);
    } catch (err) {
      swappedToLink(err);
    }
    if (fd !== undefined) {
      let stats: Stats;
      try {
        stats = fstatSync(fd);
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      if (isJudgedFile(entry, stats)) return { handle: fd, stats };
      closeSync(fd);
    }
    if (tries >= MAX_TRIES) throw changedError(path);
  }
}
