import { Code, ConnectError } from "@connectrpc/connect";
import { prpcFormatFromMediaType } from "./content-type.js";
import { grpcCodeFromHttpStatus } from "./http-status.js";

const MAX_ERROR_TEXT = 4096;

/**
 * Turns a pRPC response into an error, or nothing when it carries a message (LUCI's Go client):
 * - no `X-Prpc-Grpc-Code`: not from a pRPC server (a proxy page): 401 → 16, 403 → 7, 503 → 14,
 *   other statuses → 13 (so retried), the body reduced to text as the message;
 * - a code that is not an integer → 13;
 * - a non-zero code → that code, the body (one trailing newline removed) as the message; the
 *   HTTP status is then ignored;
 * - code 0 with a Content-Type that is not binary pRPC → 13.
 */
export function validatePrpcResponse(
  status: number,
  header: Headers,
  body: Uint8Array,
): ConnectError | undefined {
  const text = () => new TextDecoder().decode(body);
  const codeHeader = header.get("X-Prpc-Grpc-Code");
  if (codeHeader === null) {
    const code = grpcCodeFromHttpStatus(status);
    if (code !== Code.Internal || status >= 500)
      return new ConnectError(truncate(htmlToText(text())), code, header);
    const snippet = JSON.stringify(truncate(text()));
    return new ConnectError(
      `prpc: no X-Prpc-Grpc-Code header, HTTP status ${status}, body: ${snippet}`,
      code,
      header,
    );
  }
  const trimmed = codeHeader.trim();
  const code = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(code) || code > 16) {
    return new ConnectError(
      `prpc: invalid X-Prpc-Grpc-Code ${JSON.stringify(codeHeader)}`,
      Code.Internal,
      header,
    );
  }
  if (code !== 0) return new ConnectError(text().replace(/\n$/, ""), code as Code, header);
  const contentType = header.get("Content-Type");
  const format = prpcFormatFromMediaType(contentType);
  if ("error" in format || format.format !== "binary") {
    return new ConnectError(
      `prpc: output format ${JSON.stringify(contentType)} doesn't match expected format "binary"`,
      Code.Internal,
      header,
    );
  }
  return undefined;
}

/** Proxy error pages are HTML: keep their text, one line. */
function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}...` : text;
}
