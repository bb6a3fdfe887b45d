import { MACHINE_TOKEN_HEADER } from "./machine-token-interceptor.js";
import type { MachineTokenSource } from "./machine-token-source.js";
import { assertTokenDestination } from "./token-destination.js";

/** At most this many redirects are followed, as fetch does. */
const MAX_REDIRECTS = 20;
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Headers about a request body, dropped when a redirect turns the request into a GET (fetch standard). */
const BODY_HEADERS = ["Content-Encoding", "Content-Language", "Content-Location", "Content-Type"];

/**
 * Wraps `fetch` (default the global one) so every request carries {@link MACHINE_TOKEN_HEADER}
 * from `source.getToken()`, replacing any value the caller set. When there is no token the
 * request is not sent: the returned promise rejects with the source's error. The token is
 * never logged, and it only goes where the caller sent it:
 *
 * - Only `https:` URLs, and `http:` to this machine (`localhost`, 127.0.0.0/8, `[::1]`), get the
 *   token; any other URL rejects with a TypeError before the token is read.
 * - Redirects are followed here, not by fetch (which would send the header to any host a
 *   redirect names, https to http too), and only within the request's origin (scheme, host,
 *   port): up to 20, with fetch's rules (a 303, or a 301/302 after a POST, becomes a GET without
 *   its body; a 307/308 keeps both, and rejects if the body was a stream, which cannot be sent
 *   twice). A redirect to another origin is not followed: its 3xx response (with `Location`) is
 *   returned. `redirect: "manual"` returns the first response; `"error"` rejects on a redirect.
 */
export function withMachineToken(
  source: MachineTokenSource,
  fetchFn: typeof globalThis.fetch = globalThis.fetch,
): typeof globalThis.fetch {
  return async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    let url = new URL(request?.url ?? String(input));
    assertTokenDestination(url);
    const token = await source.getToken();
    // A Request carries its own headers; init's (when given) replace them, as fetch does.
    const headers = new Headers(init?.headers ?? request?.headers);
    headers.set(MACHINE_TOKEN_HEADER, token);
    const mode = init?.redirect ?? request?.redirect ?? "follow";
    let res = await fetchFn(input, { ...init, headers, redirect: "manual" });
    let method = (init?.method ?? request?.method ?? "GET").toUpperCase();
    let body = init?.body ?? request?.body ?? null;
    for (let hops = 0; mode !== "manual" && REDIRECTS.has(res.status); hops++) {
      const location = res.headers.get("Location");
      if (location === null) break;
      if (mode === "error") throw new TypeError(`redirected to ${location} (redirect: "error")`);
      const next = new URL(location, url);
      if (next.origin !== url.origin) break; // the token stays with the origin the caller named
      if (hops >= MAX_REDIRECTS)
        throw new TypeError(`more than ${MAX_REDIRECTS} redirects from ${url.origin}`);
      if ((res.status === 303 && method !== "HEAD") || (res.status <= 302 && method === "POST")) {
        [method, body] = ["GET", null];
        for (const h of BODY_HEADERS) headers.delete(h);
      } else if (body instanceof ReadableStream) {
        throw new TypeError(`cannot follow a ${res.status} redirect: the request body was a stream`);
      }
      await res.body?.cancel();
      url = next;
      res = await fetchFn(url, {
        ...init,
        method,
        body,
        headers,
        redirect: "manual",
        signal: init?.signal ?? request?.signal,
      });
    }
    return res;
  };
}
