import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Marks a response over the size cap. Go reports it as UNAVAILABLE but does not retry it (a
 * bigger answer will not get smaller), so it needs a mark that survives Connect's error handling.
 */
export class ResponseTooBigError extends Error {
  override name = "ResponseTooBigError";
}

/** The ConnectError a too-big response becomes: code 14, not retried. */
export function responseTooBig(limit: number): ConnectError {
  const cause = new ResponseTooBigError(`prpc: response too big, the limit is ${limit} bytes`);
  return new ConnectError(cause.message, Code.Unavailable, undefined, undefined, cause);
}

/** True for the error of a response over the size cap. */
export function isResponseTooBig(err: unknown): boolean {
  return err instanceof ConnectError && err.cause instanceof ResponseTooBigError;
}
