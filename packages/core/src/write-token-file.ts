import { type AtomicWriteOptions, writeFileAtomic } from "./atomic-write.js";
import type { TokenFile } from "./gen/tokenserver/token_file_pb.js";
import { NotRegularFileError, readCapped } from "./read-token-file.js";
import { encodeTokenFile, parseTokenFile } from "./token-file.js";
import type { TokendState } from "./tokend-state.js";

/** Options of {@link writeTokenFile}: those of the atomic write, plus how to read the old bytes. */
export interface WriteTokenFileOptions extends AtomicWriteOptions {
  /** Reads the current file to skip identical writes; default node:fs (size-capped). */
  readFile?: (path: string) => Promise<Uint8Array>;
}

/**
 * Writes a token file in Go tokend's exact JSON (`encodeTokenFile`), atomically. Skips
 * the write when the file already holds the same content: the same keys with the same JSON values,
 * whatever the spacing (Go builds differ in the spaces after `:`; Go itself compares bytes, so
 * a file Go wrote would otherwise be rewritten once after switching). An unreadable file counts as
 * different. Reports whether it wrote. Refuses a path that is a FIFO, device, socket or directory
 * (also behind a symlink) rather than replacing it. Throws on failure; the old file is intact.
 */
export async function writeTokenFile(
  path: string,
  token: TokenFile,
  state: TokendState | undefined,
  options: WriteTokenFileOptions = {},
): Promise<{ written: boolean }> {
  const bytes = encodeTokenFile(token, state);
  const current = await (options.readFile ?? readCapped)(path).catch((err: unknown) => {
    if (err instanceof NotRegularFileError) throw new Error(`${path}: ${err.message}`, { cause: err });
    return undefined;
  });
  if (current !== undefined && sameContent(current, bytes)) return { written: false };
  await writeFileAtomic(path, bytes, options);
  return { written: true };
}

/**
 * True when `current` is a valid token file (strict, as the reader: no unknown or repeated keys)
 * whose top-level keys and values are exactly those of `wanted`, compared as JSON values: a number
 * where a string is written, an extra `null` or a changed value all count as different.
 */
function sameContent(current: Uint8Array, wanted: Uint8Array): boolean {
  if (current.length === wanted.length && Buffer.compare(current, wanted) === 0) return true;
  if (parseTokenFile(current).error !== undefined) return false;
  const have = JSON.parse(Buffer.from(current).toString("utf8")) as Record<string, unknown>;
  const want = JSON.parse(Buffer.from(wanted).toString("utf8")) as Record<string, unknown>;
  const keys = Object.keys(want);
  return (
    Object.keys(have).length === keys.length &&
    keys.every((k) => Object.hasOwn(have, k) && have[k] === want[k])
  );
}
