import { MACHINE_TOKEN_HEADER } from "./machine-token-interceptor.js";
import type { MachineTokenSource } from "./machine-token-source.js";

/**
 * Wraps `fetch` (default the global one) so every request carries {@link MACHINE_TOKEN_HEADER}
 * from `source.getToken()`, replacing any value the caller set. When there is no token the
 * request is not sent: the returned promise rejects with the source's error. The token is
 * never logged.
 */
export function withMachineToken(
  source: MachineTokenSource,
  fetchFn: typeof globalThis.fetch = globalThis.fetch,
): typeof globalThis.fetch {
  return async (input, init) => {
    const token = await source.getToken();
    // A Request carries its own headers; init's (when given) replace them, as fetch does.
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set(MACHINE_TOKEN_HEADER, token);
    return fetchFn(input, { ...init, headers });
  };
}
