import type { ClientRequest, RequestOptions } from "node:http";
import { Agent, type AgentOptions } from "node:https";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { errorMessage } from "../fs-errors.js";

/** Options of {@link TunnelAgent}: the agent's, plus how long opening a tunnel may take. */
export interface TunnelAgentOptions extends AgentOptions {
  /**
   * How long opening a tunnel may take in all, from the first byte sent to the proxy to the
   * tunnel's first byte, however slowly the proxy trickles its answer. Default 30 s (the socks
   * package's own limit). The request's deadline usually ends it sooner.
   */
  tunnelTimeoutMs?: number;
}

/** Where the agent notes, in a connection's options, the request the connection is made for. */
const REQUEST = Symbol("request");
/** How often a pending tunnel checks whether its request was destroyed. */
const DESTROYED_POLL_MS = 100;

/**
 * An HTTPS agent whose connections go through a proxy tunnel (HTTP CONNECT, SOCKS5): a subclass
 * opens the tunnel to `host:port`, and TLS then runs end to end inside it, verified against the
 * server's name (never the proxy's) with the request's TLS options (`secureContext`). A failure to
 * open the tunnel is an error starting `proxy <host:port>: `, a transport error like Go's (so a
 * run retries it). Opening a tunnel ends, its sockets destroyed, when the request it is for is
 * destroyed (the call's deadline or cancellation) or after `tunnelTimeoutMs` in all: a proxy
 * that never finishes answering must not keep sockets open after the call.
 */
export abstract class TunnelAgent extends Agent {
  /** The proxy, as the environment named it. */
  readonly proxy: URL;
  readonly #tunnelTimeoutMs: number;

  constructor(proxy: URL, options: TunnelAgentOptions = {}) {
    const { tunnelTimeoutMs = 30_000, ...agentOptions } = options;
    super({ keepAlive: true, ...agentOptions });
    this.proxy = proxy;
    this.#tunnelTimeoutMs = tunnelTimeoutMs;
  }

  /**
   * A byte stream to `host:port` through the proxy, for a client that does its own TLS (HTTP/2),
   * with the error naming the proxy as the agent's connections do.
   */
  async tunnel(host: string, port: number, signal: AbortSignal): Promise<Duplex> {
    try {
      return await this.openTunnel(host, port, signal);
    } catch (err) {
      throw new Error(`proxy ${this.proxy.host}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** Opens a byte stream to `host:port` through the proxy; on `signal`, gives up and destroys what it opened. */
  protected abstract openTunnel(host: string, port: number, signal: AbortSignal): Promise<Duplex>;

  /** The proxy's host and port without brackets, for node:net. */
  protected proxyAddress(defaultPort: number): { host: string; port: number } {
    return {
      host: this.proxy.hostname.replace(/^\[|\]$/g, ""),
      port: Number(this.proxy.port) || defaultPort,
    };
  }

  /**
   * Node's agent hook for a new request (untyped, but what agents such as agent-base build on):
   * notes the request in the options the connection is made with, so its tunnel can watch it.
   */
  addRequest(req: ClientRequest, options: RequestOptions): void {
    const base = Agent.prototype as unknown as { addRequest(r: ClientRequest, o: object): void };
    base.addRequest.call(this, req, { ...options, [REQUEST]: req });
  }

  override createConnection(
    options: RequestOptions & ConnectionOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = String(options.host);
    const limit = tunnelLimit((options as { [REQUEST]?: ClientRequest })[REQUEST], this.#tunnelTimeoutMs);
    this.openTunnel(host, Number(options.port), limit.signal)
      .then((socket) => {
        limit.signal.throwIfAborted(); // a tunnel that opened just too late is not used
        // node:https has set servername from the Host header (empty for an IP address).
        const servername = options.servername || (isIP(host) ? undefined : host);
        callback?.(null, tlsConnect({ ...options, socket, servername }));
      })
      .catch((err: unknown) => {
        const error = new Error(`proxy ${this.proxy.host}: ${errorMessage(err)}`, { cause: err });
        callback?.(error, undefined as unknown as Duplex);
      })
      .finally(limit.clear);
    return undefined;
  }
}

/**
 * A signal that aborts when `req` is destroyed (Node emits nothing for a request destroyed before
 * it has a socket, so it is polled) or `ms` after now, whichever comes first.
 */
function tunnelLimit(req: ClientRequest | undefined, ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no tunnel opened in ${ms} ms`)), ms);
  const poll = setInterval(() => {
    if (req?.destroyed) controller.abort(new Error("the request ended before its tunnel opened"));
  }, DESTROYED_POLL_MS);
  timer.unref();
  poll.unref();
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      clearInterval(poll);
    },
  };
}
