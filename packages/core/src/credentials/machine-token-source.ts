import { stat } from "node:fs/promises";
import { type Now, systemNow } from "../common/clock.js";
import { errnoCode, errorMessage, fsErrorReason, isNotFoundError } from "../common/fs-errors.js";
import { type Logger, silentLogger } from "../common/logger.js";
import { oneLine } from "../common/one-line.js";
import { checkMintedToken } from "../mint/check-minted-token.js";
import { filePathProblem } from "../safe-files/file-path-problem.js";
import { readCapped } from "../token-file/read-token-file.js";
import { parseTokenFile } from "../token-file/token-file.js";

/** Anything that hands out a LUCI machine token for a request. */
export interface MachineTokenSource {
  /** A token that has not expired; rejects (one-line message) when there is none. */
  getToken(): Promise<string>;
}

/** Options of {@link createMachineTokenSource}. */
export interface MachineTokenSourceOptions {
  /** The token file a tokend keeps fresh (this package's CLI or Go's `luci_machine_tokend`). */
  tokenFile: string;
  /**
   * Inside this much of its expiry a token is "near expiry": the file is read again at every
   * check even if it looks unchanged, and a warning is logged once (a tokend refreshes the token
   * at half its life, so this means the tokend is failing). The token is still served. Default 5 min.
   */
  nearExpiryMs?: number;
  /**
   * A token that has not expired is served from the cache for this long before the file is
   * checked again (one `stat`). Default 1 s: a busy service does not stat the file for every
   * request, and a refreshed file is noticed within a second.
   */
  checkIntervalMs?: number;
  /** The clock; default the system's. */
  now?: Now;
  /** Receives warnings (never the token). Default: silent. */
  logger?: Logger;
}

/** What is wrong with the token file: gone, unreadable, not a token file, or holding an expired token. */
export type MachineTokenProblem = "missing" | "unreadable" | "damaged" | "expired";

/** Why {@link createMachineTokenSource} has no token: one line naming the file and the problem. */
export class MachineTokenSourceError extends Error {
  override name = "MachineTokenSourceError";
  constructor(
    /** The token file. */
    readonly path: string,
    /** The kind of problem. */
    readonly problem: MachineTokenProblem,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`token file ${path}: ${detail}`, options);
  }
}

/** A token read from the file, with the file identity it was read under. */
interface Cached {
  token: string;
  expiryMs: number;
  fileId: string;
}

/**
 * Serves the LUCI machine token that a tokend keeps in `tokenFile`, for code that calls LUCI
 * services (pair it with {@link machineTokenInterceptor} or {@link withMachineToken}).
 *
 * - The token is cached with the file's identity (device, inode, mtime, size). At most every
 *   `checkIntervalMs` the file is stat'ed (at every call once the token expired); it is read
 *   again when that identity changed (a tokend renames a new file over the old one) or when the
 *   token is near expiry.
 * - Concurrent calls share one check. Reads are capped and only regular files are read.
 * - A token counts as expired at its `expiry` (the file's key, server clock).
 * - Rejects with a {@link MachineTokenSourceError} when the file is missing, unreadable, damaged
 *   or its token expired. If the file goes bad while the cached token is still valid (someone
 *   deleted or overwrote it), the cached token is served and a warning logged, until it expires.
 *   A tokend replaces the file with one rename, so a reader never sees it missing or half written.
 */
