import { setTimeout as delay } from "node:timers/promises";
import { type Sleep, systemNow, systemSleep } from "../common/clock.js";
import { errorMessage } from "../common/fs-errors.js";
import { silentLogger } from "../common/logger.js";
import { asError } from "../engine/assess-token.js";
import { runTokenUpdate } from "../engine/run-token-update.js";
import type { HeldToken, ResolvedTokenUpdate, TokenUpdateResult } from "../engine/token-update-options.js";
import { type Backoff, createBackoff } from "../mint/backoff.js";
import { createTokenMinterClient } from "../mint/token-minter-client.js";
import { backendBaseUrl } from "../net/backend-url.js";
import { filePathProblem } from "../safe-files/file-path-problem.js";
import { nextRefreshAt, sleepUntil } from "../token-file/refresh-schedule.js";
import { machineIdentityInputs } from "./machine-identity.js";
import type { MachineTokenSource } from "./machine-token-source.js";
import { TokenRefresherError } from "./token-refresher-error.js";
import type { TokenRefresherOptions } from "./token-refresher-options.js";

/** A running refresher; also a {@link MachineTokenSource} for the interceptor and fetch wrapper. */
export interface TokenRefresher extends MachineTokenSource {
  /**
   * The current token while it has not expired. Before the first refresh ended it waits for it;
   * when there is no valid token it rejects at once with a {@link TokenRefresherError} (the last
   * refresh's error as `cause`).
   */
  getToken(): Promise<string>;
  /**
   * Stops: cancels a refresh in progress (the RPC, retry waits, the lock wait) and every timer.
   * Resolves when nothing of the refresher is left running. getToken() rejects afterwards.
   */
  stop(): Promise<void>;
}

const FIRST_RETRY_MS = 30_000;
const STOPPED = "the token refresher was stopped";

/**
 * Keeps a LUCI machine token fresh inside a long-running Node service (for machines that cannot
 * run the tokend from cron): one refresh now, then at each token's next_update (plus up to a
 * minute of jitter), with the same decision, minting, retries and file writes as the CLI; after a
 * failure, again after 30 s, 1 min, … up to `maxRetryDelayMs` (jittered). A good token keeps
 * being served while refreshes fail, until it expires.
 *
 * The waits between refreshes use unref'd timers: the refresher alone does not keep a process
 * alive (a refresh in progress does). Call {@link TokenRefresher.stop} to end it.
 *
 * The certificate and key come from files (`certFile`, `keyFile`: read at every refresh, so a
 * renewed certificate is picked up) or as PEM (`cert`, `key`). No error, callback argument or log
 * line carries the key: PEM given where a path belongs is refused without being shown.
 *
 * @throws Error for a bad `backend` or `timeoutMs`; TypeError for certificate and key options
 * given wrong (none, two ways, PEM text as a path).
 */
