import { silentLogger } from "../common/logger.js";
import { backendBaseUrl } from "./backend-url.js";
import { proxyForUrl } from "./proxy-from-env.js";
import { readCaBundle, type SystemRootLocations, type TrustRootOptions } from "./trust-roots.js";
import { TrustStore } from "./trust-store.js";

/** How to connect to a backend: extra trust roots, the environment (see createTokenMinterClient). */
export interface BackendConnectionOptions
  extends Pick<TrustRootOptions, "caBundle" | "extraCaPems" | "logger"> {
  /**
   * The environment: HTTPS_PROXY, HTTP_PROXY, NO_PROXY (and lower case), SSL_CERT_FILE,
   * SSL_CERT_DIR and NODE_EXTRA_CA_CERTS are read. Default `process.env`; `{}` ignores them all.
   */
  env?: Record<string, string | undefined>;
  /** Where the system's trust roots are; default Go's lists for Linux (root_linux.go). */
  systemRoots?: SystemRootLocations;
}

/** Where requests to a backend go and how its certificate is checked. */
export interface BackendTarget {
  /** `https://host[:port]`, or `http://` for a loopback backend (Go's rule). */
  baseUrl: string;
  /** The proxy requests go through, from the environment; undefined for a direct connection. */
  proxy?: URL;
  /** The roots server certificates are verified with (loaded at the first connection); undefined for a plain-HTTP backend. */
  trust?: TrustStore;
}

/**
 * Decides how to reach a `-backend` as Go's HTTP client would: HTTPS with the system's trust roots
 * plus `caBundle` (see loadTrustRoots), through the proxy the environment names (see
 * {@link proxyForUrl}: http, https and socks5 proxies; loopback never). A plain-HTTP loopback
 * backend needs neither. `caBundle` is read here to report a bad one; the system's roots are read
 * at the first connection, within its deadline (see TrustStore). Every mistake of the setup
 * surfaces here; opening connections (createBackendConnection) cannot fail.
 *
 * @throws Error for a bad `-backend`, a bad proxy address in the environment, or an unreadable `caBundle`.
 */
export function resolveBackendTarget(backend: string, options: BackendConnectionOptions = {}): BackendTarget {
  const baseUrl = backendBaseUrl(backend);
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const url = new URL(baseUrl);
  // A bad -ca-bundle is an error even for a plain-HTTP backend (only loopback ones are, never
  // proxied): the flag names a file that is not there to be used.
  if (options.caBundle) readCaBundle(options.caBundle);
  if (url.protocol === "http:") return { baseUrl };
  const proxy = proxyForUrl(url, env);
  if (proxy) logger.log("debug", `Using the proxy ${proxy.protocol}//${proxy.host} for ${backend}`);
  const trust = new TrustStore({
    caBundle: options.caBundle,
    extraCaPems: options.extraCaPems,
    env,
    system: options.systemRoots,
    logger,
  });
  return { baseUrl, proxy, trust };
}

/**
 * How to reach `url`, where a redirect from `from` leads: HTTPS with `from`'s trust roots (a
 * store of its own, loaded at its first connection, when `from` is a plain-HTTP loopback backend
 * that had none), through the proxy the environment names for that host; plain HTTP as it is
 * (followRedirects allows it for loopback only).
 *
 * @throws Error for a bad proxy address in the environment.
 */
export function resolveRedirectTarget(
  url: URL,
  from: BackendTarget,
  options: BackendConnectionOptions = {},
): BackendTarget {
  const baseUrl = url.origin;
  if (url.protocol === "http:") return { baseUrl };
  const env = options.env ?? process.env;
  const trust =
    from.trust ??
    new TrustStore({
      caBundle: options.caBundle,
      extraCaPems: options.extraCaPems,
      env,
      system: options.systemRoots,
      logger: options.logger ?? silentLogger,
    });
  return { baseUrl, proxy: proxyForUrl(url, env), trust };
}
