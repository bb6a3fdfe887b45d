import { Code, ConnectError } from "@connectrpc/connect";
import { escapeForLog, MAX_LOG_TEXT } from "../common/one-line.js";
import { unusableResponse } from "../mint/unusable-response.js";
import { prpcFormatFromMediaType, prpcMediaType } from "./content-type.js";
import { grpcCodeFromHttpStatus } from "./http-status.js";

/**
 * Turns a pRPC response into an error, or nothing when it carries a message (LUCI's Go client):
 * - no `X-Prpc-Grpc-Code`: not from a pRPC server (a proxy page): 401 → 16, 403 → 7, 503 → 14,
 *   other statuses → 13 (so retried), the body reduced to text as the message;
 * - a code that is not an integer → 13 (retried);
 * - a non-zero code → that code, even above 16, the body (one trailing newline removed) as the
 *   message; the HTTP status is then ignored;
 * - code 0 with a Content-Type that is not binary pRPC → 13, unusable (not retried).
 * Text from the body is escaped to one printable line and capped at 4096 characters.
 */
export function validatePrpcResponse(
  status: number,
  header: Headers,
  body: Uint8Array,
): ConnectError | undefined {
  const text = () => new TextDecoder().decode(body.subarray(0, 4 * MAX_LOG_TEXT));
  const codeHeader = header.get("X-Prpc-Grpc-Code");
  // Go's Header.Get cannot tell an empty value from a missing header.
  if (codeHeader === null || codeHeader === "") {
    const code = grpcCodeFromHttpStatus(status);
    if (code !== Code.Internal || status >= 500)
      return new ConnectError(escapeForLog(htmlToText(text())), code, header);
    const snippet = escapeForLog(JSON.stringify(clip(text())), 2 * MAX_LOG_TEXT);
    return new ConnectError(
      `prpc: no X-Prpc-Grpc-Code header, HTTP status ${status}, body: ${snippet}`,
      code,
      header,
    );
  }
  const code = grpcCodeFromHeader(codeHeader);
  if (code === undefined) {
    return new ConnectError(
      `prpc: invalid X-Prpc-Grpc-Code header value ${escapeForLog(JSON.stringify(codeHeader))}`,
      Code.Internal,
      header,
    );
  }
  if (code !== 0) return new ConnectError(escapeForLog(text().replace(/\n$/, "")), code as Code, header);
  const contentType = header.get("Content-Type") ?? "";
  const format = prpcFormatFromMediaType(contentType);
  const quoted = escapeForLog(JSON.stringify(contentType));
  if ("error" in format) {
    return unusableResponse(
      `prpc: bad response content type ${quoted}: ${escapeForLog(format.error)}`,
      Code.Internal,
    );
  }
  if (format.format !== "binary") {
    return unusableResponse(
      `prpc: output format (${JSON.stringify(prpcMediaType(format.format))}) doesn't match expected format (${JSON.stringify(prpcMediaType("binary"))})`,
      Code.Internal,
    );
  }
  return undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The gRPC code Go's client reads from the header: `strconv.Atoi` (optional sign, decimal, int64
 * range), then kept as a 32-bit value the way `status.FromProto` does, so `-1` is 4294967295 and
 * 2^32 + 7 is 7. Undefined when Atoi would fail.
 */
export function grpcCodeFromHeader(value: string): number | undefined {
  const trimmed = value.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) return undefined;
  const n = BigInt(trimmed);
  if (n < INT64_MIN || n > INT64_MAX) return undefined;
  return Number(BigInt.asUintN(32, n));
}

/**
 * Proxy error pages are HTML: keep their text, one line. One pass, linear in the input: the
 * regular expressions this replaces (`<[^>]*>`, a lazy `<script…</script>`) searched the rest of
 * the text again from every `<` that had no match (16 KiB of `<` took 260 ms).
 */
function htmlToText(html: string): string {
  const lower = html.toLowerCase();
  // A closing tag searched for and not found is never searched for again: none comes later.
  const closed = { script: true, style: true };
  let text = "";
  let i = 0;
  for (let lt = html.indexOf("<"); lt !== -1; lt = html.indexOf("<", i)) {
    const block = lower.startsWith("<script", lt)
      ? "script"
      : lower.startsWith("<style", lt)
        ? "style"
        : undefined;
    let end = -1;
    if (block && closed[block]) {
      const close = lower.indexOf(`</${block}>`, lt);
      if (close === -1) closed[block] = false;
      else end = close + block.length + 3;
    }
    if (end === -1) {
      const gt = html.indexOf(">", lt);
      if (gt === -1) break; // no tag ends after this: the rest is text
      end = gt + 1;
    }
    text += `${html.slice(i, lt)} `;
    i = end;
  }
  return `${text}${html.slice(i)}`
    .replace(/&nbsp;/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function clip(text: string): string {
  return text.length > MAX_LOG_TEXT ? `${text.slice(0, MAX_LOG_TEXT)}...` : text;
}
