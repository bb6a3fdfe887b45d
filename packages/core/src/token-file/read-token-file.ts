import type { Stats } from "node:fs";
import { errorMessage, isNotFoundError } from "../common/fs-errors.js";
import { type Logger, silentLogger } from "../common/logger.js";
import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
import { isTrustedOwner, openRegularFile, UntrustedFileError } from "../safe-files/open-regular-file.js";
import { parseTokenFile } from "./token-file.js";
import type { TokendState } from "./tokend-state.js";

/** Token files are a few hundred bytes; anything past this is damage, not a token. */
export const MAX_TOKEN_FILE_BYTES = 1 << 20;

/** Options of {@link readTokenFile}. */
export interface ReadTokenFileOptions {
  /** Receives the warnings Go tokend logs for unreadable or invalid files. */
  logger?: Logger;
  /** Reads the file; default node:fs with a size cap. Inject to simulate faults. */
  readFile?: (path: string) => Promise<Uint8Array>;
  /**
   * Treat a file another user owns (not this user, not root) as no token, with a warning: a tokend
   * must not keep serving a token planted in a directory others can write. Default false (tools
   * that only show a file).
   */
  ownFilesOnly?: boolean;
}

/** What {@link readTokenFile} found: nothing, a token, or a token and its tokend state. */
export interface ReadTokenFileResult {
  token?: TokenFile;
  state?: TokendState;
}

/**
 * Reads a token file the way Go tokend does. A missing file is silently "no token"; an unreadable
 * or invalid one is "no token" with a warning; a `tokend_state` that does not decode gives the
 * token without a state (a warning too). Never throws for the file's sake.
 */
export async function readTokenFile(
  path: string,
  options: ReadTokenFileOptions = {},
): Promise<ReadTokenFileResult> {
  const logger = options.logger ?? silentLogger;
  let bytes: Uint8Array;
  try {
    bytes = await (options.readFile ?? (options.ownFilesOnly ? readOwnFile : readCapped))(path);
  } catch (err) {
    if (!isNotFoundError(err)) {
      logger.log("warning", `Failed to read token file from ${JSON.stringify(path)} - ${errorMessage(err)}`);
    }
    return {};
  }
  const parsed = parseTokenFile(bytes);
  if (parsed.error !== undefined) {
    logger.log("warning", `Failed to unmarshal token file ${JSON.stringify(path)} - ${parsed.error}`);
    return {};
  }
  if (parsed.state === undefined) {
    logger.log("warning", `Failed to unmarshal tokend_state - ${parsed.stateError}`);
    return { token: parsed.token };
  }
  return { token: parsed.token, state: parsed.state };
}

/**
 * Reads a whole regular file, refusing anything larger than `limit` bytes. The path is opened
 * safely (open-regular-file.ts): a FIFO, device, socket or directory is refused before it is
 * opened (reading one could block forever or never end, opening some has side effects), and a
 * symlink is followed only when this user or root owns it. The cap counts the bytes actually
 * read, not what stat says (/proc files say 0). Every file a run reads goes through here.
 */
export async function readCapped(path: string, limit = MAX_TOKEN_FILE_BYTES): Promise<Uint8Array> {
  return (await readRegularFile(path, limit)).bytes;
}

/** {@link readCapped}, also giving the file's fstat (its owner, for callers that trust only some). */
export async function readRegularFile(
  path: string,
  limit = MAX_TOKEN_FILE_BYTES,
): Promise<{ bytes: Uint8Array; stats: Stats }> {
  const { handle, stats } = await openRegularFile(path);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, limit + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limit) throw new Error(`file is larger than ${limit} bytes`);
    }
    return { bytes: new Uint8Array(Buffer.concat(chunks, total)), stats };
  } finally {
    await handle.close();
  }
}

const READ_CHUNK_BYTES = 64 * 1024;

/**
 * {@link readCapped} for files whose content is trusted: refuses a file that another user (not
 * this user, not root) owns, as it refuses their symlinks.
 */
export async function readOwnFile(path: string, limit = MAX_TOKEN_FILE_BYTES): Promise<Uint8Array> {
  const { bytes, stats } = await readRegularFile(path, limit);
  if (!isTrustedOwner(stats.uid)) throw new UntrustedFileError(stats.uid, "a file");
  return bytes;
}
