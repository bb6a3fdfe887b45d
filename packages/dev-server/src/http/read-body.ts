import type { NodeRequest } from "./node-types.js";

/** Reads a request body into memory; undefined as soon as it grows past `limit` bytes. */
export async function readBody(req: NodeRequest, limit: number): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** An AbortSignal that fires when the client goes away before the response is finished. */
export function clientGoneSignal(res: {
  once(event: "close", fn: () => void): unknown;
  writableFinished: boolean;
}) {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort(new Error("client went away"));
  });
  return controller.signal;
}
