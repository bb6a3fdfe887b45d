import type { Agent } from "node:http";
import { rootCertificates } from "node:tls";
import { type Client, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  createNodeHttpClient,
} from "@connectrpc/connect-node";
import { backendBaseUrl } from "./backend-url.js";
import { TokenMinter } from "./gen/tokenserver/minter/token_minter_pb.js";
import type { Logger } from "./logger.js";
import { createPrpcTransport } from "./protocol-prpc/transport.js";
import type { Protocol } from "./protocols.js";
import { MAX_RESPONSE_BYTES, responseSizeCap } from "./response-size-cap.js";

/** Options of {@link createTokenMinterClient}. */
export interface TokenMinterClientOptions {
  /** Default "prpc". */
  protocol?: Protocol;
  /** Extra trust roots (PEM) added to Node's bundled ones for HTTPS backends. */
  extraCaPems?: string[];
  /** HTTP agent for HTTP/1.1 requests (a proxy agent, keep-alive settings). */
  agent?: Agent;
  /** Replaces the HTTP client of the pRPC transport (tests, proxies). */
  httpClient?: UniversalClientFn;
  interceptors?: Interceptor[];
  logger?: Logger;
}

/** A Connect transport for a backend and protocol. */
export function createTokenMinterTransport(
  backend: string,
  options: TokenMinterClientOptions = {},
): Transport {
  const baseUrl = backendBaseUrl(backend);
  const protocol = options.protocol ?? "prpc";
  // Every protocol refuses replies over pRPC's cap, at once and in the same words.
  const interceptors = [...(options.interceptors ?? []), responseSizeCap(protocol)];
  const readMaxBytes = MAX_RESPONSE_BYTES;
  // Node replaces its roots when `ca` is given, so extra roots are appended to the bundled ones.
  const ca = options.extraCaPems?.length ? [...rootCertificates, ...options.extraCaPems] : undefined;
  const nodeOptions = { ...(ca && { ca }), ...(options.agent && { agent: options.agent }) };
  switch (protocol) {
    case "prpc":
      return createPrpcTransport({
        baseUrl,
        interceptors,
        logger: options.logger,
        httpClient: options.httpClient ?? createNodeHttpClient({ httpVersion: "1.1", nodeOptions }),
      });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions, interceptors, readMaxBytes });
    case "grpc":
      return createGrpcTransport({ baseUrl, nodeOptions: ca && { ca }, interceptors, readMaxBytes });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions, interceptors, readMaxBytes });
  }
}

/** The buf-generated TokenMinter client for a `-backend` value, over pRPC unless told otherwise. */
export function createTokenMinterClient(
  backend: string,
  options: TokenMinterClientOptions = {},
): Client<typeof TokenMinter> {
  return createClient(TokenMinter, createTokenMinterTransport(backend, options));
}
