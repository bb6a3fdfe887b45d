import { Code } from "@connectrpc/connect";
import { httpStatusFromGrpcCode } from "@luci-machine-tokend/core/protocol-prpc";
import { type RawReply, rawReply } from "../http/reply.js";

/** Generic texts that replace service error messages sent with HTTP status >= 500 (Go pRPC server). */
const MASKED: Partial<Record<Code, string>> = {
  [Code.Internal]: "Internal server error",
  [Code.Unknown]: "Unknown server error",
  [Code.Unavailable]: "Service unavailable",
  [Code.DeadlineExceeded]: "Request deadline exceeded",
  [Code.Unimplemented]: "API method not implemented by the server",
  [Code.DataLoss]: "Unrecoverable data loss or data corruption",
};

/** An error answer of the pRPC server, before it is turned into HTTP. */
export interface PrpcError {
  code: Code;
  message: string;
  /** Protocol errors keep their text and may use a status other than the code's (415, 406). */
  protocol?: { httpStatus: number };
}

/** The message a client sees: masked for service errors mapped to HTTP >= 500. */
export function visibleMessage(err: PrpcError): string {
  if (err.protocol || httpStatusFromGrpcCode(err.code) < 500) return err.message;
  return MASKED[err.code] ?? "Server error";
}

/** The HTTP answer of a pRPC error: text/plain, `X-Prpc-Grpc-Code`, message plus a newline. */
export function prpcErrorReply(err: PrpcError): RawReply {
  return rawReply(
    err.protocol?.httpStatus ?? httpStatusFromGrpcCode(err.code),
    {
      "X-Prpc-Grpc-Code": String(err.code),
      "Content-Type": "text/plain; charset=utf-8",
      "X-Content-Type-Options": "nosniff",
    },
    `${visibleMessage(err)}\n`,
  );
}
