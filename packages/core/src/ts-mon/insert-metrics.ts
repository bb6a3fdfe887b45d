import type { SecureClientSessionOptions } from "node:http2";
import { isIP } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { errorMessage } from "../common/fs-errors.js";
import { type Logger, silentLogger } from "../common/logger.js";
import {
  MonitoringInsertRequestSchema,
  type MonitoringInsertResponse,
  MonitoringService,
} from "../gen/google/internal/prodx/mon/v1/service_pb.js";
import type { MetricsPayload } from "../gen/ts_mon/proto/metrics_pb.js";
import { ConnectProxyAgent } from "../net/connect-proxy-agent.js";
import { proxyForUrl } from "../net/proxy-from-env.js";
import type { SystemRootLocations } from "../net/trust-roots.js";
import { TrustStore } from "../net/trust-store.js";

/**
 * Gives the `authorization` header of a push, as gRPC per-RPC credentials do: the OAuth2 token's
 * type and the token for ProdX's scope `https://www.googleapis.com/auth/prodxmon`, e.g. `Bearer ya29.…`.
 */
export type AuthorizationFn = (signal: AbortSignal) => Promise<string>;

/** Options of {@link insertMetrics}. */
export interface InsertMetricsOptions {
  /** The endpoint's host: a name, an IPv4 address or an IPv6 address (without brackets). */
  host: string;
  /** The endpoint's port; ts-mon uses 443 when the URL has none. */
  port: number;
  /** Called once per push, inside its deadline; sent as the `authorization` header. */
  authorization: AuthorizationFn;
  /** The push's deadline, sent as `grpc-timeout`; default 10 s, as Go's SendMetrics. */
  timeoutMs?: number;
  /** Ends the push early. */
  signal?: AbortSignal;
  /** HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE, SSL_CERT_DIR, NODE_EXTRA_CA_CERTS; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where the system's trust roots are; default Go's lists for Linux. */
  systemRoots?: SystemRootLocations;
  /** Hears which proxy and trust roots are used (debug). */
  logger?: Logger;
  /** Largest answer accepted; default 1 MiB (an answer is a status, a few bytes). */
  maxResponseBytes?: number;
}

/**
 * Pushes one payload as LUCI's ts-mon does (monitor/grpc.go): a gRPC call
 * `google.internal.prodx.mon.v1.MonitoringService/Insert` over TLS (HTTP/2) to host:port with
 * `MonitoringInsertRequest{payload}` and the `authorization` the caller gives. As grpc-go:
 * the server is verified with the system's trust roots (SSL_CERT_FILE and SSL_CERT_DIR replace
 * them), and HTTPS_PROXY (NO_PROXY honoured, loopback never proxied) is used as an HTTP CONNECT
 * proxy whatever its scheme, in clear text. The whole push, the token included, is bounded by
 * `timeoutMs`; the HTTP/2 connection is closed after it.
 *
 * @returns the service's answer; its `responseStatus` may still say the payload was refused.
 * @throws ConnectError for a failed call; a failed token is `Unauthenticated`.
 */
export async function insertMetrics(
  payload: MetricsPayload,
  options: InsertMetricsOptions,
): Promise<MonitoringInsertResponse> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = pushDeadline(timeoutMs, options.signal);
  try {
    return await push(payload, options, deadline.signal, timeoutMs);
  } finally {
    deadline.clear();
  }
}

