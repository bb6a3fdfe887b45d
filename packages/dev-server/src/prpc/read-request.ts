import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { Code } from "@connectrpc/connect";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import { httpStatusFromGrpcCode } from "@luci-machine-tokend/core/protocol-prpc";
import type { BodyResult } from "../http/read-body.js";
import type { PrpcError } from "./errors.js";

const gunzipAsync = promisify(gunzip);

/** The request parts the body reader needs. */
export interface PrpcBodySource {
  header(name: string): string | undefined;
  /** Reads the body, at most `limit` bytes, within the server's memory budget. */
  readBody(limit: number): Promise<BodyResult>;
  /** Takes `bytes` more of the memory budget for the call (for inflating); false when it cannot. */
  reserve(bytes: number): boolean;
}

/** The answer when the server's memory budget cannot hold a request now (a client may retry). */
export const BUSY_MESSAGE =
  "the server is holding as many request bytes as its memory budget allows; retry later";

/**
 * Reads a pRPC request body as LUCI's readMessage does: at most `maxBytes` as sent, and when
 * `Content-Encoding` is exactly `gzip`, at most `maxBytes` once inflated. zlib counts the inflated
 * bytes as it goes and stops past the cap, so a small gzip bomb never grows in memory. Errors carry
 * LUCI's codes and texts: over the cap → UNAVAILABLE (503); corrupt gzip → INVALID_ARGUMENT (400);
 * no room in the memory budget for the body, or for inflating it → UNAVAILABLE (503), ours;
 * truncated gzip → CANCELED (Go reads io.ErrUnexpectedEOF as a client that went away); no gzip
 * at all (an empty body) → INVALID_ARGUMENT, as Go's io.EOF.
 */
export async function readRequestBody(
  source: PrpcBodySource,
  maxBytes: number,
): Promise<{ body: Uint8Array } | { error: PrpcError }> {
  const read = await source.readBody(maxBytes);
  if ("refused" in read) {
    return read.refused === "too-big"
      ? readError(Code.Unavailable, "reading the request: the request size exceeds the server limit")
      : readError(Code.Unavailable, `reading the request: ${BUSY_MESSAGE}`);
  }
  const raw = read.body;
  // Go compares Content-Encoding with "gzip" exactly; anything else is read as sent.
  if (source.header("content-encoding") !== "gzip") return { body: raw };
  // Go's gzip reader finds no header at all: io.EOF, which is no truncation (zlib cannot tell).
  if (raw.length === 0) return readError(Code.InvalidArgument, "decompressing the request: EOF");
  // The inflated message may take up to maxBytes more.
  if (!source.reserve(maxBytes))
    return readError(Code.Unavailable, `decompressing the request: ${BUSY_MESSAGE}`);
  try {
    const inflated = await gunzipAsync(raw, { maxOutputLength: maxBytes });
    return { body: new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength) };
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
