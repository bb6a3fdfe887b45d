/**
 * @luci-machine-tokend/core: read and write LUCI machine token files, decide when to refresh, and
 * mint tokens from the LUCI Token Server over pRPC (or Connect/gRPC) with the buf-generated client.
 */

export { formatGoDuration, type ParsedDuration, parseGoDuration } from "./go-duration.js";
export * from "./gen/tokenserver/machine_token_pb.js";
export * from "./gen/tokenserver/minter/token_minter_pb.js";
export * from "./gen/tokenserver/token_file_pb.js";
export {
  PRPC_BINARY_CONTENT_TYPE,
  PRPC_JSON_CONTENT_TYPE,
  PRPC_JSON_PREFIX,
  type PrpcFormat,
  prpcFormatFromMediaType,
} from "./protocol-prpc/content-type.js";
export { grpcCodeFromHttpStatus, httpStatusFromGrpcCode } from "./protocol-prpc/http-status.js";
export { decodePrpcTimeout, encodePrpcTimeout, type ParsedPrpcTimeout } from "./protocol-prpc/timeout.js";
