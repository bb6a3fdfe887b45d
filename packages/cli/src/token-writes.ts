import type { StatusReport, TokendState, TokenFile, UpdateOutcome } from "@luci-machine-tokend/core";
import { errorMessage, isPermissionError, writeTokenFile } from "@luci-machine-tokend/core/internal";
import type { RunDeps } from "./run-deps.js";
import type { ResolvedTokendOptions } from "./tokend-options.js";

/**
 * Writes the token to every path in order, continuing after failures like Go tokend; returns
 * whether any file changed and the first error.
 */
export async function writeTokenFiles(
  paths: string[],
  token: TokenFile,
  state: TokendState | undefined,
  options: ResolvedTokendOptions,
  deps: RunDeps,
): Promise<{ written: boolean; error?: unknown }> {
  let written = false;
  let firstError: unknown;
  for (const path of paths) {
    try {
      const result = await writeTokenFile(path, token, state, {
        mode: options.tokenFileMode,
        fs: deps.atomicFs,
        deadline: deps.deadline,
        sleep: deps.sleep,
        now: deps.now,
        logger: deps.logger,
      });
      written ||= result.written;
    } catch (err) {
      deps.logger.log("error", `Failed to write token file ${path} - ${errorMessage(err)}`);
      firstError ??= err;
    }
  }
  return { written, error: firstError };
}

/** The outcome of a failed token write: Go's os.IsPermission decides between the two. */
export function saveOutcome(err: unknown): UpdateOutcome {
  return isPermissionError(err) ? "SAVE_TOKEN_PERM_ERROR" : "UNKNOWN_SAVE_TOKEN_ERROR";
}

/** Copies a token's times into the report (zeros are left out of the status file). */
export function setTokenTimes(report: StatusReport, token: TokenFile | undefined): void {
  report.tokenLastUpdateTs = Number(token?.lastUpdate ?? 0n);
  report.tokenNextUpdateTs = Number(token?.nextUpdate ?? 0n);
  report.tokenExpiryTs = Number(token?.expiry ?? 0n);
}
