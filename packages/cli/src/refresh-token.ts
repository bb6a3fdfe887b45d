import { access, constants } from "node:fs/promises";
import { dirname } from "node:path";
import {
  createTokenMinterClient,
  MintTokenError,
  mintToken,
  outcomeFromError,
  type StatusReport,
  type TokenMinterClient,
  type X509Signer,
} from "@luci-machine-tokend/core";
import { mintedTokenFile, printableError, tokenPathProblem } from "@luci-machine-tokend/core/internal";
import { certificateValidityWarning, untrustedCertificateNote } from "./certificate-notes.js";
import { microsSince } from "./micros-since.js";
import type { RunDeps } from "./run-deps.js";
import { saveOutcome, setTokenTimes, writeTokenFiles } from "./token-writes.js";
import type { ResolvedTokendOptions } from "./tokend-options.js";

/** What the refresh needs from the run. */
export interface RefreshInput {
  options: ResolvedTokendOptions;
  deps: RunDeps;
  report: StatusReport;
  /** The run's overall deadline (start + -timeout). */
  deadline: Date;
  signer: X509Signer;
  inputsDigest: string;
}

/**
 * Mints a new token and saves it to the primary file and every copy (Go's run() from the RPC on):
 * fills the report's outcome, service version, RPC duration and token times.
 */
export async function refreshToken(input: RefreshInput): Promise<void> {
  const { options, deps, report, deadline, signer, inputsDigest } = input;
  const { logger, now, monotonic } = deps;
  const unwritable = await checkPrimaryWritable(options.tokenFile);
  if (unwritable) {
    // Go would mint first and then fail to save; a token nobody can store is not worth a call.
    report.updateOutcome = saveOutcome(unwritable);
    report.failureError = unwritable.message;
    logger.log("error", `Cannot write the token file, not asking for a token - ${unwritable.message}`);
    return;
  }
  let client: TokenMinterClient;
  try {
    client = createClient(options, deps);
  } catch (err) {
    report.updateOutcome = "UNKNOWN_RPC_ERROR";
    report.failureError = printableError(err);
    logger.log("error", report.failureError);
    return;
  }
  const datesWarning = certificateValidityWarning(signer.certificate, options.certPem, now());
  if (datesWarning) logger.log("warning", datesWarning);
  const rpcStarted = monotonic();
  let minted: Awaited<ReturnType<typeof mintToken>>;
  try {
    minted = await mintToken({
      client,
      signer,
      deadline,
      timeoutMs: options.timeoutMs,
      protocol: options.protocol,
      signal: deps.signal,
      jitter: deps.jitter,
      now,
      sleep: deps.sleep,
      random: deps.random,
      logger,
    });
  } catch (err) {
    report.rpcDurationUs = microsSince(rpcStarted, monotonic());
    report.updateOutcome = outcomeFromError(err);
    if (err instanceof MintTokenError && err.serviceVersion) report.serviceVersion = err.serviceVersion;
    report.failureError = printableError(err);
    logger.log("error", `Failed to call MintMachineToken - ${report.failureError}`);
    if (report.updateOutcome === "MINT_TOKEN_ERROR_BAD_TIMESTAMP") {
      logger.log(
        "error",
        "The token server and this machine disagree on the time by over 10 minutes: check the clock (NTP)",
      );
    }
    if (report.updateOutcome === "MINT_TOKEN_ERROR_UNTRUSTED_CERTIFICATE") {
      logger.log("error", untrustedCertificateNote(signer.certificate, options.certPem, now()));
    }
    return;
  }
  report.rpcDurationUs = microsSince(rpcStarted, monotonic());
  report.serviceVersion = minted.serviceVersion;

  const { token, state } = mintedTokenFile(minted, now(), inputsDigest, logger);
  const failure = await writeTokenFiles(
    [options.tokenFile, ...options.tokenFileCopies],
    token,
    state,
    options,
    deps,
  );
  if (failure.error) {
    report.updateOutcome = saveOutcome(failure.error);
    report.failureError = printableError(failure.error);
    return; // the report keeps the old token's times: the new one was not saved everywhere
  }
  logger.log(
    "info",
    `The token was updated; next update at ${new Date(Number(token.nextUpdate) * 1000).toISOString()}`,
  );
  setTokenTimes(report, token);
  report.updateOutcome = "UPDATE_SUCCESS";
  if (options.exec) {
    // Loaded only with -exec: it imports node:child_process.
    const { runExecHook } = await import("./exec-hook.js");
    await runExecHook(options.exec, options.tokenFile, options.execTimeoutMs, logger, {
      signal: deps.signal,
    });
  }
}

/** The TokenMinter client; the library applies the proxy and trust roots of the environment. */
function createClient(options: ResolvedTokendOptions, deps: RunDeps): TokenMinterClient {
  return (deps.createClient ?? createTokenMinterClient)(options.backend, {
    protocol: options.protocol,
    caBundle: options.caBundle,
    logger: deps.logger,
  });
}

/**
 * Why the primary token file cannot be replaced: its directory is missing, read-only or not ours,
 * or the entry is one a token write refuses (a directory; our own FIFO or device: see
 * tokenPathProblem). Another user's FIFO or symlink there is no reason: the write replaces it.
 */
async function checkPrimaryWritable(path: string): Promise<Error | undefined> {
  const problem = await tokenPathProblem(path);
  if (problem) return problem;
  try {
    await access(dirname(path), constants.W_OK);
    return undefined;
  } catch (err) {
    return err as Error;
  }
}
