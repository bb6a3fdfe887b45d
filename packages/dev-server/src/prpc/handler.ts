import { gzipSync } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { decodePrpcTimeout, type MintMachineTokenRequest, TokenMinter } from "@luci-machine-tokend/core";
import type { FaultPlan } from "../faults.js";
import { type RawReply, rawReply } from "../http/reply.js";
import type { Minter } from "../minter.js";
import type { RecordedRequest } from "../request-log.js";
import { sleep } from "../sleep.js";
import { decodeRequest, encodeResponse } from "./codec.js";
import { type PrpcError, prpcErrorReply } from "./errors.js";
import { requestFormat, responseFormat } from "./negotiate.js";

/** Path prefix of every pRPC method. */
export const PRPC_PATH_PREFIX = "/prpc/";

/** The pRPC path of TokenMinter.MintMachineToken. */
export const PRPC_MINT_PATH = `${PRPC_PATH_PREFIX}${TokenMinter.typeName}/${TokenMinter.method.mintMachineToken.name}`;

/** Go pRPC server's default request body limit. */
const MAX_REQUEST_BYTES = 64 << 20;

/** Go's pRPC server gzips only bodies above this size, and only if the client accepts gzip. */
const GZIP_MIN_BYTES = 1024;

/** The parts of an HTTP request the pRPC handler reads. */
export interface PrpcCall {
  /** A request header (case-insensitive), or undefined. */
  header(name: string): string | undefined;
  /** Reads the body; undefined when it is longer than `limit`. */
  readBody(limit: number): Promise<Uint8Array | undefined>;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

/** What a call left for the request log (the HTTP layer adds protocol, time and faults). */
export type PrpcRecord = Pick<RecordedRequest, "format" | "request" | "tokenRequest" | "outcome">;

/**
 * The answer for a pRPC path that names no known method: UNIMPLEMENTED with HTTP 501, whose text
 * the Go server masks (the detailed message only reaches its logs).
 */
export function prpcUnknownMethodReply(path: string): RawReply {
  const [service = "", method = ""] = path.slice(PRPC_PATH_PREFIX.length).split("/");
  const message =
    service === TokenMinter.typeName
      ? `method ${JSON.stringify(method)} in service ${JSON.stringify(service)} is not implemented`
      : `service ${JSON.stringify(service)} is not implemented`;
  return prpcErrorReply({ code: Code.Unimplemented, message });
}

/**
 * Serves one pRPC MintMachineToken call like LUCI's Go server (luci-go grpc/prpc/server.go):
 * headers are checked (415, 406, 400), the body is read and decoded, the fault plan's latency is
 * waited out within the request's X-Prpc-Grpc-Timeout, and the minter's answer is encoded in the
 * negotiated format. Returns no reply when the client left during the wait.
 */
export async function handlePrpcMint(
  call: PrpcCall,
  plan: FaultPlan,
  minter: Minter,
): Promise<{ reply?: RawReply; record: PrpcRecord }> {
  const failed = (err: PrpcError, record: Partial<PrpcRecord> = {}) => ({
    reply: prpcErrorReply(err),
    record: { ...record, outcome: { kind: "grpc-error" as const, code: err.code, message: err.message } },
  });
  const reqFormat = requestFormat(call.header("content-type"));
  if ("error" in reqFormat) return failed(reqFormat.error);
  const format = reqFormat.format;
  const resFormat = responseFormat(call.header("accept"), format);
  if ("error" in resFormat) return failed(resFormat.error, { format });
  const badHeaders = (detail: string) =>
    failed(
      {
        code: Code.InvalidArgument,
        message: `bad request headers: ${detail}`,
        protocol: { httpStatus: 400 },
      },
      { format },
    );
  const maxSizeHeader = call.header("x-prpc-max-response-size");
  const maxResponseBytes = maxSizeHeader === undefined ? undefined : Number(maxSizeHeader);
  if (maxResponseBytes !== undefined && !(Number.isSafeInteger(maxResponseBytes) && maxResponseBytes > 0)) {
    return badHeaders(`bad X-Prpc-Max-Response-Size value ${JSON.stringify(maxSizeHeader)}`);
  }
  const timeoutHeader = call.header("x-prpc-grpc-timeout");
  const timeout = timeoutHeader === undefined ? undefined : decodePrpcTimeout(timeoutHeader);
  if (timeout?.error !== undefined) return badHeaders(`X-Prpc-Grpc-Timeout: ${timeout.error}`);

  const body = await call.readBody(MAX_REQUEST_BYTES);
  if (body === undefined) {
    return failed(
      {
        code: Code.Unavailable,
        message: "the request size exceeds the server limit",
        protocol: { httpStatus: 503 },
      },
      { format },
    );
  }
  let request: MintMachineTokenRequest;
  try {
    request = decodeRequest(format, body);
  } catch (err) {
    return failed(
      {
        code: Code.InvalidArgument,
        message: `could not decode body: ${(err as Error).message}`,
        protocol: { httpStatus: 400 },
      },
      { format },
    );
  }

  const deadlineMs = timeout?.value;
  const waitMs = Math.min(plan.latencyMs, deadlineMs ?? Number.POSITIVE_INFINITY);
  if (!(await sleep(waitMs, call.signal)))
    return { record: { format, request, outcome: { kind: "client-gone" } } };
  if (deadlineMs !== undefined && plan.latencyMs >= deadlineMs && plan.latencyMs > 0) {
    return failed({ code: Code.DeadlineExceeded, message: "context deadline exceeded" }, { format, request });
  }

  const result = await minter.mint(request, plan);
  const record: PrpcRecord = { format, request, outcome: result.outcome };
  if (result.tokenRequest) record.tokenRequest = result.tokenRequest;
  if (result.outcome.kind === "grpc-error") {
    return { reply: prpcErrorReply({ code: result.outcome.code, message: result.outcome.message }), record };
  }
  if (!result.response) throw new Error("minter returned neither a response nor an error");
  const encoded = encodeResponse(resFormat.format, result.response);
  if (maxResponseBytes !== undefined && encoded.body.length > maxResponseBytes) {
    const message = `the response size ${encoded.body.length} exceeds the client limit ${maxResponseBytes}`;
    return {
      reply: prpcErrorReply({ code: Code.Unavailable, message, protocol: { httpStatus: 503 } }),
      record,
    };
  }
  const headers: Record<string, string> = {
    "X-Prpc-Grpc-Code": "0",
    "Content-Type": encoded.contentType,
    "X-Content-Type-Options": "nosniff",
  };
  let bytes = encoded.body;
  if (bytes.length > GZIP_MIN_BYTES && /\bgzip\b/i.test(call.header("accept-encoding") ?? "")) {
    bytes = new Uint8Array(gzipSync(bytes));
    headers["Content-Encoding"] = "gzip";
  }
  return { reply: rawReply(200, headers, bytes), record };
}
