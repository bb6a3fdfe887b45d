import { lstat, stat } from "node:fs/promises";
import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
import { type AtomicWriteOptions, writeFileAtomic } from "../safe-files/atomic-write.js";
import { fileTypeName, isTrustedOwner } from "../safe-files/open-regular-file.js";
import { type FlatJsonValue, readFlatJsonObject } from "./flat-json-object.js";
import { readOwnFile } from "./read-token-file.js";
import { encodeTokenFile, parseTokenFile } from "./token-file.js";
import type { TokendState } from "./tokend-state.js";

/** Options of {@link writeTokenFile}: those of the atomic write, plus how to read the old bytes. */
export interface WriteTokenFileOptions extends AtomicWriteOptions {
  /**
   * Reads the current file to skip identical writes; default node:fs (size-capped), refusing a
   * file or symlink of another user (not this user, not root), which is then rewritten.
   */
  readFile?: (path: string) => Promise<Uint8Array>;
}

/**
 * Writes a token file in Go tokend's exact JSON (`encodeTokenFile`), atomically. Skips
 * the write when the file already holds the same content: the same keys with the same JSON values,
 * whatever the spacing (Go builds differ in the spaces after `:`; Go itself compares bytes, so
 * a file Go wrote would otherwise be rewritten once after switching). Only a file of this user or
 * root (also behind their symlink) can count as the same: another user's is replaced, or they
 * would choose what bots read. An unreadable file counts as different. Reports whether it wrote.
 * Refuses a directory at the path, and a FIFO, device or socket of this user or root (or their
 * symlink to one); another user's is replaced. Throws on failure; the old file is intact.
 */
export async function writeTokenFile(
  path: string,
  token: TokenFile,
  state: TokendState | undefined,
  options: WriteTokenFileOptions = {},
): Promise<{ written: boolean }> {
  const bytes = encodeTokenFile(token, state);
  const problem = await tokenPathProblem(path);
  if (problem) throw problem;
  if (await holdsTokenFile(path, bytes, options.readFile)) return { written: false };
  await writeFileAtomic(path, bytes, options);
  return { written: true };
}

/**
 * True when `path` already holds the content of `bytes` (an encoded token file) in a file that
 * may count as current: the test {@link writeTokenFile} makes before writing, shared with
 * `-dry-run` so that both say the same.
 */
export async function holdsTokenFile(
  path: string,
  bytes: Uint8Array,
  readFile: (path: string) => Promise<Uint8Array> = readOwnFile,
): Promise<boolean> {
  const current = await readFile(path).catch(() => undefined);
  return current !== undefined && sameContent(current, bytes);
}

/**
 * Why the entry at `path` must not be replaced by a token file, or undefined when it may be (also
 * when it is missing). Judged by the entry itself (lstat), as the rename replaces the entry: a
 * directory is refused; so is a FIFO, device or socket of this user or root, or their symlink to
 * anything but a regular file (a mistake someone should see). Another user's entry of any kind
 * but a directory is replaced, as Go's rename replaces it: in a directory others can write, a
 * planted FIFO or symlink must not block token writes forever.
 */
export async function tokenPathProblem(path: string): Promise<Error | undefined> {
  const entry = await lstat(path).catch(() => undefined);
  if (entry === undefined || entry.isFile()) return undefined;
  if (entry.isDirectory()) return notATokenFile(path, "a directory", "EISDIR");
  if (!isTrustedOwner(entry.uid)) return undefined;
  if (!entry.isSymbolicLink()) return notATokenFile(path, fileTypeName(entry));
  const target = await stat(path).catch(() => undefined);
  if (target === undefined || target.isFile()) return undefined;
  return notATokenFile(
    path,
    `a symbolic link to ${fileTypeName(target)}`,
    target.isDirectory() ? "EISDIR" : undefined,
  );
}

function notATokenFile(path: string, what: string, code?: string): Error {
  return Object.assign(new Error(`${path} is ${what}, not a token file`), code === undefined ? {} : { code });
}

/**
 * True when `current` is a valid token file (strict, as the reader: no unknown or repeated keys)
 * whose top-level keys and values are exactly those of `wanted`, compared as JSON values: a number
 * where a string is written, an extra `null` or a changed value all count as different.
 */
function sameContent(current: Uint8Array, wanted: Uint8Array): boolean {
  if (current.length === wanted.length && Buffer.compare(current, wanted) === 0) return true;
  if (parseTokenFile(current).error !== undefined) return false;
  const have = membersOf(current);
  const want = membersOf(wanted);
  return (
    have !== undefined &&
    want !== undefined &&
    have.size === want.size &&
    [...want].every(([k, v]) => JSON.stringify(have.get(k)) === JSON.stringify(v))
  );
}

/** The top-level members of token file JSON by key (numbers as written), read as the parser reads them. */
function membersOf(bytes: Uint8Array): Map<string, FlatJsonValue> | undefined {
  const read = readFlatJsonObject(Buffer.from(bytes).toString("utf8"));
  return "error" in read ? undefined : new Map(read.members.map((m) => [m.key, m.value]));
}
