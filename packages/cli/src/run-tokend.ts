import type { StatusReport, TokendState, TokenFile, UpdateOutcome } from "@luci-machine-tokend/core";
import {
  acquireRunLock,
  errorMessage,
  type RunLockResult,
  removeStaleTempFiles,
  systemMonotonic,
  systemNow,
  TOKEND_VERSION,
} from "@luci-machine-tokend/core/internal";
import { assessToken } from "./assess-token.js";
import { checkHint } from "./check-hint.js";
import { microsSince } from "./micros-since.js";
import type { RunDeps, TokendDeps } from "./run-deps.js";
import { createRunLogger } from "./run-logger.js";
import { saveOutcome, setTokenTimes, writeTokenFiles } from "./token-writes.js";
import { type ResolvedTokendOptions, resolveTokendOptions, type TokendOptions } from "./tokend-options.js";

/** Outcomes of a run that exits 0. */
const SUCCESS_OUTCOMES: ReadonlySet<UpdateOutcome | undefined> = new Set(["TOKEN_IS_GOOD", "UPDATE_SUCCESS"]);

/** The exit code Go tokend gives for a report: 0 when the token is good or was refreshed, else 1. */
export function exitCodeOf(report: StatusReport): 0 | 1 {
  return SUCCESS_OUTCOMES.has(report.updateOutcome) ? 0 : 1;
}

/**
 * One tokend run, step by step as Go's run(): read the primary token file, load the key and
 * certificate, digest the inputs, decide, then either sync the copies of a good token or mint a new
 * one and write it to the primary file and every copy. Returns the status report on every path;
 * only bugs throw, and options no run could use (see {@link resolveTokendOptions}).
 */
export async function runTokend(given: TokendOptions, deps: TokendDeps = {}): Promise<StatusReport> {
  const options = resolveTokendOptions(given);
  const now = deps.now ?? systemNow;
  const monotonic = deps.monotonic ?? systemMonotonic;
  const logger = createRunLogger((level, message) => deps.logger?.log(level, message));
  const started = now();
  const startedMono = monotonic();
  const deadline = new Date(started.getTime() + options.timeoutMs);
  const report: StatusReport = {
    tokendVersion: TOKEND_VERSION,
    startedTs: Math.floor(started.getTime() / 1000),
    logDump: "",
  };
  const runDeps: RunDeps = { ...deps, now, monotonic, logger, deadline };
  const locking = await acquireRunLock(options.tokenFile, {
    deadline,
    signal: deps.signal,
    now,
    sleep: deps.sleep,
    logger,
    staleAfterMs: Math.max(10 * 60_000, 3 * options.timeoutMs),
  });
  try {
    await removeLeftovers(options, runDeps);
    await run(options, runDeps, report, deadline, locking);
  } finally {
    await locking.lock?.release();
    if (exitCodeOf(report) !== 0) logger.log("info", checkHint(options));
    report.totalDurationUs = microsSince(startedMono, monotonic());
    report.logDump = logger.dump();
  }
  return report;
}

async function run(
  options: ResolvedTokendOptions,
  deps: RunDeps,
  report: StatusReport,
  deadline: Date,
  locking: RunLockResult,
): Promise<void> {
  const { logger } = deps;
  const assessment = await assessToken(options, deps);
  setTokenTimes(report, assessment.token);
  if (assessment.keyError) {
    // Go fails the run here even when the token is still fresh: a broken key must be noticed.
    const message = assessment.keyError.message;
    logger.log("error", `Failed to read the private key or certificate - ${message}`);
    report.updateOutcome = "CANT_READ_KEY";
    report.updateReason = assessment.reason;
    report.failureError = message;
    return;
  }
  const { token, state, signer, inputsDigest, reason } = assessment;
  if (reason === "TOKEN_IS_GOOD" && token) {
    await syncCopies(options, deps, report, token, state);
    return;
  }
  report.updateReason = reason;
  if (locking.refused === "timeout") {
    // Another run held the lock until our deadline: there is no time left for an RPC. The outcome
    // is Go's for a deadline that passes before the call (GRPC_ERROR_4); the message says why.
    report.updateOutcome = "GRPC_ERROR_4";
    report.failureError = `${locking.message}; no token was requested`;
    logger.log("error", `Not updating the token (reason: ${reason}) - ${report.failureError}`);
    return;
  }
  logger.log("info", `Updating the token (reason: ${reason})`);
  // Loaded only when a refresh is needed: the token-is-good path stays free of Connect and protobuf.
  const { refreshToken } = await import("./refresh-token.js");
  await refreshToken({ options, deps, report, deadline, signer, inputsDigest });
}

/** The token is good: make every copy match it. Writing any copy changes the reason. */
async function syncCopies(
  options: ResolvedTokendOptions,
  deps: RunDeps,
  report: StatusReport,
  token: TokenFile,
  state: TokendState | undefined,
): Promise<void> {
  const result = await writeTokenFiles(options.tokenFileCopies, token, state, options, deps);
  report.updateReason = result.written || result.error ? "MISSING_TOKEN_COPY" : "TOKEN_IS_GOOD";
  if (result.error) {
    report.updateOutcome = saveOutcome(result.error);
    // Go leaves failure_error empty here; we fill it so the status file says what broke.
    report.failureError = errorMessage(result.error);
    return;
  }
  deps.logger.log(
    "info",
    result.written ? "The token is good; missing copies were written" : "The token is good",
  );
  report.updateOutcome = "TOKEN_IS_GOOD";
}

/** Temp files of atomic writes that a killed run left behind (ours by name, their process gone). */
async function removeLeftovers(options: ResolvedTokendOptions, deps: RunDeps): Promise<void> {
  const outputs = [options.statusFile, options.prometheusTextfile].filter(
    (p): p is string => p !== undefined,
  );
  for (const path of [options.tokenFile, ...options.tokenFileCopies, ...outputs]) {
    await removeStaleTempFiles(path, { now: deps.now(), logger: deps.logger });
  }
}
