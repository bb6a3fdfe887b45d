/**
 * pRPC message formats and how a Content-Type or Accept value names them (LUCI grpc/prpc).
 */

/** The three pRPC encodings. tokend only uses binary. */
export type PrpcFormat = "binary" | "json" | "text";

/** Content-Type of binary pRPC messages. */
export const PRPC_BINARY_CONTENT_TYPE = "application/prpc; encoding=binary";

/** Content-Type of JSON pRPC messages (the body starts with the `)]}'` guard line). */
export const PRPC_JSON_CONTENT_TYPE = "application/json";

/** Content-Type of text-format pRPC messages (protobuf text; LUCI's server accepts it). */
export const PRPC_TEXT_CONTENT_TYPE = "application/prpc; encoding=text";

/** The XSSI guard that prefixes every JSON pRPC response body. */
export const PRPC_JSON_PREFIX = ")]}'\n";

/** The media type Go's pRPC code names for a format (its `Format.MediaType()`). */
export function prpcMediaType(format: PrpcFormat): string {
  return format === "json" ? PRPC_JSON_CONTENT_TYPE : `application/prpc; encoding=${format}`;
}

/**
 * The format a media type names, or an error text worded as Go's `FormatFromContentType` (the
 * common mime errors included). Empty means binary (Go treats requests without a Content-Type as
 * binary); `application/grpc` maps to binary without gRPC framing, like Go. Parameter names are
 * case-insensitive, the encoding value is not (Go).
 */
export function prpcFormatFromMediaType(
  value: string | null | undefined,
): { format: PrpcFormat } | { error: string } {
  const raw = (value ?? "").trim();
  if (raw === "") return { format: "binary" };
  const [typePart = "", ...paramParts] = raw.split(";");
  const mediaType = typePart.trim().toLowerCase();
  if (mediaType === "") return { error: "mime: no media type" };
  const params = new Map<string, string>();
  for (const [i, p] of paramParts.entries()) {
    // Go's mime parser ignores one trailing semicolon.
    if (p.trim() === "" && i === paramParts.length - 1) continue;
    const eq = p.indexOf("=");
    if (eq < 0) return { error: "mime: invalid media parameter" };
    const key = p.slice(0, eq).trim().toLowerCase();
    if (params.has(key)) return { error: "mime: duplicate parameter name" };
    params.set(
      key,
      p
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, ""),
    );
  }
  switch (mediaType) {
    case "application/prpc": {
      for (const k of params.keys()) {
        if (k !== "encoding") return { error: `unexpected parameter ${JSON.stringify(k)}` };
      }
      const encoding = params.get("encoding") ?? "";
      if (encoding === "" || encoding === "binary") return { format: "binary" };
      if (encoding === "json") return { format: "json" };
      if (encoding === "text") return { format: "text" };
      return {
        error: `invalid encoding parameter: ${JSON.stringify(encoding)}. Valid values: "binary", "json", "text"`,
      };
    }
    case "application/grpc":
    case "*/*":
    case "application/*":
      return { format: "binary" };
    case "application/json":
      return { format: "json" };
    default:
      return { error: `unknown content type: ${JSON.stringify(mediaType)}` };
  }
}
