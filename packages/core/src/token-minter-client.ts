import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { TokenMinter } from "./gen/tokenserver/minter/token_minter_pb.js";
import type { Logger } from "./logger.js";
import { type BackendConnectionOptions, createBackendConnection } from "./net/backend-connection.js";
import { connectionErrorHints } from "./net/connection-error-hints.js";
import { createPrpcTransport } from "./protocol-prpc/transport.js";
import type { Protocol } from "./protocols.js";
import { MAX_RESPONSE_BYTES, responseSizeCap } from "./response-size-cap.js";

/** Options of {@link createTokenMinterClient}. */
export interface TokenMinterClientOptions extends BackendConnectionOptions {
  /** Default "prpc", as Go's client. */
  protocol?: Protocol;
  /** Replaces the HTTP client of the pRPC transport (tests); the connection setup is then not used. */
  httpClient?: UniversalClientFn;
  interceptors?: Interceptor[];
  logger?: Logger;
}

/**
 * A Connect transport for a backend and protocol, with the connection set up as Go's client sets
 * it up (see {@link createTokenMinterClient}).
 *
 * @throws Error for a bad `-backend`, a bad proxy address in the environment, an unreadable
 * `caBundle`, or a proxy with `protocol: "grpc"` (HTTP/2 is not sent through proxies).
 */
export function createTokenMinterTransport(
  backend: string,
  options: TokenMinterClientOptions = {},
): Transport {
  const connection = createBackendConnection(backend, options);
  const { baseUrl, nodeOptions } = connection;
  const protocol = options.protocol ?? "prpc";
  // Every protocol refuses replies over pRPC's cap, at once and in the same words.
  const interceptors = [
    connectionErrorHints(connection),
    ...(options.interceptors ?? []),
    responseSizeCap(protocol),
  ];
  const readMaxBytes = MAX_RESPONSE_BYTES;
  switch (protocol) {
    case "prpc":
      return createPrpcTransport({
        baseUrl,
        interceptors,
        logger: options.logger,
        httpClient: options.httpClient ?? connection.httpClient,
      });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions, interceptors, readMaxBytes });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions, interceptors, readMaxBytes });
    case "grpc":
      if (connection.proxy) {
        throw new Error(
          `-protocol grpc cannot go through the proxy ${connection.proxy.host} (HTTP/2): use prpc, connect or grpc-web, or exclude the backend with NO_PROXY`,
        );
      }
      return createGrpcTransport({
        baseUrl,
        nodeOptions: nodeOptions.secureContext && { secureContext: nodeOptions.secureContext },
        interceptors,
        readMaxBytes,
      });
  }
}

/**
 * The buf-generated TokenMinter client for a `-backend` value (`host[:port]`), over pRPC unless
 * told otherwise, connected as Go's client connects:
 * - plain HTTP for `localhost:`, `127.0.0.1:` and `[::1]:` backends, HTTPS for all others;
 * - HTTPS verified with the system's trust roots (SSL_CERT_FILE and SSL_CERT_DIR replace them;
 *   Node's bundled roots where the system has none) plus `caBundle`, NODE_EXTRA_CA_CERTS and
 *   `extraCaPems`, read once when the client is made;
 * - through the proxy HTTPS_PROXY names (`http://`, `https://`, `socks5://`), unless NO_PROXY
 *   excludes the backend; loopback is never proxied.
 * The environment is `options.env`, default `process.env`. Connection errors that come from a
 * setup mistake (an untrusted certificate, plain HTTP where TLS was expected) say what to fix.
 *
 * @throws Error for a bad `-backend`, a bad proxy address in the environment or an unreadable
 * `caBundle` (see {@link createTokenMinterTransport}).
 */
export function createTokenMinterClient(
  backend: string,
  options: TokenMinterClientOptions = {},
): Client<typeof TokenMinter> {
  return createClient(TokenMinter, createTokenMinterTransport(backend, options));
}
