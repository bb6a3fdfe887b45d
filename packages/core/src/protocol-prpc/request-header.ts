import { HttpHeaders } from "../net/http-headers.js";
import { PRPC_BINARY_CONTENT_TYPE } from "./content-type.js";
import { encodePrpcTimeout } from "./timeout.js";

/** The largest response the Go pRPC client accepts, and announces to the server: 32 MiB − 32 KiB. */
export const PRPC_MAX_RESPONSE_BYTES = 32 * 1024 * 1024 - 32 * 1024;

/** The User-Agent of LUCI's Go pRPC client; servers ignore it, but logs read the same. */
export const PRPC_USER_AGENT = "pRPC Client 1.5";

/**
 * The headers of a binary pRPC request as Go's client sends them. Caller headers (from
 * interceptors) are kept; the protocol ones are set last so they cannot be overridden.
 */
export function prpcRequestHeader(init: HeadersInit | undefined, timeoutMs: number | undefined): Headers {
  const header = new HttpHeaders(init);
  header.set("Content-Type", PRPC_BINARY_CONTENT_TYPE);
  header.set("Accept", PRPC_BINARY_CONTENT_TYPE);
  header.set("Accept-Encoding", "gzip");
  header.set("X-Prpc-Max-Response-Size", String(PRPC_MAX_RESPONSE_BYTES));
  if (!header.has("User-Agent")) header.set("User-Agent", PRPC_USER_AGENT);
  if (timeoutMs !== undefined) header.set("X-Prpc-Grpc-Timeout", encodePrpcTimeout(timeoutMs));
  return header;
}
