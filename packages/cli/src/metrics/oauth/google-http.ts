import type { Agent, IncomingMessage } from "node:http";
import type { SecureContext } from "node:tls";
import type { Logger } from "@luci-machine-tokend/core";
import { errorMessage, escapeForLog } from "@luci-machine-tokend/core/internal";
import { createProxyAgent, isLoopback, loadTrustRoots, proxyForUrl } from "@luci-machine-tokend/core/net";

/** One HTTP request to a Google service (OAuth token endpoint, IAM, GCE metadata). */
export interface GoogleRequest {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Plain http allowed to this non-loopback host, never proxied (the GCE metadata server). */
  metadataServer?: boolean;
}

/** An answer: its status and status line, and up to {@link MAX_ANSWER_BYTES} of its body. */
export interface GoogleAnswer {
  status: number;
  /** Go's `resp.Status`: "400 Bad Request". */
  statusLine: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
  /** The body was longer than the cap; `body` holds its start (as Go's io.LimitReader). */
  truncated: boolean;
}

/** A request refused before it was sent (plain http to a far host, a downgrading redirect): retrying cannot help. */
export class RefusedRequestError extends Error {
  override name = "RefusedRequestError";
}

/** Sends requests; `signal` ends one (the push's deadline). */
export type GoogleHttp = (request: GoogleRequest, signal: AbortSignal) => Promise<GoogleAnswer>;

/** Largest answer body read: x/oauth2's JWT source reads at most 1 MiB. */
export const MAX_ANSWER_BYTES = 1 << 20;

/** Redirects followed, as Go's http.Client. */
const MAX_REDIRECTS = 10;

/** Options of {@link createGoogleHttp}. */
export interface GoogleHttpOptions {
  /** HTTPS_PROXY, HTTP_PROXY, NO_PROXY, SSL_CERT_FILE, SSL_CERT_DIR, NODE_EXTRA_CA_CERTS. */
  env: Record<string, string | undefined>;
  /** Hears which proxy and trust roots are used (debug). */
  logger: Logger;
}

/**
 * HTTP as Go's default client does it for luci-go's OAuth calls: HTTPS verified with the system's
 * trust roots (SSL_CERT_FILE/SSL_CERT_DIR replace them, read once), through the proxy the
 * environment names (loopback never), redirects followed (10 at most; 307/308 keep the method and
 * body, others become a GET; `authorization` kept only on the same host or a subdomain). Unlike Go:
 * plain http only to loopback hosts and the GCE metadata server (an assertion or a token in
 * clear text is anyone's on the path), a redirect from https to plain http is refused, every
 * request ends with `signal`, and a body is read up to 1 MiB.
 */
export function createGoogleHttp(options: GoogleHttpOptions): GoogleHttp {
  let secureContext: SecureContext | undefined;
  const tls = async () => {
    if (secureContext === undefined) {
      const roots = loadTrustRoots({ env: options.env, logger: options.logger });
      // Node's own modules by getBuiltinModule: a single executable cannot import() them.
      const { createSecureContext } = process.getBuiltinModule("node:tls");
      secureContext = createSecureContext({ ca: roots.ca });
    }
    return secureContext;
  };

  return async (request, signal) => {
    let { method, body } = request;
    let url = new URL(request.url);
    const headers = { ...request.headers };
    for (let hops = 0; ; hops++) {
      const answer = await send(
        method,
        url,
        headers,
        body,
        request.metadataServer ?? false,
        signal,
        tls,
        options,
      );
      const location = answer.headers.location;
      if (![301, 302, 303, 307, 308].includes(answer.status) || location === undefined) return answer;
      if (hops >= MAX_REDIRECTS)
        throw new Error(`${goMethod(method)} ${JSON.stringify(url.href)}: stopped after 10 redirects`);
      const next = new URL(location, url);
      if (url.protocol === "https:" && next.protocol !== "https:")
        throw new Error(
          `${goMethod(method)} ${JSON.stringify(url.href)}: refused a redirect from https to ${escapeForLog(next.protocol)}`,
        );
      if (![307, 308].includes(answer.status) && method === "POST") {
        method = "GET";
        body = undefined;
        delete headers["content-type"];
      }
      // Go drops credentials on a redirect to another host (not a subdomain).
      const host = next.hostname;
      if (host !== url.hostname && !host.endsWith(`.${url.hostname}`)) delete headers.authorization;
      url = next;
    }
  };
}

async function send(
  method: "GET" | "POST",
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
  metadataServer: boolean,
  signal: AbortSignal,
  tls: () => Promise<SecureContext>,
  options: GoogleHttpOptions,
): Promise<GoogleAnswer> {
  const where = `${goMethod(method)} ${JSON.stringify(url.href)}`;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (url.protocol !== "https:" && !(url.protocol === "http:" && (metadataServer || isLoopback(host))))
    throw new RefusedRequestError(`${where}: only https (or http to a loopback host) is used`);
  signal.throwIfAborted();
  let agent: Agent | false = false;
  let secureContext: SecureContext | undefined;
  if (url.protocol === "https:") {
    secureContext = await tls();
    const proxy = proxyForUrl(url, options.env);
    if (proxy) {
      options.logger.log("debug", `Using the proxy ${proxy.protocol}//${proxy.host} for ${url.host}`);
      agent = createProxyAgent(proxy, secureContext);
    }
  }
  const { request } = process.getBuiltinModule(url.protocol === "https:" ? "node:https" : "node:http");
  const data = body === undefined ? undefined : Buffer.from(body);
  try {
    return await new Promise<GoogleAnswer>((resolve, reject) => {
      const requestOptions = {
        method,
        agent,
        secureContext,
        signal,
        headers: { ...headers, ...(data && { "content-length": String(data.length) }) },
      };
      const req = request(url, requestOptions, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on("data", (chunk: Buffer) => {
          const room = MAX_ANSWER_BYTES - size;
          chunks.push(chunk.subarray(0, room));
          size += Math.min(chunk.length, room);
          if (chunk.length > room) {
            truncated = true;
            res.destroy();
            finish();
          }
        });
        const finish = () =>
          resolve({
            status: res.statusCode ?? 0,
            statusLine: `${res.statusCode} ${res.statusMessage ?? ""}`.trim(),
            headers: res.headers,
            body: Buffer.concat(chunks),
            truncated,
          });
        res.on("end", finish);
        res.on("error", (err) => (truncated ? finish() : reject(err)));
      });
      req.on("error", reject);
      req.end(data);
    });
  } catch (err) {
    const reason = signal.aborted ? errorMessage(signal.reason) : errorMessage(err);
    throw new Error(`${where}: ${escapeForLog(reason)}`, { cause: err });
  } finally {
    if (agent) agent.destroy();
  }
}

/** Go's spelling of a method in its client errors: `Post "https://…": …`. */
function goMethod(method: string): string {
  return method[0] + method.slice(1).toLowerCase();
}
