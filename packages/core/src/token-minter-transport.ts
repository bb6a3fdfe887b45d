import { type Client, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { TokenMinter } from "./gen/tokenserver/minter/token_minter_pb.js";
import { createBackendConnection } from "./net/backend-connection.js";
import type { BackendTarget } from "./net/backend-target.js";
import { connectionErrorHints } from "./net/connection-error-hints.js";
import { createPrpcTransport } from "./protocol-prpc/transport.js";
import { MAX_RESPONSE_BYTES, responseSizeCap } from "./response-size-cap.js";
import type { TokenMinterClientOptions } from "./token-minter-client.js";

/**
 * A Connect transport to a resolved backend (see resolveBackendTarget) in the protocol of
 * `options`: the connection, the hints on setup mistakes, the interceptors, the size cap.
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
