/** A complete HTTP answer built in memory (pRPC answers and error pages are small). */
export interface RawReply {
  status: number;
  /** Header names in canonical case; node sends them as given on HTTP/1.1 (lowercased on HTTP/2). */
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Builds a reply with a Content-Length. */
export function rawReply(
  status: number,
  headers: Record<string, string>,
  body: Uint8Array | string,
): RawReply {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return { status, headers: { ...headers, "Content-Length": String(bytes.length) }, body: bytes };
}
