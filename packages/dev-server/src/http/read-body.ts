import type { BudgetLease } from "../memory-budget.js";
import type { NodeRequest } from "./node-types.js";

/**
 * A request body read into memory, or why it was not: `too-big` (over the size limit) or `busy`
 * (the server's memory budget could not hold it, or a newer call evicted this stalled one).
 */
export type BodyResult = { body: Uint8Array } | { refused: "too-big" | "busy" };

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Largest body accepted, in bytes. */
  limit: number;
  /** Each byte kept is taken from it first; without one, nothing is kept (a drain). */
  lease?: BudgetLease;
}

/**
 * Reads a request body into memory, counting each byte against the call's lease before keeping
 * it. A declared Content-Length over the limit, or one the budget cannot hold, is refused before
 * a byte is read; a body without one is refused at the chunk that would pass either bound. The
 * request is paused there, not destroyed, so an answer can still be written. Without a lease the
 * body is counted and discarded (draining). Rejects if the client goes away before the end.
 */
export function readBody(req: NodeRequest, options: ReadBodyOptions): Promise<BodyResult> {
  const { limit, lease } = options;
  // A call the budget could not admit, or evicted already, reads nothing.
  if (lease?.released) return Promise.resolve({ refused: "busy" });
  const declared = contentLength(req);
  if (declared !== undefined && declared > limit) return Promise.resolve({ refused: "too-big" });
  // A declared length is taken at once: the bytes are coming.
  if (lease && declared !== undefined && !lease.take(declared)) {
    lease.release();
    return Promise.resolve({ refused: "busy" });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (settle: () => void) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      req.off("error", onError);
      lease?.arrived();
      settle();
    };
    const refuse = (why: "too-big" | "busy") => {
      req.pause();
      chunks.length = 0;
      lease?.release(); // what it read is dropped: the call holds nothing now
      finish(() => resolve({ refused: why }));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return refuse("too-big");
      if (!lease) return;
      if (declared === undefined && !lease.take(chunk.length)) return refuse("busy");
      chunks.push(chunk);
    };
    const onEnd = () => {
      // One copy, not tied to the socket's read buffers; viewed, not copied again.
      const all = Buffer.concat(chunks);
      finish(() => resolve({ body: new Uint8Array(all.buffer, all.byteOffset, all.byteLength) }));
    };
    const onClose = () => finish(() => reject(new Error("the client went away during the request body")));
    const onError = (err: Error) => finish(() => reject(err));
    lease?.arriving(() => refuse("busy"));
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("close", onClose);
    req.once("error", onError);
  });
}

/** The Content-Length header as a number, when it is one. */
function contentLength(req: NodeRequest): number | undefined {
  const text = req.headers["content-length"];
  if (typeof text !== "string" || !/^\d+$/.test(text)) return undefined;
  return Number(text);
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