export function createMachineTokenSource(options: MachineTokenSourceOptions): MachineTokenSource {
  const path = options.tokenFile;
  // A file's contents in place of its path would be quoted in every error.
  const notPath = filePathProblem(path);
  if (notPath !== undefined) throw new TypeError(`createMachineTokenSource: tokenFile is ${notPath}`);
  const now = options.now ?? systemNow;
  const logger = options.logger ?? silentLogger;
  const nearExpiryMs = options.nearExpiryMs ?? 5 * 60_000;
  const checkIntervalMs = options.checkIntervalMs ?? 1000;
  let cached: Cached | undefined;
  let checkedAtMs = Number.NEGATIVE_INFINITY;
  /** The last file identity whose content gave no token, and why: not read again until it changes. */
  let failed: { fileId: string; error: MachineTokenSourceError } | undefined;
  let warnedAbout: MachineTokenSourceError | string | undefined;
  let inFlight: Promise<string> | undefined;

  const fresh = (c: Cached, t: number) => t < c.expiryMs - nearExpiryMs;

  const warnOnce = (about: MachineTokenSourceError | string, message: string) => {
    if (warnedAbout === about) return;
    warnedAbout = about;
    logger.log("warning", message);
  };

  async function check(t: number): Promise<string> {
    let fileId: string;
    try {
      fileId = await fileIdentity(path);
    } catch (err) {
      return fallBack(fsFailure(err), t);
    }
    if (cached?.fileId === fileId && fresh(cached, t)) return cached.token;
    if (failed?.fileId === fileId) return fallBack(failed.error, t);
    let read: Cached;
    try {
      // Identity first, then the bytes: if the file is replaced in between, the next check sees
      // a new identity and reads again, so a stale read is never cached under a current identity.
      read = { ...parseToken(path, await readCapped(path)), fileId };
    } catch (err) {
      if (!(err instanceof MachineTokenSourceError)) return fallBack(fsFailure(err), t);
      failed = { fileId, error: err };
      return fallBack(err, t);
    }
    const expiry = new Date(read.expiryMs).toISOString();
    if (t >= read.expiryMs) {
      const detail = `the token expired at ${expiry} (is the tokend refreshing it?)`;
      failed = { fileId, error: new MachineTokenSourceError(path, "expired", detail) };
      return fallBack(failed.error, t);
    }
    failed = undefined;
    cached = read;
    if (!fresh(read, t)) {
      warnOnce(
        read.token,
        `token file ${path}: the token expires at ${expiry} and was not refreshed yet (is the tokend running?)`,
      );
    }
    return read.token;
  }

  /**
   * A file system error, kept under a pseudo identity (its error code) so the same error warns
   * once, while the file itself is tried again at every check (a chmod may fix it).
   */
  function fsFailure(err: unknown): MachineTokenSourceError {
    const fileId = `!${errnoCode(err) ?? errorMessage(err)}`;
    if (failed?.fileId !== fileId) failed = { fileId, error: fileError(path, err) };
    return failed.error;
  }

  /** The file gave no token: keep serving a cached one that is still valid, else fail. */
  function fallBack(error: MachineTokenSourceError, t: number): string {
    if (cached === undefined || t >= cached.expiryMs) throw error;
    warnOnce(error, `${error.message}; using the token read before until it expires`);
    return cached.token;
  }

  return {
    getToken() {
      const t = now().getTime();
      // A clock stepped back (NTP, a resumed VM) checks at once rather than trusting the cache longer.
      const checkedLately = t >= checkedAtMs && t - checkedAtMs < checkIntervalMs;
      if (inFlight === undefined && cached && t < cached.expiryMs && checkedLately) {
        return Promise.resolve(cached.token);
      }
      if (inFlight === undefined) {
        checkedAtMs = t;
        inFlight = check(t).finally(() => {
          inFlight = undefined;
        });
      }
      return inFlight;
    },
  };
}

/** The file's identity: a rename over it, a rewrite or a touch changes it. */
async function fileIdentity(path: string): Promise<string> {
  const s = await stat(path, { bigint: true });
  return `${s.dev}:${s.ino}:${s.mtimeNs}:${s.size}`;
}

function parseToken(path: string, bytes: Uint8Array): { token: string; expiryMs: number } {
  const parsed = parseTokenFile(bytes);
  if (parsed.error !== undefined) {
    throw new MachineTokenSourceError(path, "damaged", `not a token file - ${oneLine(parsed.error)}`);
  }
  const { luciMachineToken, expiry } = parsed.token;
  if (luciMachineToken === "") {
    throw new MachineTokenSourceError(path, "damaged", "no luci_machine_token in the file");
  }
  if (expiry <= 0n) throw new MachineTokenSourceError(path, "damaged", "no expiry in the file");
  // A control character would make Headers.set throw with the token in its message; an expiry
  // past year 9999 (Go's tokend writes int64 max as sent) is no date.
  const problem = checkMintedToken(luciMachineToken, { seconds: expiry, nanos: 0 });
  if (problem !== undefined) throw new MachineTokenSourceError(path, "damaged", problem);
  return { token: luciMachineToken, expiryMs: Number(expiry) * 1000 };
}

function fileError(path: string, err: unknown): MachineTokenSourceError {
  if (isNotFoundError(err)) {
    return new MachineTokenSourceError(path, "missing", "no such file (has a tokend written it yet?)", {
      cause: err,
    });
  }
  return new MachineTokenSourceError(path, "unreadable", oneLine(fsErrorReason(err)), { cause: err });
}
