import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { type AddressInfo, connect, type Socket } from "node:net";
import type { TlsServerIdentity } from "./tls-fixtures.js";

/** One CONNECT request the proxy received. */
export interface TunnelRequest {
  /** The request target, `host:port`. */
  target: string;
  headers: IncomingHttpHeaders;
}

/** A real HTTP CONNECT proxy on 127.0.0.1 that sends every tunnel to 127.0.0.1:<asked port> (or a routed one). */
export interface TestConnectProxy {
  /** `http://127.0.0.1:<port>`, or `https://` for a proxy speaking TLS. */
  url: URL;
  tunnels: TunnelRequest[];
  /** Answer every CONNECT with this status (e.g. 407) instead of tunnelling; undefined to tunnel. */
  refuseWith: number | undefined;
  close(): Promise<void>;
}

/**
 * Starts a CONNECT proxy that ignores the asked host (so a test can ask for a name such as
 * `tokens.test` that does not resolve) and connects to that port on 127.0.0.1, or to the port
 * `routes` gives for the asked `host:port` (so a client's fixed `iamcredentials.googleapis.com:443`
 * reaches a fake on a free port). With `tls`, the proxy itself speaks TLS with that identity (an
 * `https://` proxy).
 */
export async function startConnectProxy(
  tls?: TlsServerIdentity,
  routes: Record<string, number> = {},
): Promise<TestConnectProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  };
  const proxy: TestConnectProxy = {
    url: new URL("http://127.0.0.1"),
    tunnels: [],
    refuseWith: undefined,
    close: async () => {},
  };
  const refuse: Parameters<typeof createServer>[1] = (_req, res) => res.writeHead(405).end();
  const server: Server = tls
    ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, refuse)
    : createServer(refuse);
  server.on("tlsClientError", () => {});
  server.on("connect", (req, client: Socket, head: Buffer) => {
    track(client);
    const target = req.url ?? "";
    proxy.tunnels.push({ target, headers: req.headers });
    if (proxy.refuseWith !== undefined) {
      client.end(`HTTP/1.1 ${proxy.refuseWith} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    const port =
      (Object.hasOwn(routes, target) ? routes[target] : undefined) ?? Number(/:(\d+)$/.exec(target)?.[1]);
    const upstream = connect(port, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = new URL(`${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`);
  proxy.close = async () => {
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}

/** A real node:https server on 127.0.0.1, port 0. */
export interface TestHttpsServer {
  port: number;
  server: HttpsServer;
  close(): Promise<void>;
}

/** Starts an HTTPS server with `identity` and `handler`, on `host` (default 127.0.0.1). */
export async function startHttpsServer(
  identity: TlsServerIdentity,
  handler: Parameters<typeof createHttpsServer>[1],
  host = "127.0.0.1",
): Promise<TestHttpsServer> {
  const server = createHttpsServer({ cert: identity.certPem, key: identity.keyPem }, handler);
  // Client-side TLS failures show up here as resets; they are what the tests expect.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