async function push(
  payload: MetricsPayload,
  options: InsertMetricsOptions,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<MonitoringInsertResponse> {
  const env = options.env ?? process.env;
  const started = performance.now();
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const proxy = proxyForUrl(new URL(`https://${host}:${options.port}`), env);
  let authorization: string;
  try {
    authorization = await options.authorization(signal);
    // A token from a server or a cache file goes into a header: one that cannot is refused here,
    // without quoting it (fetch's Headers would put the secret in its error).
    if (!HEADER_VALUE.test(authorization)) throw new Error("the token has characters a header cannot carry");
  } catch (err) {
    throw new ConnectError(
      `transport: per-RPC creds failed due to error: ${errorMessage(err)}`,
      Code.Unauthenticated,
    );
  }
  try {
    return await call(payload, options, { signal, timeoutMs, started, authorization, proxy });
  } catch (err) {
    // grpc-go's words for a call that ran out of time, whichever timer noticed it first.
    if ((err instanceof ConnectError && err.code === Code.DeadlineExceeded) || signal.reason === DEADLINE)
      throw new ConnectError("context deadline exceeded", Code.DeadlineExceeded);
    throw err;
  }
}

/** RFC 9110 field-value characters: visible ASCII, space, tab, obs-text. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The abort reason of a push that ran out of its time. */
const DEADLINE = new ConnectError("context deadline exceeded", Code.DeadlineExceeded);

/** The gRPC call itself, through the proxy if one is set, on a connection closed after it. */
async function call(
  payload: MetricsPayload,
  options: InsertMetricsOptions,
  push: {
    signal: AbortSignal;
    timeoutMs: number;
    started: number;
    authorization: string;
    proxy: ReturnType<typeof proxyForUrl>;
  },
): Promise<MonitoringInsertResponse> {
  const { signal, timeoutMs, started, authorization, proxy } = push;
  const logger = options.logger ?? silentLogger;
  const authority = `${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`;
  const baseUrl = `https://${authority}`;
  // The roots load within the push's deadline, and OpenSSL is handed those the server needs.
  const trust = new TrustStore({ env: options.env ?? process.env, system: options.systemRoots, logger });
  const servername = isIP(options.host) ? undefined : options.host;
  const target = { host: options.host, port: options.port, servername, ALPNProtocols: ["h2"] };
  const sessionOptions: SecureClientSessionOptions = {};
  if (proxy) {
    logger.log("debug", `Using the proxy ${proxy.host} for ${authority}`);
    // grpc-go speaks plain HTTP CONNECT to any proxy it is given (no TLS to it, no SOCKS).
    const connectProxy = new URL(`http://${proxy.host}`);
    connectProxy.username = proxy.username;
    connectProxy.password = proxy.password;
    const agent = new ConnectProxyAgent(connectProxy);
    const tunnel = () => agent.tunnel(options.host, options.port, signal);
    // A failure to learn the server's roots shows again, in the usual words, on the real connection.
    await trust.prepare(target, signal, tunnel).catch(() => {});
    const socket = await tunnel().catch((err: unknown) => {
      throw new ConnectError(`connection error: ${errorMessage(err)}`, Code.Unavailable);
    });
    sessionOptions.createConnection = () => trust.connectNow(target, socket);
  } else {
    await trust.prepare(target, signal).catch(() => {});
    sessionOptions.createConnection = () => trust.connectNow(target);
  }
  // connectNow would load unloaded roots at once: a push out of time ends here instead.
  signal.throwIfAborted();
  const sessionManager = new Http2SessionManager(baseUrl, {}, sessionOptions);
  try {
    const transport = createGrpcTransport({
      baseUrl,
      sessionManager,
      readMaxBytes: options.maxResponseBytes ?? 1 << 20,
    });
    return await createClient(MonitoringService, transport).insert(
      create(MonitoringInsertRequestSchema, { payload }),
      {
        signal,
        timeoutMs: Math.max(1, Math.floor(timeoutMs - (performance.now() - started))),
        headers: { authorization },
      },
    );
  } finally {
    sessionManager.abort();
  }
}

/**
 * The push's own deadline, or `outer`'s end if sooner. Not AbortSignal.any over
 * AbortSignal.timeout: on Node 20 nothing holds that timeout signal strongly, so after a garbage
 * collection the deadline never comes (a token endpoint retried for minutes).
 */
function pushDeadline(timeoutMs: number, outer: AbortSignal | undefined) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(DEADLINE), timeoutMs);
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener("abort", forward, { once: true });
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", forward);
    },
  };
}
