import type { Agent } from "node:http";
import type { ClientSessionOptions } from "node:http2";
import { isIP } from "node:net";
import type { Interceptor } from "@connectrpc/connect";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import { type BackendConnectionOptions, type BackendTarget, resolveBackendTarget } from "./backend-target.js";
import { createHttp1Client } from "./http1-client.js";
import { createProxyAgent } from "./proxy-agent.js";
import { TlsAgent } from "./tls-agent.js";

/** How requests reach a backend: its target, and node:http(s) options and a client applying it. */
export interface BackendConnection extends BackendTarget {
  /** Request options for node:http(s): the agent (TLS verified with the target's roots; proxy or keep-alive). */
  nodeOptions: { agent?: Agent };
  /** An HTTP/1.1 client (Connect's `UniversalClientFn`) using `nodeOptions`; it loads the roots within each request's deadline. */
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
  const { trust } = target;
  if (trust === undefined) {
    return { ...target, nodeOptions: {}, httpClient: createHttp1Client() };
  }
  // An agent per client: pooled connections were verified with this client's roots only.
  const agent = target.proxy ? createProxyAgent(target.proxy, trust) : new TlsAgent({ trust });
  const nodeOptions = { agent };
  const client = createHttp1Client(nodeOptions);
  return {
    ...target,
    nodeOptions,
    httpClient: async (req) => {
      await trust.load(req.signal); // here, so the request's deadline and cancellation bound it
      return client(req);
    },
  };
}

/**
 * What an HTTP/2 client (node:http2, for gRPC) needs to reach the backend directly with the
 * target's roots: its TLS connections (made at once, as node:http2 wants them) and an
 * interceptor that loads the roots and learns those the server needs before each call.
 */
export function http2Connection(target: BackendTarget): {
  nodeOptions?: ClientSessionOptions;
  interceptors: Interceptor[];
} {
  const { trust } = target;
  if (trust === undefined) return { interceptors: [] };
  const url = new URL(target.baseUrl);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const tls = {
    host,
    port: Number(url.port) || 443,
    servername: isIP(host) ? undefined : host,
    ALPNProtocols: ["h2"],
  };
  return {
    nodeOptions: { createConnection: () => trust.connectNow(tls) },
    interceptors: [
      (next) => async (req) => {
        await trust.prepare(tls, req.signal);
        return next(req);
      },
    ],
  };
}
