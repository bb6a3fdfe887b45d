import { open } from "node:fs/promises";
import { isNotFoundError } from "./fs-errors.js";
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
      logger.log(
        "warning",
        `Failed to read token file from ${JSON.stringify(path)} - ${(err as Error).message}`,
      );
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

/** Reads a whole file, refusing ones larger than {@link MAX_TOKEN_FILE_BYTES}. */
export async function readCapped(path: string, limit = MAX_TOKEN_FILE_BYTES): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size > limit) throw new Error(`file is ${size} bytes, more than the ${limit} a token file may have`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
