import { gzipSync } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { type MintMachineTokenRequest, TokenMinter } from "@luci-machine-tokend/core/gen";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import { decodePrpcTimeout } from "@luci-machine-tokend/core/protocol-prpc";
import type { FaultPlan } from "../faults.js";
import { type RawReply, rawReply } from "../http/reply.js";
import type { Minter } from "../minter.js";
import type { RecordedRequest } from "../request-log.js";
import { summarizeRequest } from "../request-summary.js";
import { sleep } from "../sleep.js";
import { decodeRequest, encodeResponse } from "./codec.js";
import { type PrpcError, prpcErrorReply } from "./errors.js";
import { acceptsGzip, requestFormat, responseFormat } from "./negotiate.js";
import { type PrpcBodySource, readRequestBody } from "./read-request.js";

/** Path prefix of every pRPC method. */
export const PRPC_PATH_PREFIX = "/prpc/";

/** The pRPC path of TokenMinter.MintMachineToken. */
export const PRPC_MINT_PATH = `${PRPC_PATH_PREFIX}${TokenMinter.typeName}/${TokenMinter.method.mintMachineToken.name}`;

/** Go's pRPC server gzips only bodies above this size, and only if the client accepts gzip. */
const GZIP_MIN_BYTES = 1024;

/** The parts of an HTTP request the pRPC handler reads. */
export interface PrpcCall extends PrpcBodySource {
  /** Aborts when the client goes away. */
  signal: AbortSignal;
}

/** What a call left for the request log (the HTTP layer adds protocol, time and faults). */
export type PrpcRecord = Pick<RecordedRequest, "format" | "summary" | "outcome">;

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
 * Serves one pRPC MintMachineToken call like LUCI's Go server (luci-go grpc/prpc/server.go), in its
 * order: Accept (400, 406), Accept-Encoding and X-Prpc-Max-Response-Size (400), X-Prpc-Grpc-Timeout
 * (400), then Content-Type (415) and the body: at most `maxRequestBytes`, sent or inflated (503),
 * then decoded (400). The fault plan's latency is waited out within the request's timeout, and the
 * minter's answer is encoded in the negotiated format. Returns no reply when the client left.
 */
export async function handlePrpcMint(
  call: PrpcCall,
  plan: FaultPlan,
  minter: Minter,
  maxRequestBytes: number,
): Promise<{ reply?: RawReply; record: PrpcRecord }> {
  const failed = (err: PrpcError, record: Partial<PrpcRecord> = {}) => ({
    reply: prpcErrorReply(err),
    record: { ...record, outcome: { kind: "grpc-error" as const, code: err.code, message: err.message } },
  });
  const resFormat = responseFormat(call.header("accept"));
  if ("error" in resFormat) return failed(resFormat.error);
  const gzipOk = acceptsGzip(call.header("accept-encoding"));
  if ("error" in gzipOk) return failed(gzipOk.error);
  const maxResponse = maxResponseBytes(call.header("x-prpc-max-response-size"));
  if ("error" in maxResponse) return failed(maxResponse.error);
  const timeoutHeader = call.header("x-prpc-grpc-timeout");
  const timeout = timeoutHeader === undefined ? undefined : decodePrpcTimeout(timeoutHeader);
  if (timeout?.error !== undefined) {
    return failed(badRequest(`bad request headers: "X-Prpc-Grpc-Timeout" header: ${timeout.error}`));
  }

  const reqFormat = requestFormat(call.header("content-type"));
  if ("error" in reqFormat) return failed(reqFormat.error);
  const format = reqFormat.format;
  const body = await readRequestBody(call, maxRequestBytes);
  if ("error" in body) return failed(body.error, { format });
  let request: MintMachineTokenRequest;
  try {
    request = decodeRequest(format, body.body);
  } catch (err) {
    return failed(badRequest(`could not decode body: ${errorMessage(err)}`), { format });
  }

  const deadlineMs = timeout?.value;
  const waitMs = Math.min(plan.latencyMs, deadlineMs ?? Number.POSITIVE_INFINITY);
  if (!(await sleep(waitMs, call.signal)))
    return { record: { format, summary: summarizeRequest(request), outcome: { kind: "client-gone" } } };
  if (deadlineMs !== undefined && plan.latencyMs >= deadlineMs && plan.latencyMs > 0) {
    return failed(
      { code: Code.DeadlineExceeded, message: "context deadline exceeded" },
      { format, summary: summarizeRequest(request) },
    );
  }

  const result = await minter.mint(request, plan);
  const record: PrpcRecord = {
    format,
    summary: summarizeRequest(request, result.tokenRequest),
    outcome: result.outcome,
  };
  if (result.outcome.kind === "grpc-error") {
    return { reply: prpcErrorReply({ code: result.outcome.code, message: result.outcome.message }), record };
  }
  if (!result.response) throw new Error("minter returned neither a response nor an error");
  const encoded = encodeResponse(resFormat.format, result.response);
  if (maxResponse.value !== undefined && encoded.body.length > maxResponse.value) {
    const message = `prpc: the response size ${encoded.body.length} exceeds the client limit ${maxResponse.value}`;
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
  if (gzipOk.value && bytes.length > GZIP_MIN_BYTES) {
    bytes = new Uint8Array(gzipSync(bytes));
    headers["Content-Encoding"] = "gzip";
  }
  return { reply: rawReply(200, headers, bytes), record };
}

/** X-Prpc-Max-Response-Size: absent, or a positive integer (Go's strconv.ParseInt wording). */
function maxResponseBytes(header: string | undefined): { value?: number } | { error: PrpcError } {
  if (header === undefined || header === "") return {};
  const bad = (why: string) => ({
    error: badRequest(`bad X-Prpc-Max-Response-Size value ${JSON.stringify(header)}: ${why}`),
  });
  if (!/^[+-]?\d+$/.test(header))
    return bad(`strconv.ParseInt: parsing ${JSON.stringify(header)}: invalid syntax`);
  const value = BigInt(header);
  if (value > 0x7fffffffffffffffn || value < -0x8000000000000000n) {
    return bad(`strconv.ParseInt: parsing ${JSON.stringify(header)}: value out of range`);
  }
  if (value <= 0n) return bad("must be positive");
  return { value: Number(value) };
}

function badRequest(message: string): PrpcError {
  return { code: Code.InvalidArgument, message, protocol: { httpStatus: 400 } };
}
