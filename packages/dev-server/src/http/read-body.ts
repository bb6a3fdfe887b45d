import type { NodeRequest } from "./node-types.js";

/**
 * Reads a request body into memory; undefined as soon as it grows past `limit` bytes (`keep`
 * false: counts and discards, for draining). The request is paused there, not destroyed, so an
 * answer can still be written. Rejects if the client goes away before the end.
 */
export function readBody(req: NodeRequest, limit: number, keep = true): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (settle: () => void) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      req.off("error", onError);
      settle();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish(() => resolve(undefined));
      } else if (keep) chunks.push(chunk);
    };
    const onEnd = () => finish(() => resolve(new Uint8Array(Buffer.concat(chunks))));
    const onClose = () => finish(() => reject(new Error("the client went away during the request body")));
    const onError = (err: Error) => finish(() => reject(err));
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("close", onClose);
    req.once("error", onError);
  });
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
