import { systemMonotonic, systemNow } from "../common/clock.js";
import { errorMessage } from "../common/fs-errors.js";
import { silentLogger } from "../common/logger.js";
import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
import { acquireRunLock, type RunLockResult } from "../safe-files/run-lock.js";
import { removeStaleTempFiles } from "../safe-files/stale-temp-files.js";
import { type Assessment, assessToken } from "./assess-token.js";
import type { RunContext } from "./run-context.js";
import type { ResolvedTokenUpdate, TokenUpdateResult } from "./token-update-options.js";
import { saveOutcome, writeTokenFiles } from "./write-token-files.js";

/** Default of `timeoutMs`, as Go's `-timeout`. */
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * One tokend run, step by step as Go's run(): take the token file's run lock, remove leftovers of
 * killed runs, read the primary token file, load the key and certificate, digest the inputs,
 * decide, then either sync the copies of a good token or mint a new one and write it to the
 * primary file and every copy. Every failure is a result; only bugs throw. The one place that
 * locks, decides and mints: the CLI, its daemon and startTokenRefresher all run this.
 */
export async function runTokenUpdate(s: ResolvedTokenUpdate): Promise<TokenUpdateResult> {
  const now = s.now ?? systemNow;
  const timeoutMs = s.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = new Date(now().getTime() + timeoutMs);
  const run: RunContext = {
    now,
    logger: s.logger ?? silentLogger,
    monotonic: s.monotonic ?? systemMonotonic,
    timeoutMs,
    deadline,
  };
  if (s.tokenFile === undefined) return judgeAndAct(s, run, undefined);
  const locking = await acquireRunLock(s.tokenFile, {
    deadline,
    signal: s.signal,
    now,
    sleep: s.sleep,
    logger: run.logger,
    staleAfterMs: Math.max(10 * 60_000, 3 * timeoutMs),
  });
  try {
    // Temp files of atomic writes that a killed run left behind (ours by name, their process gone).
    await removeStaleTempFiles([s.tokenFile, ...(s.tokenFileCopies ?? []), ...(s.leftoversOf ?? [])], {
      now: now(),
      logger: run.logger,
    });
    return await judgeAndAct(s, run, locking);
  } finally {
    await locking.lock?.release();
  }
}

async function judgeAndAct(
  s: ResolvedTokenUpdate,
  run: RunContext,
  locking: RunLockResult | undefined,
): Promise<TokenUpdateResult> {
  const { logger } = run;
  const a = await assessToken(s, run.deadline);
  const found = { found: a.token, token: a.token, state: a.state, minted: false };
  if (a.keyError) {
    // Go fails the run here even when the token is still fresh: a broken key must be noticed.
    const failure = a.keyError.message;
    logger.log("error", `Failed to read the private key or certificate - ${failure}`);
    return { ...found, outcome: "CANT_READ_KEY", reason: a.reason, failure, error: a.keyError };
  }
  if (a.reason === "TOKEN_IS_GOOD" && a.token) return syncCopies(s, run, { ...a, token: a.token });
  if (locking?.refused === "timeout") {
    // Another run held the lock until our deadline: there is no time left for an RPC. The outcome
    // is Go's for a deadline that passes before the call (GRPC_ERROR_4); the message says why.
    const failure = `${locking.message}; no token was requested`;
    logger.log("error", `Not updating the token (reason: ${a.reason}) - ${failure}`);
    return { ...found, outcome: "GRPC_ERROR_4", reason: a.reason, failure, error: new Error(failure) };
  }
  logger.log("info", `Updating the token (reason: ${a.reason})`);
  s.beforeRefresh?.();
  // Loaded only when a refresh is needed: the token-is-good path stays free of Connect and protobuf.
  const { mintAndSave } = await import("./mint-and-save.js");
  return mintAndSave(s, run, a);
}

/**
 * The token is good: make every copy match it (and, for a caller holding a newer token than the
 * file's, the file too). Writing any copy changes the reason.
 */
async function syncCopies(
  s: ResolvedTokenUpdate,
  run: RunContext,
  a: Assessment & { token: TokenFile },
): Promise<TokenUpdateResult> {
  const copies = s.tokenFileCopies ?? [];
  const writeBack = s.held && a.token.luciMachineToken !== a.onDisk?.token?.luciMachineToken;
  const paths = writeBack && s.tokenFile !== undefined ? [s.tokenFile, ...copies] : copies;
  const writes = await writeTokenFiles(paths, a.token, a.state, {
    mode: s.tokenFileMode,
    atomicFs: s.atomicFs,
    deadline: run.deadline,
    sleep: s.sleep,
    now: run.now,
    logger: run.logger,
  });
  const copied = writes.written.some((path) => copies.includes(path));
  const copyFailed = writes.failedPath !== undefined && copies.includes(writes.failedPath);
  const result = { found: a.token, token: a.token, state: a.state, minted: false };
  const reason = copied || copyFailed ? "MISSING_TOKEN_COPY" : "TOKEN_IS_GOOD";
  if (writes.error) {
    // Go leaves failure_error empty here; we fill it so the status file says what broke.
    return {
      ...result,
      outcome: saveOutcome(writes.error),
      reason,
      failure: errorMessage(writes.error),
      error: writes.failed,
    };
  }
  run.logger.log("info", copied ? "The token is good; missing copies were written" : "The token is good");
  return { ...result, outcome: "TOKEN_IS_GOOD", reason };
}
