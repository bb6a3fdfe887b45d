import type { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import { createNodeHttpClient } from "@connectrpc/connect-node";
import { type BackendConnectionOptions, type BackendTarget, resolveBackendTarget } from "./backend-target.js";
import { createProxyAgent } from "./proxy-agent.js";

/** How requests reach a backend: its target, and node:http(s) options and a client applying it. */
export interface BackendConnection extends BackendTarget {
  /** Request options for node:http(s): the agent (proxy or keep-alive) and the TLS context. */
  nodeOptions: { agent?: Agent; secureContext?: SecureContext };
  /** An HTTP/1.1 client (Connect's `UniversalClientFn`) using `nodeOptions`. */
  httpClient: UniversalClientFn;
}

/**
 * Sets up the connection to a `-backend` as Go's HTTP client would (see
 * `resolveBackendTarget`); a resolved `target` is used as it is.
 *
 * @throws Error for a bad `-backend`, a bad proxy address in the environment, or an unreadable `caBundle`.
 */
export function createBackendConnection(
  backend: string | BackendTarget,
  options: BackendConnectionOptions = {},
): BackendConnection {
  const target = typeof backend === "string" ? resolveBackendTarget(backend, options) : backend;
  if (target.trustRoots === undefined) {
    return { ...target, nodeOptions: {}, httpClient: createNodeHttpClient({ httpVersion: "1.1" }) };
  }
  const secureContext = createSecureContext({ ca: target.trustRoots.ca });
  // An agent per client: pooled connections were verified with this client's roots only.
  const agent = target.proxy
    ? createProxyAgent(target.proxy, secureContext)
    : new HttpsAgent({ keepAlive: true });
  const nodeOptions = { agent, secureContext };
  return { ...target, nodeOptions, httpClient: createNodeHttpClient({ httpVersion: "1.1", nodeOptions }) };
}
