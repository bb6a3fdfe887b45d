import type {
  AtomicWriteFs,
  Logger,
  Now,
  Random,
  Sleep,
  TokenMinterClient,
  TokenMinterClientOptions,
} from "@luci-machine-tokend/core";
import type { Monotonic } from "@luci-machine-tokend/core/internal";

/** What a run touches in the world; every field has a real default. */
export interface TokendDeps {
  now?: Now;
  /**
   * Measures total_duration_us and rpc_duration_us (default process.hrtime). With a fake `now`,
   * pass one that follows it to get exact durations.
   */
  monotonic?: Monotonic;
  sleep?: Sleep;
  random?: Random;
  /** Spread retry delays (default true). */
  jitter?: boolean;
  /** Receives every log line as it happens (the CLI prints them to stderr). */
  logger?: Logger;
  /** Cancels the run (SIGINT/SIGTERM): a pending RPC ends with GRPC_ERROR_1. */
  signal?: AbortSignal;
  /** Makes the TokenMinter client; default createTokenMinterClient. */
  createClient?: (backend: string, options: TokenMinterClientOptions) => TokenMinterClient;
  /** File operations of token writes, to inject faults. */
  atomicFs?: Partial<AtomicWriteFs>;
  /** Called once a run decides to refresh, before the refresh's code loads (the bin tunes V8 there). */
  beforeRefresh?: () => void;
}
