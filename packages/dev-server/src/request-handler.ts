import { constants as h2constants } from "node:http2";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { CERTIFICATES_PATH, type CertificatesSource, certificatesReply } from "./certificates.js";
import type { ConnectService } from "./connect-service.js";
import { connectProtocolOf } from "./connect-service.js";
import type { FaultPlan, Faults } from "./faults.js";
import type { NodeRequest, NodeResponse } from "./http/node-types.js";
import { proxyErrorPage } from "./http/proxy-page.js";
import { clientGoneSignal, readBody } from "./http/read-body.js";
import { type RawReply, rawReply } from "./http/reply.js";
import { writeReply } from "./http/write-reply.js";
import { callCost, type MemoryBudget } from "./memory-budget.js";
import type { Minter } from "./minter.js";
import { handlePrpcMint, PRPC_MINT_PATH, PRPC_PATH_PREFIX, prpcUnknownMethodReply } from "./prpc/handler.js";
import type { RecordedRequest, RpcProtocol } from "./request-log.js";
import { boundOutcome } from "./request-log.js";

/** What the HTTP entry point dispatches to. */
export interface RequestHandlerDeps {
  minter: Minter;
  connect: ConnectService;
  faults: Faults;
  /** Calls are appended here. */
  log: RecordedRequest[];
  /** The log keeps the newest this many calls, so a long-running server's memory stays flat. */
  logLimit: number;
  /** Called with each entry as it is logged. */
  onRequest?: (entry: RecordedRequest) => void;
  /** Largest request body, as sent and once decompressed. */
  maxRequestBytes: number;
  /** Request bytes held across every call (each call holds a lease on it until it ends). */
  budget: MemoryBudget;
  /** A request whose body has not fully arrived after this long is dropped. */
  requestTimeoutMs: number;
  /** Server clock, without the clock-offset fault. */
  now: () => Date;
  certificates: CertificatesSource;
}

/**
 * The node request listener shared by the HTTP/1.1 and HTTP/2 servers: pRPC under /prpc/, the
 * token-signing certificates, and Connect/gRPC/gRPC-web for everything else.
 */
export function createRequestHandler(
  deps: RequestHandlerDeps,
): (req: NodeRequest, res: NodeResponse) => void {
  const serve = async (req: NodeRequest, res: NodeResponse) => {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    if (path === CERTIFICATES_PATH) {
      const offsetMs = deps.faults.current().clockOffsetMs ?? 0;
      const reply =
        req.method === "GET" || req.method === "HEAD"
          ? certificatesReply(deps.certificates, new Date(deps.now().getTime() + offsetMs))
          : methodNotAllowed("GET");
      return answerUnread(req, res, reply);
    }
    if (path.startsWith(PRPC_PATH_PREFIX)) {
      if (req.method !== "POST") return answerUnread(req, res, methodNotAllowed("POST"));
      if (path !== PRPC_MINT_PATH) return answerUnread(req, res, prpcUnknownMethodReply(path));
      return serveMint(req, res, "prpc");
    }
    if (path === deps.connect.mintPath) {
      return serveMint(req, res, connectProtocolOf(header(req, "content-type")));
    }
    // Go's net/http NotFound text.
    return answerUnread(
      req,
      res,
      rawReply(404, { "Content-Type": "text/plain; charset=utf-8" }, "404 page not found\n"),
    );
  };

  const logCall = (call: RecordedRequest) => {
    const entry = { ...call, outcome: boundOutcome(call.outcome) };
    deps.log.push(entry);
    if (deps.log.length > deps.logLimit) deps.log.splice(0, deps.log.length - deps.logLimit);
    deps.onRequest?.(entry);
  };

  const serveMint = async (req: NodeRequest, res: NodeResponse, protocol: RpcProtocol) => {
    const plan = deps.faults.take();
    const entry: RecordedRequest = {
      protocol,
      httpVersion: req.httpVersion,
      receivedAt: deps.now(),
      latencyMs: plan.latencyMs,
      outcome: { kind: "client-gone" },
    };
    const fault = plan.httpFault;
    if (fault) entry.httpFault = fault;
    if (fault?.kind === "proxy-html") {
      const status = fault.status ?? 502;
      // Drained (up to the cap, nothing kept) first, so keep-alive connections stay usable.
      await readBody(req, { limit: deps.maxRequestBytes });
      logCall({ ...entry, outcome: { kind: "proxy-html", status } });
      closeIfUnread(req, res);
      return writeReply(res, proxyErrorPage(status));
    }
    // What the call holds of the memory budget, returned when its response closes (or the client
    // left). Without room even for the call itself, its body is refused unread (UNAVAILABLE).
    const lease = deps.budget.lease();
    res.once("close", () => lease.release());
    if (!lease.take(callCost(req.rawHeaders))) lease.release();
    if (protocol === "prpc") {
      const call = {
        header: (name: string) => header(req, name),
        readBody: (limit: number) => readBody(req, { limit, lease }),
        reserve: (bytes: number) => lease.take(bytes),
        signal: clientGoneSignal(res),
      };
      const { reply, record } = await handlePrpcMint(call, plan, deps.minter, deps.maxRequestBytes);
      logCall({ ...entry, ...record });
      closeIfUnread(req, res);
      if (reply) await writeReply(res, reply, fault);
      return;
    }
    const { response, record } = await deps.connect.call(req, res, plan, lease);
    logCall({
      ...entry,
      ...(record ?? { outcome: { kind: "protocol-error", httpStatus: response.status } }),
    });
    closeIfUnread(req, res);
    await writeConnectResponse(res, response, plan);
  };

  return (req, res) => {
    dropIfSlow(req, res, deps.requestTimeoutMs);
    serve(req, res).catch((err: unknown) => {
      // A bug or a broken connection: answer 500 if still possible, else drop the connection.
      if (!res.headersSent && !res.destroyed) {
        writeReply(
          res,
          rawReply(500, { "Content-Type": "text/plain; charset=utf-8" }, `${String(err)}\n`),
        ).catch(() => res.destroy());
      } else res.destroy();
    });
  };
}

