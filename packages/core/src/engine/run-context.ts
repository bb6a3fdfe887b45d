import type { Monotonic, Now } from "../common/clock.js";
import type { Logger } from "../common/logger.js";

/** What the steps of one run share: the settings' defaults applied, and the run's deadline. */
export interface RunContext {
  now: Now;
  logger: Logger;
  monotonic: Monotonic;
  timeoutMs: number;
  /** Start + timeoutMs: the lock wait, the RPC and its retries, and the writes end here. */
  deadline: Date;
}
