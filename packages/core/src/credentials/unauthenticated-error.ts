import { Code, ConnectError } from "@connectrpc/connect";
import { errorMessage } from "../common/fs-errors.js";

/**
 * A ConnectError of code Unauthenticated with `err`'s message, and `err` as its cause. A module
 * of its own, loaded when first needed (machine-token-interceptor.ts): a dynamic import of Connect's package
 * root would bundle all of Connect, its server side too, into the refresh path's chunk.
 */
export function unauthenticatedError(err: unknown): ConnectError {
  return new ConnectError(errorMessage(err), Code.Unauthenticated, undefined, undefined, err);
}
