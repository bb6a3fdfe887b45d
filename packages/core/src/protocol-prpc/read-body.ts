import { responseTooBig } from "./response-too-big.js";

/** node:zlib's gunzip as a promise, loaded for the first gzip body only (zlib costs every call ~1 ms to load). */
const gunzipAsync = (raw: Buffer, options: { maxOutputLength: number }) =>
  new Promise<Buffer>((resolve, reject) =>
    process
      .getBuiltinModule("node:zlib")
      .gunzip(raw, options, (err, inflated) => (err ? reject(err) : resolve(inflated))),
  );

/**
 * Reads a response body, refusing more than `limit` bytes as soon as they arrive (memory stays
 * bounded) and inflating gzip bodies with the same cap on the inflated size.
 */
export async function readResponseBody(
  body: AsyncIterable<Uint8Array>,
  header: Headers,
  limit: number,
): Promise<Uint8Array> {
  const declared = Number(header.get("Content-Length") ?? Number.NaN);
  if (declared > limit) throw responseTooBig("prpc", limit, declared);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) throw responseTooBig("prpc", limit);
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks, total);
  if ((header.get("Content-Encoding") ?? "").trim().toLowerCase() !== "gzip") return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw responseTooBig("prpc", limit);
    throw err;
  }
}
