import type { ClientSessionOptions } from "node:http2";
import type { Interceptor, Transport } from "@connectrpc/connect";
import {
  type CommonTransportOptions,
  type UniversalClientFn,
  validateReadWriteMaxBytes,
} from "@connectrpc/connect/protocol";
import { createTransport as createConnectProtocolTransport } from "@connectrpc/connect/protocol-connect";
import { createTransport as createGrpcWebProtocolTransport } from "@connectrpc/connect/protocol-grpc-web";
import { compressionBrotli, compressionGzip, createGrpcTransport } from "@connectrpc/connect-node";
import type { Protocol } from "./protocols.js";

/** What the transport of another protocol than pRPC is made with (see createTokenMinterTransport). */
export interface ConnectNodeTransportOptions {
  baseUrl: string;
  /** For HTTP/1.1 (Connect, gRPC-web): the client, the one that follows redirects. */
  httpClient: UniversalClientFn;
  /** For HTTP/2 (gRPC): the session's options. */
  http2Options?: ClientSessionOptions;
  interceptors: Interceptor[];
  readMaxBytes: number;
}

/**
 * The transport for `-protocol connect|grpc|grpc-web`. In a module of its own, loaded only for
 * those protocols: their code (Connect's protocols, connect-node) is ~60 KB, and connect-node
 * loads node:http2, none of which a pRPC call needs (BENCHMARKS.md).
 */
export function createConnectNodeTransport(
  protocol: Exclude<Protocol, "prpc">,
  options: ConnectNodeTransportOptions,
): Transport {
  const { baseUrl, httpClient, interceptors, readMaxBytes } = options;
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
    case "connect":
      return createConnectProtocolTransport(http1);
    case "grpc-web":
      return createGrpcWebProtocolTransport(http1);
    case "grpc":
      return createGrpcTransport({ baseUrl, nodeOptions: options.http2Options, interceptors, readMaxBytes });
  }
}
