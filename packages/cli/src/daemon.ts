import type { Logger, Random } from "@luci-machine-tokend/core";
import {
  type Backoff,
  createBackoff,
  nextRefreshAt,
  sleepUntil,
  systemNow,
  systemSleep,
} from "@luci-machine-tokend/core/internal";
import type { CliOptions } from "./cli-options.js";
import { type HealthServer, type HealthState, startHealthServer } from "./health-server.js";
import { type ReportOutputDeps, writeReportOutputs } from "./report-outputs.js";
import type { TokendDeps } from "./run-deps.js";
import { exitCodeOf, runTokend } from "./run-tokend.js";

/** Outside events and world access of the daemon; tests inject all of them. */
export interface DaemonDeps extends Omit<TokendDeps, "signal" | "logger"> {
  logger: Logger;
  /** Aborted on SIGTERM/SIGINT: the daemon stops (exit 0). */
  signal: AbortSignal;
  /** Subscribes to "refresh now" requests (SIGHUP); returns an unsubscribe function. */
  onHangup?: (listener: () => void) => () => void;
  /** Tells who listens where once the health server is up. */
  onListening?: (address: string) => void;
  /** The ts-mon monitor (set up once, before the first run) and how reports are written. */
  outputs?: ReportOutputDeps;
}

/**
 * `-daemon`: one long-lived process instead of a cron line. Runs, writes the status outputs, then
 * sleeps until the token's next_update (plus a little jitter), or retries with backoff after a
 * failure; SIGHUP refreshes at once (as -force-refresh); SIGTERM ends it with exit 0.
 */
export async function runDaemon(options: CliOptions, deps: DaemonDeps): Promise<number> {
  const now = deps.now ?? systemNow;
  const sleep = deps.sleep ?? systemSleep;
  const random = deps.random ?? Math.random;
  const state: HealthState = { runsByOutcome: new Map() };
  let health: HealthServer | undefined;
  if (options.listenHealth) {
    health = await startHealthServer(options.listenHealth, options.tokenFile, state, now);
    deps.logger.log("info", `Serving /healthz and /metrics on ${health.address}`);
    deps.onListening?.(health.address);
  }
  let forceNext = false;
  let wake: AbortController | undefined;
  const unsubscribe = deps.onHangup?.(() => {
    deps.logger.log("info", "SIGHUP: refreshing the token now");
    forceNext = true;
    wake?.abort();
  });
  let backoff = createRetryBackoff(random);
  try {
    while (!deps.signal.aborted) {
      const runOptions = forceNext ? { ...options, forceRefresh: true } : options;
      forceNext = false;
      // Made before the run, so a SIGHUP during it cuts short the sleep that follows.
      wake = new AbortController();
      const report = await runTokend(runOptions, { ...deps, signal: deps.signal });
      await writeReportOutputs(report, options, deps.logger, now, deps.outputs);
      state.lastReport = report;
      state.lastFinished = now();
      const outcome = report.updateOutcome ?? "";
      state.runsByOutcome.set(outcome, (state.runsByOutcome.get(outcome) ?? 0) + 1);
      const ok = exitCodeOf(report) === 0;
      if (ok) backoff = createRetryBackoff(random);
      const target = ok
        ? nextRefreshAt(report.tokenNextUpdateTs ?? 0, now(), random)
        : new Date(now().getTime() + backoff.next());
      if (forceNext) continue;
      deps.logger.log("info", `Next run at ${target.toISOString()}`);
      await sleepUntil(target, { now, sleep, signal: AbortSignal.any([deps.signal, wake.signal]) });
    }
  } finally {
    unsubscribe?.();
    await health?.close();
  }
  deps.logger.log("info", "Stopping");
  return 0;
}

/** The daemon's schedule after a good run (core's, shared with startTokenRefresher). */
export { nextRefreshAt };

/**
 * Waits after consecutive failed runs: 30 s, 1 min, 2 min, … up to 10 min, each spread over
 * 0.5–1.5× (core's backoff, as the retries of one run use, with longer steps).
 */
export function createRetryBackoff(random: Random): Backoff {
  return createBackoff({ initialMs: 30_000, multiplier: 2, maxMs: 10 * 60_000, random });
}
