import type { RequestOptions } from "node:http";
import { Agent, type AgentOptions } from "node:https";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { errorMessage } from "../fs-errors.js";

/**
 * An HTTPS agent whose connections go through a proxy tunnel (HTTP CONNECT, SOCKS5): a subclass
 * opens the tunnel to `host:port`, and TLS then runs end to end inside it, verified against the
 * server's name (never the proxy's) with the request's TLS options (`secureContext`). A failure to
 * open the tunnel is an error starting `proxy <host:port>: `, a transport error like Go's (so a
 * run retries it).
 */
export abstract class TunnelAgent extends Agent {
  /** The proxy, as the environment named it. */
  readonly proxy: URL;

  constructor(proxy: URL, options: AgentOptions = {}) {
    super({ keepAlive: true, ...options });
    this.proxy = proxy;
  }

  /** Opens a byte stream to `host:port` through the proxy. */
  protected abstract openTunnel(host: string, port: number): Promise<Duplex>;

  /** The proxy's host and port without brackets, for node:net. */
  protected proxyAddress(defaultPort: number): { host: string; port: number } {
    return {
      host: this.proxy.hostname.replace(/^\[|\]$/g, ""),
      port: Number(this.proxy.port) || defaultPort,
    };
  }

  override createConnection(
    options: RequestOptions & ConnectionOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = String(options.host);
    this.openTunnel(host, Number(options.port)).then(
      (socket) => {
        // node:https has set servername from the Host header (empty for an IP address).
        const servername = options.servername || (isIP(host) ? undefined : host);
        callback?.(null, tlsConnect({ ...options, socket, servername }));
      },
      (err: unknown) => {
        const error = new Error(`proxy ${this.proxy.host}: ${errorMessage(err)}`, { cause: err });
        callback?.(error, undefined as unknown as Duplex);
      },
    );
    return undefined;
  }
}
