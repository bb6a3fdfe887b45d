import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import { httpStatusFromGrpcCode } from "@luci-machine-tokend/core/protocol-prpc";
import type { PrpcError } from "./errors.js";

const gunzipAsync = promisify(gunzip);

/** The request parts the body reader needs. */
export interface PrpcBodySource {
  header(name: string): string | undefined;
  /** Reads the body; undefined when it is longer than `limit`. */
  readBody(limit: number): Promise<Uint8Array | undefined>;
}

/**
 * Reads a pRPC request body as LUCI's readMessage does: at most `maxBytes` as sent, and when
 * `Content-Encoding` is exactly `gzip`, at most `maxBytes` once inflated. zlib counts the inflated
 * bytes as it goes and stops past the cap, so a small gzip bomb never grows in memory. Errors carry
 * LUCI's codes and texts: over the cap → UNAVAILABLE (503); corrupt gzip → INVALID_ARGUMENT (400);
 * truncated gzip → CANCELED (Go reads io.ErrUnexpectedEOF as a client that went away); no gzip
 * at all (an empty body) → INVALID_ARGUMENT, as Go's io.EOF.
 */
export async function readRequestBody(
  source: PrpcBodySource,
  maxBytes: number,
): Promise<{ body: Uint8Array } | { error: PrpcError }> {
  const raw = await source.readBody(maxBytes);
  if (raw === undefined) {
    return readError(Code.Unavailable, "reading the request: the request size exceeds the server limit");
  }
  // Go compares Content-Encoding with "gzip" exactly; anything else is read as sent.
  if (source.header("content-encoding") !== "gzip") return { body: raw };
  // Go's gzip reader finds no header at all: io.EOF, which is no truncation (zlib cannot tell).
  if (raw.length === 0) return readError(Code.InvalidArgument, "decompressing the request: EOF");
  try {
    return { body: new Uint8Array(await gunzipAsync(raw, { maxOutputLength: maxBytes })) };
  } catch (err) {
    return gunzipError(err);
  }
}

/** Maps a zlib failure to what Go's gzip reader reports for the same input. */
function gunzipError(err: unknown): { error: PrpcError } {
  const code = (err as { code?: unknown }).code;
  const prefix = "decompressing the request";
  switch (code) {
    case "ERR_BUFFER_TOO_LARGE":
      return readError(Code.Unavailable, `${prefix}: the decompressed request size exceeds the server limit`);
    case "Z_BUF_ERROR":
      return readError(Code.Canceled, `${prefix}: unexpected EOF`);
    default: {
      const message = errorMessage(err);
      if (/header check/.test(message))
        return readError(Code.InvalidArgument, `${prefix}: gzip: invalid header`);
      if (/data check/.test(message))
        return readError(Code.InvalidArgument, `${prefix}: gzip: invalid checksum`);
      return readError(Code.InvalidArgument, `${prefix}: flate: corrupt input`);
    }
  }
}

/** A protocol error with the HTTP status of its code (1→499, 3→400, 14→503). */
function readError(code: Code, message: string): { error: PrpcError } {
  return { error: { code, message, protocol: { httpStatus: httpStatusFromGrpcCode(code) } } };
}
