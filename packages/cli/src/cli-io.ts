import type { TsMonInitDeps } from "./metrics/ts-mon.js";
import type { TokendDeps } from "./run-deps.js";

/** Where the CLI writes and what it may be told from outside; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborted on the first SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Clock, sleep, randomness and faults for the run. */
  deps?: Omit<TokendDeps, "logger" | "signal">;
  /** Subscribes to SIGHUP (daemon mode: refresh now); returns an unsubscribe function. */
  onHangup?: (listener: () => void) => () => void;
  /** Told the health server's address once it listens (daemon mode). */
  onListening?: (address: string) => void;
  /** ts-mon's host name and ProdX token source (the OAuth seam); defaults are the real ones. */
  tsMon?: TsMonInitDeps;
}
