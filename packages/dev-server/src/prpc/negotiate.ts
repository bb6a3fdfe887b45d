import { Code } from "@connectrpc/connect";
import { type PrpcFormat, prpcFormatFromMediaType } from "@luci-machine-tokend/core";
import type { PrpcError } from "./errors.js";

/** The formats this server encodes; the text format needs a protobuf text codec protobuf-es lacks. */
export type SupportedFormat = Exclude<PrpcFormat, "text">;

/** The request body format from Content-Type: unsupported types are protocol errors with HTTP 415. */
export function requestFormat(
  contentType: string | undefined,
): { format: SupportedFormat } | { error: PrpcError } {
  const parsed = prpcFormatFromMediaType(contentType);
  if ("format" in parsed && parsed.format !== "text") return { format: parsed.format };
  const problem = "error" in parsed ? parsed.error : "the text format is not supported by this server";
  return {
    error: {
      code: Code.InvalidArgument,
      message: `bad Content-Type header: ${problem}`,
      protocol: { httpStatus: 415 },
    },
  };
}

/**
 * The response format from Accept: absent means the request's format; otherwise the acceptable
 * media type with the highest q that names a supported format. None → HTTP 406; a malformed
 * q value → HTTP 400.
 */
export function responseFormat(
  accept: string | undefined,
  fallback: SupportedFormat,
): { format: SupportedFormat } | { error: PrpcError } {
  if (accept === undefined || accept.trim() === "") return { format: fallback };
  const candidates: Array<{ q: number; index: number; format: SupportedFormat }> = [];
  const parts = accept.split(",");
  for (const [index, part] of parts.entries()) {
    const params = part.split(";");
    const mediaType = [params[0] ?? ""];
    let q = 1;
    for (const p of params.slice(1)) {
      const [k = "", v = ""] = p.split("=").map((s) => s.trim());
      if (k.toLowerCase() === "q") {
        q = Number(v);
        if (v === "" || !(q >= 0 && q <= 1)) {
          return {
            error: {
              code: Code.InvalidArgument,
              message: `bad Accept header: invalid q value ${JSON.stringify(v)}`,
              protocol: { httpStatus: 400 },
            },
          };
        }
      } else mediaType.push(p);
    }
    const parsed = prpcFormatFromMediaType(mediaType.join(";"));
    if (q > 0 && "format" in parsed && parsed.format !== "text")
      candidates.push({ q, index, format: parsed.format });
  }
  candidates.sort((a, b) => b.q - a.q || a.index - b.index);
  const best = candidates[0];
  if (!best) {
    return {
      error: {
        code: Code.InvalidArgument,
        message: `bad Accept header: specified media types are not supported: ${JSON.stringify(accept)}`,
        protocol: { httpStatus: 406 },
      },
    };
  }
  return { format: best.format };
}
