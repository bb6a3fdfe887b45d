import { Code } from "@connectrpc/connect";

/**
 * HTTP status a pRPC server answers for each gRPC code (LUCI grpc/prpc): used by servers, and by
 * clients to explain a response.
 */
const HTTP_STATUS_BY_CODE: Record<number, number> = {
  0: 200,
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/** The HTTP status a pRPC server uses for a gRPC code (unknown codes: 500). */
export function httpStatusFromGrpcCode(code: number): number {
  return HTTP_STATUS_BY_CODE[code] ?? 500;
}

/**
 * The gRPC code a pRPC client assumes when a response has no `X-Prpc-Grpc-Code` header, i.e. it
 * came from something in front of the server (a proxy, a load balancer). Mirrors the Go client:
 * 401 and 403 keep their meaning, 503 is "unavailable", everything else is "internal" (retried).
 */
export function grpcCodeFromHttpStatus(status: number): Code {
  switch (status) {
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 503:
      return Code.Unavailable;
    default:
      return Code.Internal;
  }
}
