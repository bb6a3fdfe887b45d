import type { Interceptor } from "@connectrpc/connect";
import type { MachineTokenSource } from "./machine-token-source.js";
import { assertTokenDestination } from "./token-destination.js";

/** The request header LUCI services read a machine token from. */
export const MACHINE_TOKEN_HEADER = "X-Luci-Machine-Token";

/**
 * A Connect interceptor that sets {@link MACHINE_TOKEN_HEADER} on every request from
 * `source.getToken()`, for `https:` base URLs and `http:` ones to this machine only (`localhost`,
 * 127.0.0.0/8, `[::1]`). When there is no token, or the URL is neither, the request is not sent:
 * the call fails with a `ConnectError` of code `Unauthenticated` whose message is the source's
 * (or says the URL may not carry a token) and whose `cause` is that error. The token is never
 * logged.
 */
export function machineTokenInterceptor(source: MachineTokenSource): Interceptor {
  return (next) => async (req) => {
    let token: string;
    try {
      assertTokenDestination(new URL(req.url));
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
  const { unauthenticatedError } = await import("./unauthenticated-error.js");
  return unauthenticatedError(err);
}
