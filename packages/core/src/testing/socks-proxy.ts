import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { createServer as createSocks5Server } from "@pondwader/socks5-server";

/** One SOCKS5 CONNECT the proxy received. */
export interface SocksRequest {
  /** The destination as the client sent it: a name (resolved by the proxy) or an address. */
  host: string;
  port: number;
  /** The username the client authenticated with, if any. */
  user?: string;
}

/** A real SOCKS5 proxy on 127.0.0.1 that sends every connection to 127.0.0.1:<asked port>. */
export interface TestSocksProxy {
  /** `socks5://127.0.0.1:<port>`. */
  url: URL;
  requests: SocksRequest[];
  close(): Promise<void>;
}

/**
 * Starts a SOCKS5 proxy (the `@pondwader/socks5-server` package) that ignores the asked host, so a
 * test can ask for a name such as `tokens.test` that does not resolve, and connects to that port
 * on 127.0.0.1. With `auth`, clients must log in with that username and password.
 */
export async function startSocksProxy(
  options: { auth?: { username: string; password: string } } = {},
): Promise<TestSocksProxy> {
  const requests: SocksRequest[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  };
  const socks = createSocks5Server(options.auth && { auth: options.auth });
  socks.setConnectionHandler((conn, sendStatus) => {
    requests.push({
      host: conn.destAddress,
      port: conn.destPort,
      ...(conn.username && { user: conn.username }),
    });
    const upstream = connect(conn.destPort, "127.0.0.1");
    track(upstream);
    let granted = false;
    upstream.once("connect", () => {
      granted = true;
      sendStatus("REQUEST_GRANTED");
      conn.socket.pipe(upstream);
      upstream.pipe(conn.socket);
    });
    upstream.once("error", () => {
      if (!granted) sendStatus("CONNECTION_REFUSED");
      conn.socket.destroy();
    });
    conn.socket.on("error", () => upstream.destroy());
  });
  const server = createServer((socket) => {
    track(socket);
    socks._handleConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: new URL(`socks5://127.0.0.1:${(server.address() as AddressInfo).port}`),
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
