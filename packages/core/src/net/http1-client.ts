import {
  type Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from "node:http";
import { request as httpsRequest } from "node:https";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  getAbortSignalReason,
  type UniversalClientFn,
  type UniversalClientRequest,
  type UniversalClientResponse,
} from "@connectrpc/connect/protocol";
import { HttpHeaders } from "./http-headers.js";

/**
 * An HTTP/1.1 client for Connect transports over node:http(s), with {@link HttpHeaders} instead of
 * the global `Headers` (which loads undici on Node 20). It does what connect-node's client does for
 * a unary call: the request body written, the response's status, headers and body handed on, and
 * the call's signal ending it all (the request and the response destroyed with the signal's
 * reason). Node's errors (`ECONNREFUSED`, TLS verdicts) become ConnectErrors with connect-node's
 * codes (Unavailable, Aborted, Internal), their message unchanged and the error as their cause.
 */
export function createHttp1Client(options: { agent?: Agent } = {}): UniversalClientFn {
  return (req) =>
    new Promise<UniversalClientResponse>((resolve, reject) => {
      const signal = req.signal ?? new AbortController().signal;
      if (signal.aborted) {
        reject(getAbortSignalReason(signal));
        return;
      }
      const url = new URL(req.url);
      const request = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, {
        method: req.method,
        headers: nodeHeaders(req.header),
        agent: options.agent,
      });
      let response: IncomingMessage | undefined;
      const abort = () => {
        const reason = getAbortSignalReason(signal); // Connect's error for a deadline or a cancel
        (response ?? request).destroy(reason as Error);
        reject(reason);
      };
      const done = () => signal.removeEventListener("abort", abort);
      signal.addEventListener("abort", abort, { once: true });
      request.on("error", (err) => {
        done();
        reject(connectErrorFromNode(err));
      });
      request.on("response", (res) => {
        response = res;
        res.once("close", done);
        resolve({
          status: res.statusCode ?? 0,
          header: headersOf(res.headers),
          body: responseBody(res),
          trailer: new HttpHeaders(),
        });
      });
      writeBody(req, request).catch((err: unknown) =>
        request.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    });
}

async function writeBody(
  req: UniversalClientRequest,
  request: ReturnType<typeof httpRequest>,
): Promise<void> {
  for await (const chunk of req.body ?? []) {
    if (!request.write(chunk)) await new Promise((resolve) => request.once("drain", resolve));
  }
  request.end();
}

/** The response body as Connect reads it; an error or the call's abort ends the iteration with that error. */
async function* responseBody(response: IncomingMessage): AsyncGenerator<Uint8Array> {
  for await (const chunk of response) yield chunk as Buffer;
}

function nodeHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

function headersOf(nodeHeaders: IncomingHttpHeaders): HttpHeaders {
  const headers = new HttpHeaders();
  for (const [name, value] of Object.entries(nodeHeaders)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

/** Node's error as connect-node's client reports it: the same message, a code for retry policies. */
function connectErrorFromNode(err: Error): ConnectError {
  if (err instanceof ConnectError) return err;
  const chain: Array<NodeJS.ErrnoException> = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 8; e = e.cause) chain.push(e);
  const has = (codes: string[]) => chain.some((e) => codes.includes(String(e.code)));
  const code = has(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED"])
    ? Code.Unavailable
    : has(["ERR_STREAM_WRITE_AFTER_END", "ERR_STREAM_DESTROYED"]) || chain.some((e) => e.syscall === "read")
      ? Code.Aborted
      : Code.Internal;
  return ConnectError.from(err, code);
}
