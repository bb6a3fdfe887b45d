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
      return writeReply(res, reply);
    }
    if (path.startsWith(PRPC_PATH_PREFIX)) {
      if (req.method !== "POST") return writeReply(res, methodNotAllowed("POST"));
      if (path !== PRPC_MINT_PATH) return writeReply(res, prpcUnknownMethodReply(path));
      return serveMint(req, res, "prpc");
    }
    if (path === deps.connect.mintPath) {
      return serveMint(req, res, connectProtocolOf(header(req, "content-type")));
    }
    // Go's net/http NotFound text.
    return writeReply(
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
      // Drained (up to the cap) first, so keep-alive connections stay usable.
      await readBody(req, deps.maxRequestBytes, false);
      logCall({ ...entry, outcome: { kind: "proxy-html", status } });
      closeIfUnread(req, res);
      return writeReply(res, proxyErrorPage(status));
    }
    if (protocol === "prpc") {
      const call = {
        header: (name: string) => header(req, name),
        readBody: (limit: number) => readBody(req, limit),
        signal: clientGoneSignal(res),
      };
      const { reply, record } = await handlePrpcMint(call, plan, deps.minter, deps.maxRequestBytes);
      logCall({ ...entry, ...record });
      closeIfUnread(req, res);
      if (reply) await writeReply(res, reply, fault);
      return;
    }
    const { response, record } = await deps.connect.call(req, res, plan);
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

/**
 * HTTP/1.1: a request whose body was left unread (over the size cap) gets `Connection: close`,
 * so node does not read the rest of it to reuse the connection (Go's MaxBytesReader does the same).
 */
function closeIfUnread(req: NodeRequest, res: NodeResponse): void {
  if (!req.complete && "shouldKeepAlive" in res) res.shouldKeepAlive = false;
}

function methodNotAllowed(allow: string): RawReply {
  return rawReply(405, { Allow: allow, "Content-Type": "text/plain; charset=utf-8" }, "Method Not Allowed\n");
}

function header(req: NodeRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}
