import { Code } from "@connectrpc/connect";
import { errorCodeName } from "@luci-machine-tokend/core/gen";
import { quote } from "./quote.js";
import type { RecordedRequest } from "./request-log.js";

/**
 * One line of the dev-server command's log for a call: when, how it came, and how it ended,
 * including why a certificate was not trusted (the client only gets LUCI's generic answer).
 * Every text that can carry client input is quoted with {@link quote}, so a line is printable
 * ASCII and never spans two lines, whatever the client sent.
 *
 * `2026-01-02T03:04:05.678Z prpc/binary HTTP/1.1 error_code=UNTRUSTED_CERTIFICATE
 * message="invalid or untrusted certificate" reason="no such CA \"Other CA\""`
 */
export function formatLogLine(entry: RecordedRequest): string {
  const parts = [
    entry.receivedAt.toISOString(),
    entry.format ? `${entry.protocol}/${entry.format}` : entry.protocol,
    `HTTP/${entry.httpVersion}`,
  ];
  const o = entry.outcome;
  switch (o.kind) {
    case "token":
      parts.push(`token fqdn=${quote(o.fqdn)} ca_id=${o.caId} lifetime=${o.lifetimeSeconds}s`);
      break;
    case "error-code": {
      parts.push(`error_code=${errorCodeName(o.errorCode)} message=${quote(o.errorMessage)}`);
      if (o.detail !== undefined) parts.push(`reason=${quote(o.detail)}`);
      break;
    }
    case "grpc-error":
      parts.push(`grpc_code=${o.code} (${Code[o.code] ?? "?"}) message=${quote(o.message)}`);
      break;
    case "proxy-html":
      parts.push(`proxy_page status=${o.status}`);
      break;
    case "protocol-error":
      parts.push(`refused http_status=${o.httpStatus}`);
      break;
    case "client-gone":
      parts.push("client_gone");
      break;
  }
  if (entry.latencyMs > 0) parts.push(`latency=${Math.round(entry.latencyMs)}ms`);
  if (entry.httpFault) parts.push(`fault=${entry.httpFault.kind}`);
  return parts.join(" ");
}
