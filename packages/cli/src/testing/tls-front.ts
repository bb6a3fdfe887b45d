import { request as httpRequest } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";

/** An HTTPS server that passes every request on to a plain-HTTP server (a TLS front for the dev server). */
export interface TlsFront {
  port: number;
  close(): Promise<void>;
}

/** Starts a TLS front on `host` (port 0) with `identity`, forwarding to `target` (`http://host:port`). */
export async function startTlsFront(
  target: string,
  identity: { keyPem: string; certPem: string },
  host = "127.0.0.1",
): Promise<TlsFront> {
  const to = new URL(target);
  const server = createServer({ key: identity.keyPem, cert: identity.certPem }, (req, res) => {
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
