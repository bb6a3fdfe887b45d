import { Code, type ConnectError } from "@connectrpc/connect";
import { unusableResponse } from "../mint/unusable-response.js";

/**
 * The error of a reply over the size cap, worded as Go's client: UNAVAILABLE, not retried (a
 * bigger answer will not get smaller). `size` is the declared Content-Length, when there is one.
 */
export function responseTooBig(protocol: string, limit: number, size?: number): ConnectError {
  const what = size === undefined ? "the response size" : `the response size ${size}`;
  return unusableResponse(`${protocol}: ${what} exceeds the client limit ${limit}`, Code.Unavailable);
}
