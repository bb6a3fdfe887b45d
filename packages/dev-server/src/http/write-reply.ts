import type { ServerResponse } from "node:http";
import { type Http2ServerResponse, constants as h2constants } from "node:http2";
import type { HttpFault } from "../faults.js";
import type { NodeResponse } from "./node-types.js";
import type { RawReply } from "./reply.js";

/** Default size of the oversize fault: above the 32 MiB cap of Go's and our clients. */
export const DEFAULT_OVERSIZE_BYTES = 33 << 20;

const CHUNK = new Uint8Array(64 << 10);

/**
 * Writes a reply, broken as the response-shape fault says (see {@link HttpFault}); `proxy-html`
 * is not handled here, the caller replaces the reply with the proxy page.
 */
export async function writeReply(res: NodeResponse, reply: RawReply, fault?: HttpFault): Promise<void> {
  const headers = { ...reply.headers };
  switch (fault?.kind) {
    case "wrong-content-type":
      setHeader(headers, "Content-Type", fault.contentType ?? "text/html; charset=utf-8");
      break;
    case "oversize":
      return writeOversize(res, reply.status, headers, fault.bytes ?? DEFAULT_OVERSIZE_BYTES);
    case "truncate":
    case "reset":
      return writeHalf(res, reply, fault.kind);
  }
  await new Promise<void>((resolve) => {
    (res as ServerResponse).writeHead(reply.status, headers);
    res.end(reply.body, resolve);
    res.once("close", resolve);
  });
}

/** Sends the headers (announcing the full length) and half the body, then cuts the connection. */
async function writeHalf(res: NodeResponse, reply: RawReply, kind: "truncate" | "reset"): Promise<void> {
  (res as ServerResponse).writeHead(reply.status, reply.headers);
  const half = reply.body.subarray(0, Math.floor(reply.body.length / 2));
  await new Promise<void>((resolve) => (res as ServerResponse).write(half, () => resolve()));
  if (isHttp2(res)) {
    // HTTP/2: end the stream short of Content-Length, or reset the stream.
    if (kind === "truncate") res.end();
    else res.stream.close(h2constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const socket = res.socket;
  if (!socket) return;
  // TCP FIN after a short body, or a TCP RST.
  if (kind === "truncate") socket.end();
  else socket.resetAndDestroy();
}

/** Streams `size` zero bytes with backpressure, stopping when the client goes away. */
async function writeOversize(
  res: NodeResponse,
  status: number,
  headers: Record<string, string>,
  size: number,
): Promise<void> {
  (res as ServerResponse).writeHead(status, setHeader({ ...headers }, "Content-Length", String(size)));
  let closed = false;
  let sent = 0;
  const contentType = Object.entries(headers).find(([k]) => k.toLowerCase() === "content-type")?.[1] ?? "";
  if (contentType.startsWith("application/grpc") && size > 5) {
    // gRPC and gRPC-web frame messages: announce one message as big as the rest of the body, so
    // the client's message size cap is what trips (zeros alone would read as empty messages).
    const envelope = new Uint8Array(5);
    new DataView(envelope.buffer).setUint32(1, size - 5);
    (res as ServerResponse).write(envelope);
    sent = 5;
  }
  res.once("close", () => {
    closed = true;
  });
  while (sent < size && !closed) {
    const n = Math.min(CHUNK.length, size - sent);
    sent += n;
    if (!(res as ServerResponse).write(CHUNK.subarray(0, n))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.once("drain", done);
        res.once("close", done);
      });
    }
  }
  if (!closed) await new Promise<void>((resolve) => res.end(resolve));
}

function isHttp2(res: NodeResponse): res is Http2ServerResponse {
  return "stream" in res;
}

/** Sets a header, replacing any spelling of the same name. */
function setHeader(headers: Record<string, string>, name: string, value: string): Record<string, string> {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
  headers[name] = value;
  return headers;
}