export function startTokenRefresher(options: TokenRefresherOptions): TokenRefresher {
  backendBaseUrl(options.backend);
  const identity = machineIdentityInputs(options);
  for (const name of ["tokenFile", "caBundle"] as const) {
    const problem = options[name] === undefined ? undefined : filePathProblem(options[name]);
    if (problem !== undefined) throw new TypeError(`startTokenRefresher: ${name} is ${problem}`);
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const stopping = new AbortController();
  let client = options.client;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    throw new Error(`timeoutMs must be positive and finite, not ${timeoutMs}`);
  const now = options.now ?? systemNow;
  const random = options.random ?? Math.random;
  const logger = options.logger ?? silentLogger;
  const settings: ResolvedTokenUpdate = {
    backend: options.backend,
    identity,
    keyPassphrase: options.keyPassphrase,
    tokenFile: options.tokenFile,
    tokenFileMode: options.tokenFileMode,
    protocol: options.protocol ?? "prpc",
    timeoutMs,
    jitter: options.jitter,
    now,
    sleep: options.sleep ?? systemSleep,
    random,
    logger,
    signal: stopping.signal,
    client: async () => {
      client ??= createTokenMinterClient(options.backend, {
        protocol: options.protocol,
        caBundle: options.caBundle,
        env: options.env,
        logger,
      });
      return client;
    },
  };
  const idleSleep = options.sleep ?? unrefSleep;
  let held: HeldToken = {};
  let current: { token: string; expiryMs: number } | undefined;
  let lastError: Error | undefined;
  let refreshing: Promise<void> | undefined;
  const notify = (what: string, call: () => void) => {
    try {
      call();
    } catch (err) {
      logger.log("error", `The ${what} callback threw - ${errorMessage(err)}`);
    }
  };

  async function refreshOnce(backoff: Backoff | undefined): Promise<{ retry?: Backoff; next: Date }> {
    // The CLI's run, on the token file (if any) and the token held in memory.
    const result = await runTokenUpdate({ ...settings, held }).catch(
      (err: unknown): TokenUpdateResult => ({
        outcome: "UNKNOWN_RPC_ERROR",
        minted: false,
        error: asError(err),
      }),
    );
    if (stopping.signal.aborted) return { next: now() };
    if (result.token) held = { token: result.token, state: result.state };
    const token = result.token?.luciMachineToken ?? "";
    let next: Date;
    if (result.error) {
      lastError = result.error;
      backoff ??= createBackoff({
        initialMs: FIRST_RETRY_MS,
        multiplier: 2,
        maxMs: options.maxRetryDelayMs ?? 10 * 60_000,
        jitter: options.jitter,
        random,
      });
      next = new Date(now().getTime() + backoff.next());
    } else {
      lastError = undefined;
      backoff = undefined;
      next = nextRefreshAt(Number(result.token?.nextUpdate ?? 0n), now(), random);
    }
    if (token !== "" && token !== current?.token) {
      const expiry = new Date(Number(result.token?.expiry ?? 0n) * 1000);
      current = { token, expiryMs: expiry.getTime() };
      const info = {
        reason: result.reason ?? "TOKEN_IS_GOOD",
        minted: result.minted,
        expiry,
        nextRefresh: next,
      };
      notify("onRefresh", () => options.onRefresh?.(token, info));
    }
    if (result.error) {
      const error = result.error;
      logger.log(
        "error",
        `Refreshing the machine token failed - ${errorMessage(error)}; retry at ${next.toISOString()}`,
      );
      notify("onError", () => options.onError?.(error, next));
    }
    return { retry: backoff, next };
  }

  const loop = (async () => {
    let backoff: Backoff | undefined;
    while (!stopping.signal.aborted) {
      const step = refreshOnce(backoff);
      refreshing = step.then(() => {});
      const { retry, next } = await step;
      refreshing = undefined;
      backoff = retry;
      await sleepUntil(next, { now, sleep: idleSleep, signal: stopping.signal });
    }
  })();

  return {
    async getToken() {
      if (!stopping.signal.aborted && !isValid(current, now()) && refreshing) await refreshing;
      if (stopping.signal.aborted) throw new TokenRefresherError(STOPPED, "stopped");
      if (current && isValid(current, now())) return current.token;
      if (lastError) {
        throw new TokenRefresherError(
          `no valid machine token: the last refresh failed - ${errorMessage(lastError)}`,
          "refresh-failed",
          { cause: lastError },
        );
      }
      throw new TokenRefresherError(
        `no valid machine token: the token expired at ${new Date(current?.expiryMs ?? 0).toISOString()}`,
        "expired",
      );
    },
    async stop() {
      stopping.abort(new Error(STOPPED));
      await loop;
    },
  };
}

function isValid(current: { expiryMs: number } | undefined, now: Date): boolean {
  return current !== undefined && now.getTime() < current.expiryMs;
}

/** A sleep whose timer does not keep the process alive (it rejects with an AbortError when aborted). */
const unrefSleep: Sleep = (ms, signal) => delay(Math.max(0, ms), undefined, { ref: false, signal });
