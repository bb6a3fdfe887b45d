import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { TokenMinter } from "../gen/tokenserver/minter/token_minter_pb.js";
import { createBackendConnection, http2Connection } from "../net/backend-connection.js";
import { type BackendTarget, resolveRedirectTarget } from "../net/backend-target.js";
import { connectionErrorHints } from "../net/connection-error-hints.js";
import { followRedirects } from "../net/follow-redirects.js";
import { createPrpcTransport } from "../protocol-prpc/transport.js";
import { MAX_RESPONSE_BYTES, responseSizeCap } from "./response-size-cap.js";
import type { TokenMinterClientOptions } from "./token-minter-client-options.js";

/**
 * A Connect transport to a resolved backend (see resolveBackendTarget) in the protocol of
 * `options`: the connection, the hints on setup mistakes, the interceptors, the size cap.
 * Over HTTP/1.1 (pRPC, Connect, gRPC-web) redirects are followed as Go's client follows them
 * (see followRedirects); gRPC has none.
 */
export function createTokenMinterTransport(
  target: BackendTarget,
  options: TokenMinterClientOptions,
): Transport {
  const connection = createBackendConnection(target);
  const { baseUrl } = connection;
  const protocol = options.protocol ?? "prpc";
  // gRPC's HTTP/2 connections take the trust roots their own way; the others through the agent.
  const http2 = protocol === "grpc" ? http2Connection(connection) : undefined;
  // Every protocol refuses replies over pRPC's cap, at once and in the same words.
  const interceptors = [
    connectionErrorHints(connection),
    ...(http2?.interceptors ?? []),
    ...(options.interceptors ?? []),
    responseSizeCap(protocol),
  ];
  const httpClient = followRedirects({
    clientFor: (url) =>
      url.origin === new URL(baseUrl).origin
        ? connection.httpClient
        : createBackendConnection(resolveRedirectTarget(url, target, options)).httpClient,
    logger: options.logger,
  });
  if (protocol === "prpc") {
    return createPrpcTransport({
      baseUrl,
      interceptors,
      logger: options.logger,
      httpClient: options.httpClient ?? httpClient,
    });
  }
  const made = import("./connect-node-transport.js").then((m) =>
    m.createConnectNodeTransport(protocol, {
      baseUrl,
      httpClient,
      http2Options: http2?.nodeOptions,
      interceptors,
      readMaxBytes: MAX_RESPONSE_BYTES,
    }),
  );
  made.catch(() => {}); // a failed load is reported by the call that awaits it
  return {
    unary: async (...args) => (await made).unary(...args),
    stream: async (...args) => (await made).stream(...args),
  };
}

/** The buf-generated TokenMinter client over {@link createTokenMinterTransport}. */
export function connectTokenMinter(
  target: BackendTarget,
  options: TokenMinterClientOptions,
): Client<typeof TokenMinter> {
  return createClient(TokenMinter, createTokenMinterTransport(target, options));
}
