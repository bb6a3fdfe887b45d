import { calcDigest, tokendDigestInputs } from "../calc-digest.js";
import { checkMintedToken } from "../check-minted-token.js";
import type { Now, Random, Sleep } from "../clock.js";
import { deadlineSignal } from "../deadline-signal.js";
import { decideUpdateReason } from "../decide-update-reason.js";
import { errorMessage } from "../fs-errors.js";
import type { TokenFile } from "../gen/tokenserver/token_file_pb.js";
import type { Logger } from "../logger.js";
import { mintToken, type TokenMinterClient } from "../mint-token.js";
import { mintedTokenFile } from "../minted-token-file.js";
import type { UpdateReason } from "../outcome.js";
import type { Protocol } from "../protocols.js";
import { type ReadTokenFileResult, readTokenFile } from "../read-token-file.js";
import { acquireRunLock, type RunLockResult } from "../run-lock.js";
import { removeStaleTempFiles } from "../stale-temp-files.js";
import type { TokendState } from "../tokend-state.js";
import { writeTokenFile } from "../write-token-file.js";
import { loadX509Signer, type X509Signer } from "../x509-signer.js";
import type { MachineIdentityInputs } from "./machine-identity.js";
import type { TokenRefresherSettings } from "./token-refresher-options.js";

/** What one refresh needs: the refresher's options, with defaults where the refresh needs one. */
export type RefreshSettings = Pick<
  TokenRefresherSettings,
  "backend" | "keyPassphrase" | "tokenFile" | "tokenFileMode" | "jitter"
> &
  MachineIdentityInputs & {
    protocol: Protocol;
    timeoutMs: number;
    now: Now;
    sleep: Sleep;
    random: Random;
    logger: Logger;
  };

/** A token and its tokend state, as held in a token file or in memory. */
export interface HeldToken {
  token?: TokenFile;
  state?: TokendState;
}

/**
 * What one refresh ended with: the token to serve (the good one found, the one just minted, or
 * the old one when the refresh failed) and, on failure, why.
 */
export interface RefreshResult extends HeldToken {
  /** The decision; absent when the refresh failed before deciding. */
  reason?: Exclude<UpdateReason, "MISSING_TOKEN_COPY">;
  /** True when a new token was minted. */
  minted: boolean;
  error?: Error;
}

/**
 * One refresh, composed of the same core functions and in the same order as one run of the CLI:
 * take the token file's run lock, read the file, load the key and certificate, digest, decide,
 * and only when the decision says so mint (retries with jitter, bounded by the deadline
 * `timeoutMs` from now) and write the file atomically. `held` is the token the refresher holds in
 * memory: without a file it is the only one; with a file, the newer of the two (by last_update)
 * is judged, and a good token the file lacks (a failed write, a deleted file) is written back, as
 * the CLI writes missing copies. Failures come back as `error`, with the token still held.
 */
export async function refreshMachineToken(
  s: RefreshSettings,
  held: HeldToken,
  client: () => Promise<TokenMinterClient>,
  signal: AbortSignal,
): Promise<RefreshResult> {
  const deadline = new Date(s.now().getTime() + s.timeoutMs);
  if (s.tokenFile === undefined) return decideAndMint(s, held, undefined, deadline, client, signal);
  const locking = await acquireRunLock(s.tokenFile, {
    deadline,
    signal,
    now: s.now,
    sleep: s.sleep,
    logger: s.logger,
    staleAfterMs: Math.max(10 * 60_000, 3 * s.timeoutMs),
  });
  try {
    await removeStaleTempFiles(s.tokenFile, { now: s.now(), logger: s.logger });
    const onDisk = usableToken(
      await readTokenFile(s.tokenFile, { logger: s.logger, ownFilesOnly: true }),
      s.tokenFile,
      s.logger,
    );
    const newer = (held.token?.lastUpdate ?? -1n) > (onDisk.token?.lastUpdate ?? -1n) ? held : onDisk;
    const result = await decideAndMint(s, newer, locking, deadline, client, signal);
    const token = result.token;
    if (result.error || !token || token.luciMachineToken === onDisk.token?.luciMachineToken) return result;
    const error = await saveTokenFile(s, s.tokenFile, { token, state: result.state }, deadline);
    return error ? { ...result, error } : result;
  } finally {
    await locking.lock?.release();
  }
}

