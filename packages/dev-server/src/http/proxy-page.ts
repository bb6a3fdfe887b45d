import { STATUS_CODES } from "node:http";
import { type RawReply, rawReply } from "./reply.js";

/**
 * An error page like a load balancer or reverse proxy sends: HTML, no X-Prpc-Grpc-Code, no gRPC
 * headers, so clients must judge it by the HTTP status alone.
 */
export function proxyErrorPage(status: number): RawReply {
  const title = `${status} ${STATUS_CODES[status] ?? "Error"}`;
  return rawReply(
    status,
    { "Content-Type": "text/html; charset=UTF-8" },
    `<html><head><title>${title}</title></head><body><center><h1>${title}</h1></center><hr><center>dev-server proxy</center></body></html>\n`,
  );
}
