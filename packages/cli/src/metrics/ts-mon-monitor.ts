import type { Logger } from "@luci-machine-tokend/core";
import type { AuthorizationFn } from "@luci-machine-tokend/core/ts-mon";
import type { RootLabel } from "./ts-mon-target.js";

/** Where metrics go, decided once before the first run (Go: tsmon.InitializeFromFlags). */
export type TsMonMonitor =
  | { kind: "file"; path: string; labels: RootLabel[] }
  | { kind: "prodx"; host: string; port: number; authorization: AuthorizationFn; labels: RootLabel[] };

/** What a flush needs besides the monitor: where logs go, the clock, the environment. */
export interface TsMonSendDeps {
  logger: Logger;
  now: () => Date;
  /** Writes text to stderr as it is (the multi-line dump of a `file://` endpoint). */
  writeRaw?: (text: string) => void;
  /** HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE, SSL_CERT_DIR; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** The push's deadline; default 10 s, as Go's SendMetrics. */
  timeoutMs?: number;
}
