import type { UniversalClientFn, UniversalClientResponse } from "@connectrpc/connect/protocol";
import { type Logger, silentLogger } from "../common/logger.js";
import { escapeForLog } from "../common/one-line.js";
import { HttpHeaders } from "./http-headers.js";
import { isLoopback } from "./proxy-from-env.js";

/** Go's http.Client: the request a 10th redirect would lead to is not sent. */
export const MAX_REDIRECT_REQUESTS = 10;

/** The answers Go's http.Client follows; 300, 304 and 305 are given to the caller as they are. */
const FOLLOWED = new Set([301, 302, 303, 307, 308]);

/** Headers that must not reach another origin (Go keeps them for subdomains; we never send them on). */
const CREDENTIALS = ["authorization", "proxy-authorization", "cookie", "cookie2", "www-authenticate"];

/** Headers about a body, dropped when a redirect turns the POST into a bodiless GET (as Go). */
const BODY_HEADERS = ["content-type", "content-length", "content-encoding"];

/** Most of a redirect's body read before its connection is dropped instead of drained. */
const MAX_DISCARDED_BYTES = 64 << 10;

/** Options of {@link followRedirects}. */
export interface FollowRedirectsOptions {
  /** The HTTP client for an origin; asked once per origin (the first request's included). */
  clientFor(url: URL): UniversalClientFn;
  /** Receives a debug line per redirect followed. */
  logger?: Logger;
}

/**
 * An HTTP client that follows redirects as Go's http.Client does for tokend's pRPC client:
 * 307 and 308 resend the same method and body; 301, 302 and 303 turn a POST into a GET without a
 * body; a relative Location is resolved against the URL it answered; a 3xx without a Location is
 * the answer. The 10th redirect of one call is an error (`stopped after 10 redirects`), as in Go.
 *
 * Where we are stricter than Go: a redirect to plain HTTP is followed only to a loopback host (the
 * signed request in the body would let whoever reads it mint this machine's token for 10 minutes),
 * and credential headers never go to another origin. Every hop runs under the call's signal, so
 * the run's deadline bounds the chain. Errors are thrown as plain Errors: the transport reports
 * them as it reports a failed connection (INTERNAL, retried), as Go's client does.
 */
export function followRedirects(options: FollowRedirectsOptions): UniversalClientFn {
  const logger = options.logger ?? silentLogger;
  const clients = new Map<string, UniversalClientFn>();
  const clientFor = (url: URL) => {
    let client = clients.get(url.origin);
    if (client === undefined) {
      client = options.clientFor(url);
      clients.set(url.origin, client);
    }
    return client;
  };
  return async (request) => {
    const body = request.body && (await readAll(request.body));
    const first = new URL(request.url);
    let url = first;
    let method = request.method;
    let header = new HttpHeaders(request.header);
    let withBody = body !== undefined;
    for (let sent = 1; ; sent++) {
      const response = await clientFor(url)({
        url: url.href,
        method,
        header,
        signal: request.signal,
        body: withBody && body ? once(body) : undefined,
      });
      const location = response.header.get("Location");
      if (!FOLLOWED.has(response.status) || !location) return response;
      await discard(response);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new Error(`failed to parse Location header ${quote(location)}`);
      }
      if (sent >= MAX_REDIRECT_REQUESTS) {
        throw new Error(`stopped after ${MAX_REDIRECT_REQUESTS} redirects (the last to ${quote(next.href)})`);
      }
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new Error(`unsupported protocol scheme ${quote(next.protocol.slice(0, -1))} in a redirect`);
      }
      const host = next.hostname.replace(/^\[|\]$/g, "").toLowerCase();
      if (next.protocol === "http:" && !isLoopback(host)) {
        throw new Error(
          `refused to follow a redirect from ${url.origin} to plain HTTP (${quote(next.origin)}): plain HTTP is only used for loopback hosts`,
        );
      }
      if (response.status <= 303 && method !== "GET" && method !== "HEAD") {
        method = "GET";
        withBody = false;
      }
      header = new HttpHeaders(request.header);
      if (!withBody) for (const name of BODY_HEADERS) header.delete(name);
      if (next.origin !== first.origin) for (const name of CREDENTIALS) header.delete(name);
      // Go names the page that redirected, unless that would tell an http page about an https one.
      if (!(url.protocol === "https:" && next.protocol === "http:")) header.set("Referer", referer(url));
      logger.log("debug", `Following a ${response.status} redirect to ${escapeForLog(next.href, 512)}`);
      url = next;
    }
  };
}

function quote(text: string): string {
  return escapeForLog(JSON.stringify(text), 1024);
}

/** A URL as a Referer: no user name or password, no fragment. */
function referer(url: URL): string {
  const copy = new URL(url);
  copy.username = "";
  copy.password = "";
  copy.hash = "";
  return copy.href;
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** Reads a redirect's body so its connection can be reused; a long one is cut off instead. */
async function discard(response: UniversalClientResponse): Promise<void> {
  const it = response.body[Symbol.asyncIterator]();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await it.next();
      if (done) return;
      read += value.length;
      if (read > MAX_DISCARDED_BYTES) {
        await it.throw?.(new Error("redirect body not read"));
        return;
      }
    }
  } catch {
    // A body that breaks off does not matter: the next hop opens its own connection.
  }
}
