import { backendBaseUrl } from "../backend-url.js";
import { silentLogger } from "../logger.js";
import { proxyForUrl } from "./proxy-from-env.js";
import {
  loadTrustRoots,
  readCaBundle,
  type SystemRootLocations,
  type TrustRootOptions,
  type TrustRoots,
} from "./trust-roots.js";

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
  /** The roots server certificates are verified with; undefined for a plain-HTTP backend. */
  trustRoots?: TrustRoots;
}

/**
 * Decides how to reach a `-backend` as Go's HTTP client would: HTTPS with the system's trust roots
 * plus `caBundle` (see {@link loadTrustRoots}), through the proxy the environment names (see
 * {@link proxyForUrl}: http, https and socks5 proxies; loopback never). A plain-HTTP loopback
 * backend needs neither, so only `caBundle` is read for it, to report a bad one. The trust roots
 * are read and parsed here, once (about 50 ms for a distribution's bundle). Every mistake of the
 * setup surfaces here; opening connections (createBackendConnection) cannot fail.
 *
 * @throws Error for a bad `-backend`, a bad proxy address in the environment, or an unreadable `caBundle`.
 */
export function resolveBackendTarget(backend: string, options: BackendConnectionOptions = {}): BackendTarget {
  const baseUrl = backendBaseUrl(backend);
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const url = new URL(baseUrl);
  if (url.protocol === "http:") {
    // Only loopback backends are plain HTTP, and loopback is never proxied. A bad -ca-bundle is
    // still an error: the flag names a file that is not there to be used.
    if (options.caBundle) readCaBundle(options.caBundle);
    return { baseUrl };
  }
  const proxy = proxyForUrl(url, env);
  if (proxy) logger.log("debug", `Using the proxy ${proxy.protocol}//${proxy.host} for ${backend}`);
  const trustRoots = loadTrustRoots({
    caBundle: options.caBundle,
    extraCaPems: options.extraCaPems,
    env,
    system: options.systemRoots,
    logger,
  });
  logger.log("debug", `Trust roots: ${trustRoots.ca.length} from ${trustRoots.sources.join(", ")}`);
  return { baseUrl, proxy, trustRoots };
}

/**
 * How to reach `url`, where a redirect from `from` leads: HTTPS with `from`'s trust roots (read
 * now when `from` is a plain-HTTP loopback backend that had none), through the proxy the
 * environment names for that host; plain HTTP as it is (followRedirects allows it for loopback only).
 *
 * @throws Error for a bad proxy address in the environment or an unreadable `caBundle`.
 */
export function resolveRedirectTarget(
  url: URL,
  from: BackendTarget,
  options: BackendConnectionOptions = {},
): BackendTarget {
  const baseUrl = url.origin;
  if (url.protocol === "http:") return { baseUrl };
  const env = options.env ?? process.env;
  const trustRoots =
    from.trustRoots ??
    loadTrustRoots({
      caBundle: options.caBundle,
      extraCaPems: options.extraCaPems,
      env,
      system: options.systemRoots,
      logger: options.logger ?? silentLogger,
    });
  return { baseUrl, proxy: proxyForUrl(url, env), trustRoots };
}