/** Writes a token to the token file; the error (one line, naming the file) if that failed. */
async function saveTokenFile(
  s: RefreshSettings,
  path: string,
  held: HeldToken & { token: TokenFile },
  deadline: Date,
): Promise<Error | undefined> {
  try {
    await writeTokenFile(path, held.token, held.state, {
      mode: s.tokenFileMode,
      deadline,
      sleep: s.sleep,
      now: s.now,
      logger: s.logger,
    });
    return undefined;
  } catch (err) {
    // The token is still served from memory; the next refresh writes it again.
    return new Error(`Failed to write token file ${path} - ${errorMessage(err)}`, { cause: err });
  }
}

async function decideAndMint(
  s: RefreshSettings,
  held: HeldToken,
  locking: RunLockResult | undefined,
  deadline: Date,
  client: () => Promise<TokenMinterClient>,
  signal: AbortSignal,
): Promise<RefreshResult> {
  let signer: X509Signer;
  try {
    // An encrypted key is decrypted within the refresh's deadline (its cost is capped, too).
    signer = await loadX509Signer({
      key: s.key,
      cert: s.cert,
      passphrase: s.keyPassphrase,
      signal: deadlineSignal(deadline, s.now, signal),
    });
  } catch (err) {
    // As the CLI: a broken key is an error even while the token is still good.
    const reason = held.token && held.token.nextUpdate !== 0n ? "PARAMS_CHANGE" : "NEW_TOKEN";
    return { ...held, reason, minted: false, error: asError(err) };
  }
  const inputsDigest = calcDigest(
    tokendDigestInputs({ backend: s.backend, certPem: signer.certPem, keyPem: signer.keyPem }),
  );
  const reason = decideUpdateReason({ ...held, inputsDigest, now: s.now() });
  if (reason === "TOKEN_IS_GOOD") return { ...held, reason, minted: false };
  if (locking?.refused === "timeout") {
    return { ...held, reason, minted: false, error: new Error(`${locking.message}; no token was requested`) };
  }
  s.logger.log("info", `Updating the token (reason: ${reason})`);
  try {
    const minted = await mintToken({
      client: await client(),
      signer,
      deadline,
      timeoutMs: s.timeoutMs,
      protocol: s.protocol,
      signal,
      jitter: s.jitter,
      now: s.now,
      sleep: s.sleep,
      random: s.random,
      logger: s.logger,
    });
    const { token, state } = mintedTokenFile(minted, s.now(), inputsDigest, s.logger);
    s.logger.log(
      "info",
      `The token was updated; next update at ${new Date(Number(token.nextUpdate) * 1000).toISOString()}`,
    );
    return { token, state, reason, minted: true };
  } catch (err) {
    return { ...held, reason, minted: false, error: asError(err) };
  }
}

/** `err` if it is an Error, else an Error with its text. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(errorMessage(err));
}

/**
 * The token file's content, or nothing when its token cannot be a machine token or its expiry no
 * date (another tokend, such as Go's, writes whatever the server sent): it would be handed out, a
 * control character in it makes Headers.set throw with the token in the message, and an expiry
 * past year 9999 makes dates invalid.
 */
function usableToken(read: ReadTokenFileResult, path: string, logger: Logger): ReadTokenFileResult {
  const token = read.token?.luciMachineToken ?? "";
  // An expiry no date holds (Go's tokend writes int64 max as sent) is as unusable as a bad token.
  const problem =
    token === "" ? undefined : checkMintedToken(token, { seconds: read.token?.expiry ?? 0n, nanos: 0 });
  if (problem === undefined) return read;
  logger.log("warning", `Token file ${JSON.stringify(path)}: ${problem}; a new token is needed`);
  return {};
}
