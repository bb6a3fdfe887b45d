import { type AtomicWriteOptions, writeFileAtomic } from "./atomic-write.js";
import type { TokenFile } from "./gen/tokenserver/token_file_pb.js";
import { NotRegularFileError, readCapped } from "./read-token-file.js";
import { encodeTokenFile } from "./token-file.js";
import type { TokendState } from "./tokend-state.js";

/** Options of {@link writeTokenFile}: those of the atomic write, plus how to read the old bytes. */
export interface WriteTokenFileOptions extends AtomicWriteOptions {
  /** Reads the current file to skip identical writes; default node:fs (size-capped). */
  readFile?: (path: string) => Promise<Uint8Array>;
}

/**
 * Writes a token file in Go tokend's exact JSON (see {@link encodeTokenFile}), atomically. Skips
 * the write when the file already holds the same bytes (an unreadable file counts as different),
 * and reports whether it wrote. Refuses a path that is a FIFO, device, socket or directory (also
 * behind a symlink) rather than replacing it. Throws on failure; the old file is intact.
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
  if (current !== undefined && sameBytes(current, bytes)) return { written: false };
  await writeFileAtomic(path, bytes, options);
  return { written: true };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
