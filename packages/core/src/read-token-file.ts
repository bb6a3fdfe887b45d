import { constants, type Stats } from "node:fs";
import { open, stat } from "node:fs/promises";
import { errorMessage, isNotFoundError } from "./fs-errors.js";
import type { TokenFile } from "./gen/tokenserver/token_file_pb.js";
import { type Logger, silentLogger } from "./logger.js";
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
    bytes = await (options.readFile ?? readCapped)(path);
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
 * Reads a whole regular file, refusing anything larger than `limit` bytes. A FIFO, device, socket
 * or directory (also behind a symlink) is refused before it is opened, and again after opening
 * (the path may have been swapped): reading one could block forever (a FIFO with no writer) or
 * never end (/dev/zero). The open is non-blocking, and the cap counts the bytes actually read,
 * not what stat says (/proc files say 0). Every file a run reads goes through here.
 */
export async function readCapped(path: string, limit = MAX_TOKEN_FILE_BYTES): Promise<Uint8Array> {
  refuseIrregular(await stat(path));
  // O_NONBLOCK: if the path became a FIFO since the stat, the open returns at once instead of
  // parking a libuv thread until a writer comes (which also blocks process exit).
  const handle = await open(
    path,
    constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0),
  );
  try {
    refuseIrregular(await handle.stat());
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
    return new Uint8Array(Buffer.concat(chunks, total));
  } finally {
    await handle.close();
  }
}

const READ_CHUNK_BYTES = 64 * 1024;

/** What {@link readCapped} throws for a path that is not a regular file. */
export class NotRegularFileError extends Error {
  override name = "NotRegularFileError";
  constructor(readonly fileType: string) {
    super(`not a regular file (it is ${fileType})`);
  }
}

function refuseIrregular(stats: Stats): void {
  if (!stats.isFile()) throw new NotRegularFileError(fileTypeName(stats));
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
