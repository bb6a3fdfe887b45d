import { type Code, ConnectError } from "@connectrpc/connect";

/**
 * Marks a reply that arrived but cannot be used: over the size cap, a success with the wrong
 * Content-Type, a body that does not decode. Go's pRPC client checks these outside its retry loop,
 * so they end the call at once; the mark survives Connect's error handling (it is the `cause`).
 */
export class UnusableResponseError extends Error {
  override name = "UnusableResponseError";
}

/** The ConnectError of an unusable reply: `code` as Go's client reports it, never retried. */
export function unusableResponse(message: string, code: Code): ConnectError {
  const cause = new UnusableResponseError(message);
  return new ConnectError(message, code, undefined, undefined, cause);
}

/** True for the error of a reply that cannot be used (see {@link UnusableResponseError}). */
export function isUnusableResponse(err: unknown): boolean {
  return err instanceof ConnectError && err.cause instanceof UnusableResponseError;
}
