import type { StatusReport, UpdateOutcome } from "@luci-machine-tokend/core";
import {
  microsSince,
  runTokenUpdate,
  systemMonotonic,
  systemNow,
  TOKEND_VERSION,
  type TokenUpdateResult,
} from "@luci-machine-tokend/core/internal";
import { checkHint } from "./check-hint.js";
import type { TokendDeps } from "./run-deps.js";
import { createRunLogger } from "./run-logger.js";
import { tokenUpdateSettings } from "./token-update-settings.js";
import { resolveTokendOptions, type TokendOptions } from "./tokend-options.js";

/** Outcomes of a run that exits 0. */
const SUCCESS_OUTCOMES: ReadonlySet<UpdateOutcome | undefined> = new Set(["TOKEN_IS_GOOD", "UPDATE_SUCCESS"]);

/** The exit code Go tokend gives for a report: 0 when the token is good or was refreshed, else 1. */
export function exitCodeOf(report: StatusReport): 0 | 1 {
  return SUCCESS_OUTCOMES.has(report.updateOutcome) ? 0 : 1;
}

/**
 * One tokend run: core's run (runTokenUpdate: lock, read, load the key, decide, sync the copies
 * or mint and write) on the flags' files, and its result as Go's status report, with the run's
 * log in it and, after a failure, the `check` command for this setup. Returns the status report
 * on every path; only bugs throw, and options no run could use (see {@link resolveTokendOptions}).
 */
export async function runTokend(given: TokendOptions, deps: TokendDeps = {}): Promise<StatusReport> {
  const options = resolveTokendOptions(given);
  const now = deps.now ?? systemNow;
  const monotonic = deps.monotonic ?? systemMonotonic;
  const logger = createRunLogger((level, message) => deps.logger?.log(level, message));
  const started = now();
  const startedMono = monotonic();
  const report: StatusReport = {
    tokendVersion: TOKEND_VERSION,
    startedTs: Math.floor(started.getTime() / 1000),
    logDump: "",
  };
  try {
    const result = await runTokenUpdate(tokenUpdateSettings(options, { ...deps, now, monotonic, logger }));
    reportResult(report, result);
  } finally {
    if (exitCodeOf(report) !== 0) logger.log("info", checkHint(options));
    report.totalDurationUs = microsSince(startedMono, monotonic());
    report.logDump = logger.dump();
  }
  return report;
}

/** The run's result in the status report's fields (zero token times are left out of the file). */
function reportResult(report: StatusReport, result: TokenUpdateResult): void {
  // A new token not saved everywhere is not reported: the report keeps the token found.
  const token = result.outcome === "UPDATE_SUCCESS" ? result.token : result.found;
  report.tokenLastUpdateTs = Number(token?.lastUpdate ?? 0n);
  report.tokenNextUpdateTs = Number(token?.nextUpdate ?? 0n);
  report.tokenExpiryTs = Number(token?.expiry ?? 0n);
  report.updateReason = result.reason;
  report.updateOutcome = result.outcome;
  if (result.serviceVersion !== undefined) report.serviceVersion = result.serviceVersion;
  if (result.rpcDurationUs !== undefined) report.rpcDurationUs = result.rpcDurationUs;
  if (result.failure !== undefined) report.failureError = result.failure;
}
