import type { Now, Random, Sleep } from "../common/clock.js";
import type { Logger } from "../common/logger.js";
import type { TokenMinterClient } from "../mint/mint-token.js";
import type { Protocol } from "../mint/protocols.js";
import type { UpdateReason } from "../token-file/outcome.js";

/**
 * Options of startTokenRefresher (here, so that the refresh steps take their types from it): the
 * machine's certificate and key, each as a file or as PEM, and the rest.
 */
export type TokenRefresherOptions = TokenRefresherSettings & MachineCertificate & MachinePrivateKey;

/**
 * The machine's certificate (PEM; its first block is the machine's, a chain may follow): a file,
 * or the PEM itself.
 */
export type MachineCertificate =
  | {
      /** Path of the certificate file, as `-cert-pem`. Read again at every refresh. */
      certFile: string;
      cert?: undefined;
      certPem?: undefined;
    }
  | {
      /** The certificate as PEM text or bytes (kept in a secret manager, say). */
      cert: string | Uint8Array;
      certFile?: undefined;
      certPem?: undefined;
    }
  | {
      /**
       * @deprecated Use `certFile`, the same path under a name that says so (`certPem` read as
       * PEM text, which this option refuses). To be removed in the next major version.
       */
      certPem: string;
      certFile?: undefined;
      cert?: undefined;
    };

/**
 * The machine's RSA private key (PEM: PKCS#1 or PKCS#8, maybe encrypted): a file, or the PEM
 * itself. Neither is ever shown in an error or a log line.
 */
export type MachinePrivateKey =
  | {
      /** Path of the key file, as `-pkey-pem`. Read again at every refresh. */
      keyFile: string;
      key?: undefined;
      keyPem?: undefined;
    }
  | {
      /** The key as PEM text or bytes (kept in a secret manager, say). */
      key: string | Uint8Array;
      keyFile?: undefined;
      keyPem?: undefined;
    }
  | {
      /**
       * @deprecated Use `keyFile`, the same path under a name that says so (`keyPem` read as PEM
       * text, which this option refuses). To be removed in the next major version.
       */
      keyPem: string;
      keyFile?: undefined;
      key?: undefined;
    };

/** The options of startTokenRefresher besides the certificate and the key. */
export interface TokenRefresherSettings {
  /** The token server as `-backend` takes it: `host[:port]` (plain HTTP only for loopback). */
  backend: string;
  /** Passphrase of an encrypted key. */
  keyPassphrase?: string;
  /**
   * The token file to keep, as `-token-file`: read at every refresh (a cron tokend may have
   * refreshed it, and then no RPC is made) and written after a mint, under the same run lock as
   * the CLI. Without it the token lives in memory only.
   */
  tokenFile?: string;
  /** Mode of a new token file before the umask. Default 0o644, as Go tokend. */
  tokenFileMode?: number;
  /** Wire protocol. Default "prpc", as Go's client. */
  protocol?: Protocol;
  /** Extra trust roots (PEM file), as `-ca-bundle`. */
  caBundle?: string;
  /** Proxy and trust-root variables (see createTokenMinterClient). Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Deadline of one refresh, retries included, as `-timeout`. Default 60 s. */
  timeoutMs?: number;
  /** Longest wait before trying again after failed refreshes (30 s, 1 min, … up to this). Default 10 min. */
  maxRetryDelayMs?: number;
  /** Called when the token changes: minted, or found refreshed in the token file. */
  onRefresh?: (token: string, info: TokenRefreshInfo) => void;
  /** Called when a refresh fails; the refresher tries again at `retryAt`. */
  onError?: (error: Error, retryAt: Date) => void;
  /** Receives what the refresher does (never the token). Default: silent. */
  logger?: Logger;
  /** The TokenMinter client; default createTokenMinterClient(backend, { protocol, caBundle, env, logger }). */
  client?: TokenMinterClient;
  /** Spread retry delays (default true); false gives exact delays. */
  jitter?: boolean;
  now?: Now;
  /** Every wait; default real timers (unref'd between refreshes, see startTokenRefresher). */
  sleep?: Sleep;
  random?: Random;
}

/** What {@link TokenRefresherOptions.onRefresh} is told besides the token. */
export interface TokenRefreshInfo {
  /** Why the refresh looked at the token; TOKEN_IS_GOOD when it was taken from the token file. */
  reason: UpdateReason;
  /** True when the token was minted by this refresher. */
  minted: boolean;
  /** When the token expires (the server's clock). */
  expiry: Date;
  /** When the refresher looks at the token again. */
  nextRefresh: Date;
}
