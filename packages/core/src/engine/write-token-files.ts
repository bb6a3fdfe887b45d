import type { Now, Sleep } from "../common/clock.js";
import { errorMessage, isPermissionError } from "../common/fs-errors.js";
import type { Logger } from "../common/logger.js";
import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
import type { AtomicWriteFs } from "../safe-files/atomic-write.js";
import type { UpdateOutcome } from "../token-file/outcome.js";
import type { TokendState } from "../token-file/tokend-state.js";
import { writeTokenFile } from "../token-file/write-token-file.js";

/** What the token writes of a run share. */
export interface TokenWrites {
  mode?: number;
  atomicFs?: Partial<AtomicWriteFs>;
  deadline: Date;
  sleep?: Sleep;
  now: Now;
  logger: Logger;
}

/** What {@link writeTokenFiles} did: which files changed and the first failure. */
export interface TokenWritesResult {
  written: string[];
  error?: unknown;
  /** The error as the run reports it: naming the file. */
  failed?: Error;
  /** The file of the first error. */
  failedPath?: string;
}

/**
 * Writes the token to every path in order, continuing after failures like Go tokend; returns
 * the files that changed and the first error.
 */
export async function writeTokenFiles(
  paths: readonly string[],
  token: TokenFile,
  state: TokendState | undefined,
  w: TokenWrites,
): Promise<TokenWritesResult> {
  const written: string[] = [];
  let first: { error: unknown; failed: Error; failedPath: string } | undefined;
  for (const path of paths) {
    try {
      const result = await writeTokenFile(path, token, state, {
        mode: w.mode,
        fs: w.atomicFs,
        deadline: w.deadline,
        sleep: w.sleep,
        now: w.now,
        logger: w.logger,
      });
      if (result.written) written.push(path);
    } catch (err) {
      const message = `Failed to write token file ${path} - ${errorMessage(err)}`;
      w.logger.log("error", message);
      first ??= { error: err, failed: new Error(message, { cause: err }), failedPath: path };
    }
  }
  return { written, ...first };
}

/** The outcome of a failed token write: Go's os.IsPermission decides between the two. */
export function saveOutcome(err: unknown): UpdateOutcome {
  return isPermissionError(err) ? "SAVE_TOKEN_PERM_ERROR" : "UNKNOWN_SAVE_TOKEN_ERROR";
}
