import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { type CommonTransportOptions, validateReadWriteMaxBytes } from "@connectrpc/connect/protocol";
import { createTransport as createConnectProtocolTransport } from "@connectrpc/connect/protocol-connect";
import { createTransport as createGrpcWebProtocolTransport } from "@connectrpc/connect/protocol-grpc-web";
import { compressionBrotli, compressionGzip, createGrpcTransport } from "@connectrpc/connect-node";
import { TokenMinter } from "./gen/tokenserver/minter/token_minter_pb.js";
import { createBackendConnection } from "./net/backend-connection.js";
import { type BackendTarget, resolveRedirectTarget } from "./net/backend-target.js";
import { connectionErrorHints } from "./net/connection-error-hints.js";
import { followRedirects } from "./net/follow-redirects.js";
import { createPrpcTransport } from "./protocol-prpc/transport.js";
import { MAX_RESPONSE_BYTES, responseSizeCap } from "./response-size-cap.js";
import type { TokenMinterClientOptions } from "./token-minter-client.js";

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
  const { baseUrl, nodeOptions } = connection;
  const protocol = options.protocol ?? "prpc";
  // Every protocol refuses replies over pRPC's cap, at once and in the same words.
  const interceptors = [
    connectionErrorHints(connection),
    ...(options.interceptors ?? []),
    responseSizeCap(protocol),
  ];
  const readMaxBytes = MAX_RESPONSE_BYTES;
  const httpClient = followRedirects({
    clientFor: (url) =>
      url.origin === new URL(baseUrl).origin
        ? connection.httpClient
        : createBackendConnection(resolveRedirectTarget(url, target, options)).httpClient,
    logger: options.logger,
  });
  // connect-node's createConnectTransport and createGrpcWebTransport with their defaults, but
  // with our HTTP client, the one that follows redirects.
  const http1: CommonTransportOptions = {
    baseUrl,
    httpClient,
    interceptors,
    useBinaryFormat: true,
    acceptCompression: [compressionGzip, compressionBrotli],
    sendCompression: null,
    ...validateReadWriteMaxBytes(readMaxBytes, undefined, undefined),
  };
  switch (protocol) {
    case "prpc":
      return createPrpcTransport({
        baseUrl,
        interceptors,
        logger: options.logger,
        httpClient: options.httpClient ?? httpClient,
      });
    case "connect":
      return createConnectProtocolTransport(http1);
    case "grpc-web":
      return createGrpcWebProtocolTransport(http1);
    case "grpc":
      return createGrpcTransport({
        baseUrl,
        nodeOptions: nodeOptions.secureContext && { secureContext: nodeOptions.secureContext },
        interceptors,
        readMaxBytes,
      });
  }
}

/** The buf-generated TokenMinter client over {@link createTokenMinterTransport}. */
export function connectTokenMinter(
  target: BackendTarget,
  options: TokenMinterClientOptions,
): Client<typeof TokenMinter> {
  return createClient(TokenMinter, createTokenMinterTransport(target, options));
}