async function writeConnectResponse(res: NodeResponse, response: UniversalServerResponse, plan: FaultPlan) {
  const fault = plan.httpFault;
  if (fault?.kind === "wrong-content-type") {
    response.header?.set("content-type", fault.contentType ?? "text/html; charset=utf-8");
  }
  if (!fault || fault.kind === "wrong-content-type") {
    await universalResponseToNodeResponse(response, res).catch(() => res.destroy());
    return;
  }
  // The other faults cut or replace the body, so it is collected first (unary answers are small).
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body ?? []) chunks.push(chunk);
  const headers: Record<string, string> = {};
  response.header?.forEach((value, key) => {
    headers[key] = value;
  });
  const body = new Uint8Array(Buffer.concat(chunks));
  headers["content-length"] = String(body.length);
  await writeReply(res, { status: response.status, headers, body }, fault);
}

/**
 * Drops a request whose body is still arriving after `timeoutMs` (a client trickling bytes holds a
 * stream, memory and, on HTTP/1.1, a connection). Node does this for HTTP/1.1 (requestTimeout) but
 * not for HTTP/2 streams. The time a call takes after its body arrived (latency faults) is not limited.
 */
function dropIfSlow(req: NodeRequest, res: NodeResponse, timeoutMs: number): void {
  const timer = setTimeout(() => {
    if (req.complete) return;
    // HTTP/2: reset just this stream; HTTP/1.1: the connection is unusable mid-body.
    if ("stream" in res) res.stream.close(h2constants.NGHTTP2_CANCEL);
    else req.socket.destroy();
  }, timeoutMs);
  timer.unref();
  res.once("close", () => clearTimeout(timer));
}

/** Answers without reading the body: whatever the client still sends is not read either. */
function answerUnread(req: NodeRequest, res: NodeResponse, reply: RawReply): Promise<void> {
  closeIfUnread(req, res);
  return writeReply(res, reply);
}

/**
 * A request whose body was left unread (over the size cap, or refused by the memory budget) is
 * not read further. HTTP/1.1: `Connection: close`, so node does not read the rest to reuse the
 * connection (Go's MaxBytesReader does the same). HTTP/2: once the answer is sent, RST_STREAM
 * NO_ERROR asks the client to stop sending (RFC 9113 §8.1), and what arrived meanwhile is
 * discarded, so the stream closes (node keeps a stream with unread data open) and holds nothing.
 */
function closeIfUnread(req: NodeRequest, res: NodeResponse): void {
  if (!bodyLeftUnread(req)) return;
  if ("shouldKeepAlive" in res) {
    res.shouldKeepAlive = false;
    return;
  }
  // Once the answer is out: node's compatibility layer always ends a response with trailers
  // (gRPC's status among them), sent from its own 'wantTrailers' listener, which runs first.
  const stream = res.stream;
  stream.once("wantTrailers", () =>
    setImmediate(() => {
      stream.close(h2constants.NGHTTP2_NO_ERROR);
      req.resume();
    }),
  );
}

/** Whether the client may still be sending a body nobody reads. */
function bodyLeftUnread(req: NodeRequest): boolean {
  if (req.complete) return false;
  // HTTP/2: unless the HEADERS frame ended the stream, DATA may follow.
  if ("stream" in req) return !req.stream.endAfterHeaders;
  // HTTP/1.1 (node marks a request complete only once its end is parsed, after the handler runs):
  // only a request that announces a body has one.
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

function methodNotAllowed(allow: string): RawReply {
  return rawReply(405, { Allow: allow, "Content-Type": "text/plain; charset=utf-8" }, "Method Not Allowed\n");
}

function header(req: NodeRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}
