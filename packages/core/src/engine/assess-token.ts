import { systemNow } from "../common/clock.js";
import { deadlineSignal } from "../common/deadline-signal.js";
import { errorMessage } from "../common/fs-errors.js";
import { type Logger, silentLogger } from "../common/logger.js";
import { checkMintedToken } from "../mint/check-minted-token.js";
import { loadX509Signer, type X509Signer } from "../mint/x509-signer.js";
import { calcDigest, tokendDigestInputs } from "../token-file/calc-digest.js";
import { decideUpdateReason } from "../token-file/decide-update-reason.js";
import type { UpdateReason } from "../token-file/outcome.js";
import { type ReadTokenFileResult, readTokenFile } from "../token-file/read-token-file.js";
import { warnIfKeyIsExposed } from "./key-permissions.js";
import type { HeldToken, ResolvedTokenUpdate } from "./token-update-options.js";

/** What a run knows before it takes any action: the token found and what to do about it. */
export type Assessment = HeldToken &
  (
    | {
        signer: X509Signer;
        inputsDigest: string;
        reason: Exclude<UpdateReason, "MISSING_TOKEN_COPY">;
        keyError?: undefined;
      }
    | { keyError: Error; reason: "NEW_TOKEN" | "PARAMS_CHANGE" }
  ) & {
    /** The primary file's token as read (with `held`: only one that could be served). */
    onDisk?: HeldToken;
  };

/**
 * The first half of Go's run(): read the primary token file, load the key and certificate (a
 * failure is reported even when the token is fresh), digest the inputs and decide. No lock, no
 * writes: the run takes the lock first, a dry run does not.
 */
export async function assessToken(s: ResolvedTokenUpdate, deadline: Date | undefined): Promise<Assessment> {
  const now = s.now ?? systemNow;
  const logger = s.logger ?? silentLogger;
  // The token file and the key files are read at once: a start-up on a busy machine waits on
  // each file operation's thread-pool round trip. Only the token read logs, so the log is as Go's.
  const [read, loaded] = await Promise.all([
    s.tokenFile === undefined ? undefined : readTokenFile(s.tokenFile, { logger, ownFilesOnly: true }),
    loadSigner(s, deadline).then(
      (signer) => ({ signer }),
      (err: unknown) => ({ error: asError(err) }),
    ),
  ]);
  const onDisk = read && s.held ? usableToken(read, s.tokenFile ?? "", logger) : read;
  const found = pickNewer(s.held, onDisk);
  const { token, state } = found;
  if ("error" in loaded) {
    // Go's reason rule for CANT_READ_KEY: NEW_TOKEN only when there is no usable token at all.
    const reason = token && token.nextUpdate !== 0n ? "PARAMS_CHANGE" : "NEW_TOKEN";
    return { token, state, onDisk, keyError: loaded.error, reason };
  }
  const { signer } = loaded;
  if ("path" in s.identity.key) await warnIfKeyIsExposed(s.identity.key.path, logger);
  const inputsDigest = calcDigest(
    tokendDigestInputs({ backend: s.backend, certPem: signer.certPem, keyPem: signer.keyPem }),
  );
  const reason = decideUpdateReason({
    token,
    state,
    inputsDigest,
    now: now(),
    forceRefresh: s.forceRefresh,
  });
  return { token, state, onDisk, signer, inputsDigest, reason };
}

async function loadSigner(s: ResolvedTokenUpdate, deadline: Date | undefined): Promise<X509Signer> {
  const passphrase = typeof s.keyPassphrase === "function" ? await s.keyPassphrase() : s.keyPassphrase;
  // Decrypting an encrypted key ends at the run's deadline, as every other step.
  const signal = deadline ? deadlineSignal(deadline, s.now ?? systemNow, s.signal) : s.signal;
  return loadX509Signer({ ...s.identity, passphrase, signal });
}

/** The newer of a held token and the file's (by last_update); the file's when there is none held. */
function pickNewer(held: HeldToken | undefined, onDisk: HeldToken | undefined): HeldToken {
  if (!held) return onDisk ?? {};
  if (!onDisk) return held;
  return (held.token?.lastUpdate ?? -1n) > (onDisk.token?.lastUpdate ?? -1n) ? held : onDisk;
}

/**
 * The token file's content, or nothing when its token cannot be a machine token or its expiry no
 * date (another tokend, such as Go's, writes whatever the server sent): a caller that serves it
 * would hand it out, a control character in it makes Headers.set throw with the token in the
 * message, and an expiry past year 9999 makes dates invalid.
 */
function usableToken(read: ReadTokenFileResult, path: string, logger: Logger): ReadTokenFileResult {
  const token = read.token?.luciMachineToken ?? "";
  const problem =
    token === "" ? undefined : checkMintedToken(token, { seconds: read.token?.expiry ?? 0n, nanos: 0 });
  if (problem === undefined) return read;
  logger.log("warning", `Token file ${JSON.stringify(path)}: ${problem}; a new token is needed`);
  return {};
}

/** `err` if it is an Error, else an Error with its text. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(errorMessage(err));
}
