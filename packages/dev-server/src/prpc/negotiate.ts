import { Code } from "@connectrpc/connect";
import { type PrpcFormat, prpcFormatFromMediaType } from "@luci-machine-tokend/core/protocol-prpc";
import type { PrpcError } from "./errors.js";

/**
 * The request body format from Content-Type (absent means binary); unsupported types are protocol
 * errors with HTTP 415, as LUCI's readMessage answers them.
 */
export function requestFormat(
  contentType: string | undefined,
): { format: PrpcFormat } | { error: PrpcError } {
  const parsed = prpcFormatFromMediaType(contentType);
  if ("format" in parsed) return parsed;
  return {
    error: {
      code: Code.InvalidArgument,
      message: `bad Content-Type header: ${parsed.error}`,
      protocol: { httpStatus: 415 },
    },
  };
}

/**
 * The response format from Accept, as LUCI's responseFormat picks it: absent or empty means
 * binary, whatever the request format; otherwise the media type with the highest q that names a
 * format. q values are not range-checked and q=0 still counts (Go does neither); among equal q the
 * last listed wins (Go's insertion sort with a Less that is true for ties). Nothing usable → HTTP
 * 406; a q that is not a number → HTTP 400.
 */
export function responseFormat(accept: string | undefined): { format: PrpcFormat } | { error: PrpcError } {
  if (accept === undefined || accept === "") return { format: "binary" };
  const items = parseAccept(accept);
  if ("error" in items) return { error: badAccept(items.error, 400) };
  let best: { format: PrpcFormat; q: number } | undefined;
  for (const item of items.value) {
    const parsed = prpcFormatFromMediaType(item.value);
    if (!("format" in parsed)) continue;
    if (best === undefined || item.q >= best.q) best = { format: parsed.format, q: item.q };
  }
  if (!best) {
    return {
      error: badAccept(
        'specified media types are not not supported. Supported types: "application/prpc; encoding=binary", "application/json", "application/prpc; encoding=text", "application/json".',
        406,
      ),
    };
  }
  return { format: best.format };
}

/** Whether the client takes a gzip response: any Accept-Encoding item equal to `gzip`, any q (Go). */
export function acceptsGzip(acceptEncoding: string | undefined): { value: boolean } | { error: PrpcError } {
  const items = parseAccept(acceptEncoding ?? "");
  if ("error" in items) return { error: badAccept(items.error, 400) };
  return { value: items.value.some((i) => i.value.toLowerCase() === "gzip") };
}

/** An `Accept` or `Accept-Encoding` item: the value before its q parameter, and q (default 1). */
interface AcceptItem {
  value: string;
  q: number;
}

/**
 * Parses an Accept or Accept-Encoding header like LUCI's parseAccept: comma-separated items, empty
 * ones skipped; a `q=` parameter ends the value (parameters after it are dropped) and must parse as
 * a Go float.
 */
function parseAccept(header: string): { value: AcceptItem[] } | { error: string } {
  const value: AcceptItem[] = [];
  for (const raw of header.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const m = /;\s*[qQ]\s*=\s*([^;]*)/.exec(item);
    if (!m) {
      value.push({ value: item, q: 1 });
      continue;
    }
    const qText = (m[1] ?? "").trim();
    if (qText === "" && m.index + m[0].length === item.length) {
      // Go skips a `q=` with nothing after it and keeps the whole item.
      value.push({ value: item, q: 1 });
      continue;
    }
    const q = goFloat(qText);
    if (q === undefined) return { error: "q parameter: expected a floating-point number" };
    value.push({ value: item.slice(0, m.index), q });
  }
  return { value };
}

/** strconv.ParseFloat's decimal syntax, plus inf/infinity/nan; undefined when it is not one. */
function goFloat(text: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(text)) return Number.NaN;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : undefined;
}

function badAccept(detail: string, httpStatus: number): PrpcError {
  return { code: Code.InvalidArgument, message: `bad Accept header: ${detail}`, protocol: { httpStatus } };
}
