import type {
  Logger,
  Now,
  TokendState,
  TokenFile,
  UpdateReason,
  X509Signer,
} from "@luci-machine-tokend/core";
import {
  calcDigest,
  createX509Signer,
  deadlineSignal,
  decideUpdateReason,
  fsErrorReason,
  readCapped,
  readTokenFile,
  tokendDigestInputs,
} from "@luci-machine-tokend/core/internal";
import { warnIfKeyIsExposed } from "./key-permissions.js";
import type { ResolvedTokendOptions } from "./tokend-options.js";

/** What a run knows before it touches the network: the current token and what to do about it. */
export type Assessment =
  | {
      token?: TokenFile;
      state?: TokendState;
      signer: X509Signer;
      inputsDigest: string;
      reason: Exclude<UpdateReason, "MISSING_TOKEN_COPY">;
      keyError?: undefined;
    }
  | { token?: TokenFile; state?: TokendState; keyError: Error; reason: "NEW_TOKEN" | "PARAMS_CHANGE" };

/**
 * The first half of Go's run(): read the primary token file, load the key and certificate (a
 * failure is reported even when the token is fresh), digest the inputs and decide. No writes.
 */
export async function assessToken(
  options: ResolvedTokendOptions,
  deps: { now: Now; logger: Logger; deadline?: Date; signal?: AbortSignal },
): Promise<Assessment> {
  const { logger } = deps;
  // The token file and the key files are read at once: a start-up on a busy machine waits on
  // each file operation's thread-pool round trip. Only the token read logs, so the log is as Go's.
  const [{ token, state }, loaded] = await Promise.all([
    readTokenFile(options.tokenFile, { logger, ownFilesOnly: true }),
    loadSigner(options, deps).then(
      (signer) => ({ signer }),
      (err: unknown) => ({ error: err as Error }),
    ),
  ]);
  if ("error" in loaded) {
    // Go's reason rule for CANT_READ_KEY: NEW_TOKEN only when there is no usable token at all.
    return {
      token,
      state,
      keyError: loaded.error,
      reason: token && token.nextUpdate !== 0n ? "PARAMS_CHANGE" : "NEW_TOKEN",
    };
  }
  const { signer } = loaded;
  await warnIfKeyIsExposed(options.pkeyPem, logger);
  const inputsDigest = calcDigest(
    tokendDigestInputs({ backend: options.backend, certPem: signer.certPem, keyPem: signer.keyPem }),
  );
  const reason = decideUpdateReason({
    token,
    state,
    inputsDigest,
    now: deps.now(),
    forceRefresh: options.forceRefresh,
  });
  return { token, state, signer, inputsDigest, reason };
}

async function loadSigner(
  options: ResolvedTokendOptions,
  deps: { now: Now; deadline?: Date; signal?: AbortSignal },
): Promise<X509Signer> {
  const passphrase = options.pkeyPassphraseFile
    ? await readPassphrase(options.pkeyPassphraseFile)
    : undefined;
  // Decrypting an encrypted key ends at the run's deadline, as every other step.
  const signal = deps.deadline ? deadlineSignal(deps.deadline, deps.now, deps.signal) : deps.signal;
  return createX509Signer({ keyPath: options.pkeyPem, certPath: options.certPem, passphrase, signal });
}

/** The passphrase in `path` (one trailing newline dropped), read as every file a run reads; the error names the flag. */
export async function readPassphrase(path: string): Promise<string> {
  try {
    return new TextDecoder().decode(await readCapped(path, MAX_PASSPHRASE_BYTES)).replace(/\r?\n$/, "");
  } catch (err) {
    throw new Error(`-pkey-passphrase-file ${path}: ${fsErrorReason(err)}`, { cause: err });
  }
}

const MAX_PASSPHRASE_BYTES = 64 * 1024;
