import type { Interceptor } from "@connectrpc/connect";
import { errorMessage } from "../fs-errors.js";
import type { MachineTokenSource } from "./machine-token-source.js";

/** The request header LUCI services read a machine token from. */
export const MACHINE_TOKEN_HEADER = "X-Luci-Machine-Token";

/**
 * A Connect interceptor that sets {@link MACHINE_TOKEN_HEADER} on every request from
 * `source.getToken()`. When there is no token the request is not sent: the call fails with a
 * `ConnectError` of code `Unauthenticated` whose message is the source's and whose `cause` is the
 * source's error. The token is never logged.
 */
export function machineTokenInterceptor(source: MachineTokenSource): Interceptor {
  return (next) => async (req) => {
    let token: string;
    try {
      token = await source.getToken();
    } catch (err) {
      throw await unauthenticated(err);
    }
    req.header.set(MACHINE_TOKEN_HEADER, token);
    return next(req);
  };
}

/**
 * Connect would wrap a plain error as `Unknown`, which retry policies (ours included) take as
 * transient. Connect is loaded only here: whoever uses the interceptor has it loaded already,
 * and importing this module stays free of it.
 */
async function unauthenticated(err: unknown): Promise<Error> {
  const { Code, ConnectError } = await import("@connectrpc/connect");
  return new ConnectError(errorMessage(err), Code.Unauthenticated, undefined, undefined, err);
}
