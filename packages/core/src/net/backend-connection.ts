import type { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import { createNodeHttpClient } from "@connectrpc/connect-node";
import { backendBaseUrl } from "../backend-url.js";
import { type Logger, silentLogger } from "../logger.js";
import { createProxyAgent } from "./proxy-agent.js";
import { proxyForUrl } from "./proxy-from-env.js";
import { loadTrustRoots, readCaBundle, type SystemRootLocations, type TrustRoots } from "./trust-roots.js";

/** Options of {@link createBackendConnection}. */
export interface BackendConnectionOptions {
  /** `-ca-bundle FILE`: extra trust roots (PEM). */
  caBundle?: string;
  /** Extra trust roots (PEM text). */
  extraCaPems?: readonly string[];
  /**
   * The environment: HTTPS_PROXY, HTTP_PROXY, NO_PROXY (and lower case), SSL_CERT_FILE,
   * SSL_CERT_DIR and NODE_EXTRA_CA_CERTS are read. Default `process.env`; `{}` ignores them all.
   */
  env?: Record<string, string | undefined>;
  /** Where the system's trust roots are; default Go's Linux lists (see {@link loadTrustRoots}). */
  systemRoots?: SystemRootLocations;
  logger?: Logger;
}

/** How requests reach a backend: its URL, the proxy and trust roots in use, and node:http(s) options applying them. */
export interface BackendConnection {
  /** `https://host[:port]`, or `http://` for a loopback backend (Go's rule). */
  baseUrl: string;
  /** The proxy requests go through, from the environment; undefined for a direct connection. */
  proxy?: URL;
  /** The roots server certificates are verified with; undefined for a plain-HTTP backend. */
  trustRoots?: TrustRoots;
  /** Request options for node:http(s): the agent (proxy or keep-alive) and the TLS context. */
  nodeOptions: { agent?: Agent; secureContext?: SecureContext };
  /** An HTTP/1.1 client (Connect's `UniversalClientFn`) using `nodeOptions`. */
  httpClient: UniversalClientFn;
}

/**
 * Sets up the connection to a `-backend` as Go's HTTP client would: HTTPS with the system's trust
 * roots plus `caBundle` (see {@link loadTrustRoots}), through the proxy the environment names
 * (see {@link proxyForUrl}: http, https and socks5 proxies; loopback never). A plain-HTTP loopback
 * backend needs neither, so only `caBundle` is read for it, to report a bad one. The trust roots are read and parsed once,
 * here (about 50 ms for a distribution's bundle), and shared by every connection of the client.
 *
 * @throws Error for a bad `-backend`, a bad proxy address in the environment, or an unreadable `caBundle`.
 */
export function createBackendConnection(
  backend: string,
  options: BackendConnectionOptions = {},
): BackendConnection {
  const baseUrl = backendBaseUrl(backend);
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const url = new URL(baseUrl);
  if (url.protocol === "http:") {
    // Only loopback backends are plain HTTP, and loopback is never proxied. A bad -ca-bundle is
    // still an error: the flag names a file that is not there to be used.
    if (options.caBundle) readCaBundle(options.caBundle);
    return { baseUrl, nodeOptions: {}, httpClient: createNodeHttpClient({ httpVersion: "1.1" }) };
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
  const secureContext = createSecureContext({ ca: trustRoots.ca });
  // An agent per client: pooled connections were verified with this client's roots only.
  const agent = proxy ? createProxyAgent(proxy, secureContext) : new HttpsAgent({ keepAlive: true });
  const nodeOptions = { agent, secureContext };
  return {
    baseUrl,
    proxy,
    trustRoots,
    nodeOptions,
    httpClient: createNodeHttpClient({ httpVersion: "1.1", nodeOptions }),
  };
}
