import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";

/** A request one of the Google fakes received. */
export interface GoogleFakeRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** What the fake answered. */
  status: number;
}

/** What a fake answers: a status and a JSON value (or a raw body with its content type). */
export interface FakeAnswer {
  status: number;
  json?: unknown;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** Where a Google fake listens: plain http, or https with this identity. */
export interface FakeListenOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Serve https with this certificate (its CA in the client's SSL_CERT_FILE). Default plain http. */
  tls?: { certPem: string; keyPem: string };
}

/** A running fake: its base URL (`http(s)://host:port`), what it received, and close. */
export interface RunningFake {
  url: string;
  /** `host:port`. */
  hostPort: string;
  requests: GoogleFakeRequest[];
  close(): Promise<void>;
}

/** Largest request body read (a JWT grant is ~800 bytes). */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Starts an HTTP(S) server that records every request and answers it with `answer` (which may
 * also record its own counts); connections are dropped on close.
 */
export async function startFakeGoogleServer(
  options: FakeListenOptions,
  answer: (request: Omit<GoogleFakeRequest, "status">, baseUrl: string) => FakeAnswer | Promise<FakeAnswer>,
): Promise<RunningFake> {
  const requests: GoogleFakeRequest[] = [];
  const sockets = new Set<Socket>();
  let baseUrl = "";
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        return;
      }
      chunks.push(chunk);
    }
    const request = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    };
    let a: FakeAnswer;
    try {
      a = await answer(request, baseUrl);
    } catch (err) {
      a = { status: 500, body: String(err) };
    }
    requests.push({ ...request, status: a.status });
    const body = a.json !== undefined ? JSON.stringify(a.json) : (a.body ?? "");
    res.writeHead(a.status, {
      "content-type":
        a.contentType ?? (a.json !== undefined ? "application/json; charset=utf-8" : "text/plain"),
      ...a.headers,
    });
    res.end(body);
  };
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, handler)
    : createHttpServer(handler);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPort = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  baseUrl = `${options.tls ? "https" : "http"}://${hostPort}`;
  return {
    url: baseUrl,
    hostPort,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
