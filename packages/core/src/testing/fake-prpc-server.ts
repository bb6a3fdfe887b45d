import { verify, X509Certificate } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type MachineTokenRequest,
  MachineTokenRequestSchema,
  type MintMachineTokenRequest,
  MintMachineTokenRequestSchema,
  MintMachineTokenResponseSchema,
} from "../gen/tokenserver/minter/token_minter_pb.js";

/** What the fake server received in one request. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
  /** The body decoded with our schema (undefined if it did not decode). */
  request?: MintMachineTokenRequest;
  /** `serialized_token_request` decoded. */
  inner?: MachineTokenRequest;
  /** The signature checked against the public key of the certificate in the request. */
  signatureValid?: boolean;
}

/** How the fake server answers one request. */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Destroy the connection instead of answering. */
  reset?: boolean;
  /** gzip the body and say so. */
  gzip?: boolean;
}

/** A real node:http(s) server speaking just enough pRPC for TokenMinter.MintMachineToken. */
export interface FakePrpcServer {
  /** `http://127.0.0.1:<port>` (`https://<host>:<port>` with TLS). */
  baseUrl: string;
  /** `127.0.0.1:<port>` (a `-backend` value). */
  backend: string;
  /** The path of TokenMinter.MintMachineToken. */
  mintPath: string;
  requests: ReceivedRequest[];
  /** Chooses the replies; `n` counts requests from 1. Default: {@link mintedReply}. */
  respond(fn: (req: ReceivedRequest, n: number) => Reply): void;
  /**
   * Forgets requests and resets the reply to the default. A request that began before and ends
   * after is dropped unanswered: an aborted call of one test must not count in the next.
   */
  reset(): void;
  close(): Promise<void>;
}

/** The binary pRPC content type. */
export const BINARY = "application/prpc; encoding=binary";

/** A successful pRPC reply carrying `response`. */
export function messageReply(response: MessageInitShape<typeof MintMachineTokenResponseSchema>): Reply {
  return {
    status: 200,
    headers: { "Content-Type": BINARY, "X-Prpc-Grpc-Code": "0" },
    body: toBinary(MintMachineTokenResponseSchema, create(MintMachineTokenResponseSchema, response)),
  };
}

/** A token `token` expiring at `expiry`, service version `unit-tests/mocked-ver`. */
export function mintedReply(token = "token-1", expiry = new Date(1422939906_000)): Reply {
  const serviceVersion = "unit-tests/mocked-ver";
  return messageReply({
    serviceVersion,
    tokenResponse: {
      serviceVersion,
      tokenType: {
        case: "luciMachineToken",
        value: { machineToken: token, expiry: timestampFromDate(expiry) },
      },
    },
  });
}

/** A redirect to `location` (a path, or a whole URL), with a short HTML body as servers send. */
export function redirectReply(status: number, location: string): Reply {
  return {
    status,
    headers: { Location: location, "Content-Type": "text/html; charset=utf-8" },
    body: `<a href="${location}">Moved</a>.\n`,
  };
}

/** A pRPC error reply as a LUCI server sends it. */
export function grpcErrorReply(code: number, message: string, status = 500): Reply {
  return {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", "X-Prpc-Grpc-Code": String(code) },
    body: `${message}\n`,
  };
}

/** Options of {@link startFakePrpcServer}. */
export interface FakePrpcServerOptions {
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { certPem: string; keyPem: string };
  /** The address to listen on; default 127.0.0.1. */
  host?: string;
}

/** Starts the fake server, port 0. */
export async function startFakePrpcServer(options: FakePrpcServerOptions = {}): Promise<FakePrpcServer> {
  const requests: ReceivedRequest[] = [];
  let respond: (req: ReceivedRequest, n: number) => Reply = () => mintedReply();
  const timers = new Set<NodeJS.Timeout>();
  const host = options.host ?? "127.0.0.1";
  let generation = 0;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const born = generation;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (born !== generation) {
        res.destroy();
        return;
      }
      const received: ReceivedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: new Uint8Array(Buffer.concat(chunks)),
      };
      try {
        received.request = fromBinary(MintMachineTokenRequestSchema, received.body);
        received.inner = fromBinary(MachineTokenRequestSchema, received.request.serializedTokenRequest);
        const publicKey = new X509Certificate(received.inner.certificate).publicKey;
        received.signatureValid = verify(
          "sha256",
          received.request.serializedTokenRequest,
          publicKey,
          received.request.signature,
        );
      } catch {
        // Left undefined: the test sees what did not decode.
      }
      requests.push(received);
      const reply = respond(received, requests.length);
      const send = () => {
        if (reply.reset) {
          req.socket.destroy();
          return;
        }
        let body: Uint8Array =
          typeof reply.body === "string"
            ? new TextEncoder().encode(reply.body)
            : (reply.body ?? new Uint8Array());
        const headers: Record<string, string> = { ...reply.headers };
        if (reply.gzip) {
          body = gzipSync(body);
          headers["Content-Encoding"] = "gzip";
        }
        if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-length")) {
          headers["Content-Length"] = String(body.length);
        }
        res.writeHead(reply.status ?? 200, headers);
        res.end(body);
      };
      if (reply.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) send();
        }, reply.delayMs);
        timers.add(timer);
      } else {
        send();
      }
    });
  };
  const server = options.tls
    ? createTlsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, listener)
    : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `${options.tls ? "https" : "http"}://${host}:${port}`,
    backend: `${host}:${port}`,
    mintPath: "/prpc/tokenserver.minter.TokenMinter/MintMachineToken",
    requests,
    respond(fn) {
      respond = fn;
    },
    reset() {
      generation++;
      requests.length = 0;
      respond = () => mintedReply();
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
