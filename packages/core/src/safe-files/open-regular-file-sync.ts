import type { Stats } from "node:fs";
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

/**
 * node:fs when first needed (a static ES import loads its stream classes at start-up), then kept:
 * process.getBuiltinModule takes ~8 µs a call, and a trust directory is read a few calls a file.
 */
let fsModule: typeof import("node:fs") | undefined;
const fs = () => {
  fsModule ??= process.getBuiltinModule("node:fs");
  return fsModule;
};

/** The synchronous `openRegularFile`, judging the path the same way (trust roots are read when a client is made, synchronously). */
export function openRegularFileSync(path: string): OpenedFile<number> {
  for (let tries = 1; ; tries++) {
    let current = path;
    let entry = fs().lstatSync(current);
    for (let links = 0; followLink(entry, links); links++) {
      current = linkTarget(current, fs().readlinkSync(current));
      entry = fs().lstatSync(current);
    }
    let fd: number | undefined;
    try {
      fd = fs().openSync(current, OPEN_FLAGS);
    } catch (err) {
      swappedToLink(err);
    }
    if (fd !== undefined) {
      let stats: Stats;
      try {
        stats = fs().fstatSync(fd);
      } catch (err) {
        fs().closeSync(fd);
        throw err;
      }
      if (isJudgedFile(entry, stats)) return { handle: fd, stats };
      fs().closeSync(fd);
    }
    if (tries >= MAX_TRIES) throw changedError(path);
  }
}
