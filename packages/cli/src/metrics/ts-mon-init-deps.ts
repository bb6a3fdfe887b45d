import type { AuthorizationFn } from "@luci-machine-tokend/core/ts-mon";

/** The ts-mon credentials settings: `-ts-mon-credentials`/`credentials`, `-ts-mon-act-as`/`act_as`. */
export interface TsMonAuthSettings {
  /** A service-account JSON key, `:gce`, or "" for none. */
  credentials: string;
  /** A service account to act as, or "". */
  actAs: string;
}

/**
 * Makes the ProdX token source at start-up, as Go's
 * `auth.NewAuthenticator(…, SilentLogin, …).PerRPCCredentials()` does: it throws Go's error when
 * no token can be had without a person (`interactive login is required`), which leaves ts-mon off.
 * The token itself is asked for at each push, within its deadline, as the `authorization` header.
 */
export type TsMonAuth = (settings: TsMonAuthSettings) => AuthorizationFn | Promise<AuthorizationFn>;

/** What ts-mon's set-up touches; all optional. */
export interface TsMonInitDeps {
  /** The OS host name (target defaults); default os.hostname(). */
  hostname?: () => string;
  /**
   * Makes the ProdX token source; default luci-go's authenticator as Go tokend has it (service
   * account key, `:gce`, `act_as`, the token cache in `$HOME/.config/chrome_infra/auth`).
   */
  auth?: TsMonAuth;
  /**
   * Read by the token source and the push: HOME, GCE_METADATA_HOST, HTTPS_PROXY, NO_PROXY,
   * SSL_CERT_FILE, SSL_CERT_DIR; default `process.env`.
   */
  env?: Record<string, string | undefined>;
}
