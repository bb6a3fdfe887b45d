/**
 * The pRPC protocol (LUCI's `grpc/prpc`) as a Connect transport, the HTTP/1.1 connection it runs
 * over (proxy and trust roots, with hints for setup mistakes), and the wire helpers the dev
 * server's pRPC handler shares with it: content types, the timeout header, the mapping between
 * HTTP statuses and gRPC codes, the checks of a reply.
 *
 * Private: for this project's packages. It does not follow semantic versioning, like
 * `@connectrpc/connect/protocol-grpc`; use createTokenMinterClient from the package root.
 *
 * @module @luci-machine-tokend/core/protocol-prpc
 */

export { type BackendConnection, createBackendConnection } from "../net/backend-connection.js";
export { explainConnectionError } from "../net/connection-error-hints.js";
export {
  PRPC_BINARY_CONTENT_TYPE,
  PRPC_JSON_CONTENT_TYPE,
  PRPC_JSON_PREFIX,
  PRPC_TEXT_CONTENT_TYPE,
  type PrpcFormat,
  prpcFormatFromMediaType,
} from "./content-type.js";
export { grpcCodeFromHttpStatus, httpStatusFromGrpcCode } from "./http-status.js";
export { PRPC_MAX_RESPONSE_BYTES, PRPC_USER_AGENT, prpcRequestHeader } from "./request-header.js";
export { decodePrpcTimeout, encodePrpcTimeout, type ParsedPrpcTimeout } from "./timeout.js";
export { createPrpcTransport, type PrpcTransportOptions } from "./transport.js";
export { validatePrpcResponse } from "./validate-response.js";
