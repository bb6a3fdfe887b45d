import { access, constants } from "node:fs/promises";
import { dirname } from "node:path";
import { printableError } from "../common/one-line.js";
import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
import { type MintedToken, mintToken, type TokenMinterClient } from "../mint/mint-token.js";
import { MintTokenError } from "../mint/mint-token-error.js";
import { outcomeFromError } from "../mint/outcome-from-error.js";
import { createTokenMinterClient } from "../mint/token-minter-client.js";
import type { X509Signer } from "../mint/x509-signer.js";
import { mintedTokenFile } from "../token-file/minted-token-file.js";
import { tokenPathProblem } from "../token-file/write-token-file.js";
import { asError } from "./assess-token.js";
import { certificateValidityWarning, untrustedCertificateNote } from "./certificate-notes.js";
import { microsSince } from "./micros-since.js";
import type { RunContext } from "./run-context.js";
import type { HeldToken, ResolvedTokenUpdate, TokenUpdateResult } from "./token-update-options.js";
import { saveOutcome, writeTokenFiles } from "./write-token-files.js";

/** What the decision left for the mint: the token found, why it is replaced, and the new token's inputs. */
export interface MintInput extends HeldToken {
  reason: NonNullable<TokenUpdateResult["reason"]>;
  signer: X509Signer;
  inputsDigest: string;
}

/**
 * The second half of Go's run(), from the RPC on: mint a new token (retries bounded by the run's
 * deadline) and save it to the primary file and every copy. Loaded only when a token is needed.
 */
export async function mintAndSave(
  s: ResolvedTokenUpdate,
  run: RunContext,
  input: MintInput,
): Promise<TokenUpdateResult> {
  const { logger, now, monotonic } = run;
  const { signer, reason } = input;
  const kept = { found: input.token, token: input.token, state: input.state, minted: false, reason };
  if (s.tokenFile !== undefined && !s.held) {
    const unwritable = await primaryWriteProblem(s.tokenFile, s.checkWritable);
    if (unwritable) {
      // Go would mint first and then fail to save; a token nobody can store is not worth a call.
      logger.log("error", `Cannot write the token file, not asking for a token - ${unwritable.message}`);
      return { ...kept, outcome: saveOutcome(unwritable), failure: unwritable.message, error: unwritable };
    }
  }
  let client: TokenMinterClient;
  try {
    client = await (s.client ?? (() => defaultClient(s, run)))();
  } catch (err) {
    const failure = printableError(err);
    logger.log("error", failure);
    return { ...kept, outcome: "UNKNOWN_RPC_ERROR", failure, error: asError(err) };
  }
  const certName = "path" in s.identity.cert ? s.identity.cert.path : `(${s.identity.cert.name})`;
  const datesWarning = certificateValidityWarning(signer.certificate, certName, now());
  if (datesWarning) logger.log("warning", datesWarning);
  const rpcStarted = monotonic();
  let minted: MintedToken;
  try {
    minted = await mintToken({
      client,
      signer,
      deadline: run.deadline,
      timeoutMs: run.timeoutMs,
      protocol: s.protocol ?? "prpc",
      signal: s.signal,
      jitter: s.jitter,
      now,
      sleep: s.sleep,
      random: s.random,
      logger,
    });
  } catch (err) {
    const rpcDurationUs = microsSince(rpcStarted, monotonic());
    const outcome = outcomeFromError(err);
    const serviceVersion = (err instanceof MintTokenError && err.serviceVersion) || undefined;
    const failure = printableError(err);
    logger.log("error", `Failed to call MintMachineToken - ${failure}`);
    if (outcome === "MINT_TOKEN_ERROR_BAD_TIMESTAMP") {
      logger.log(
        "error",
        "The token server and this machine disagree on the time by over 10 minutes: check the clock (NTP)",
      );
    }
    if (outcome === "MINT_TOKEN_ERROR_UNTRUSTED_CERTIFICATE") {
      logger.log("error", untrustedCertificateNote(signer.certificate, certName, now()));
    }
    return { ...kept, outcome, serviceVersion, rpcDurationUs, failure, error: asError(err) };
  }
  const rpcDurationUs = microsSince(rpcStarted, monotonic());
  const { serviceVersion } = minted;
  const { token, state } = mintedTokenFile(minted, now(), input.inputsDigest, logger);
  const made = { ...kept, token, state, minted: true, serviceVersion, rpcDurationUs };
  const paths = [...(s.tokenFile === undefined ? [] : [s.tokenFile]), ...(s.tokenFileCopies ?? [])];
  const writes = await writeTokenFiles(paths, token, state, {
    mode: s.tokenFileMode,
    atomicFs: s.atomicFs,
    deadline: run.deadline,
    sleep: s.sleep,
    now,
    logger,
  });
  if (writes.error) {
    // The new token was not saved everywhere; the caller may still hold it in memory.
    const failure = printableError(writes.error);
    return { ...made, outcome: saveOutcome(writes.error), failure, error: writes.failed };
  }
  logger.log("info", `The token was updated; next update at ${nextUpdateText(token)}`);
  await s.afterUpdate?.(token);
  return { ...made, outcome: "UPDATE_SUCCESS" };
}

function nextUpdateText(token: TokenFile): string {
  return new Date(Number(token.nextUpdate) * 1000).toISOString();
}

/** The TokenMinter client; the library applies the proxy and trust roots of the environment. */
function defaultClient(s: ResolvedTokenUpdate, run: RunContext): TokenMinterClient {
  return createTokenMinterClient(s.backend, {
    protocol: s.protocol,
    caBundle: s.caBundle,
    env: s.env,
    logger: run.logger,
  });
}

/**
 * Why the primary token file cannot be replaced: its directory is missing, read-only or not ours,
 * or the entry is one a token write refuses (a directory; our own FIFO or device: see
 * tokenPathProblem). Another user's FIFO or symlink there is no reason: the write replaces it.
 */
async function primaryWriteProblem(
  path: string,
  checkWritable = (dir: string) => access(dir, constants.W_OK),
): Promise<Error | undefined> {
  const problem = await tokenPathProblem(path);
  if (problem) return problem;
  try {
    await checkWritable(dirname(path));
    return undefined;
  } catch (err) {
    return err as Error;
  }
}
