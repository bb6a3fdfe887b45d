import type { Duplex } from "node:stream";
import { errorMessage } from "../common/fs-errors.js";
import { TlsAgent, type TlsAgentOptions } from "./tls-agent.js";

/** Options of {@link TunnelAgent}: the agent's, plus how long opening a tunnel may take. */
export interface TunnelAgentOptions extends TlsAgentOptions {
  /**
   * How long opening a tunnel may take in all, from the first byte sent to the proxy to the
   * tunnel's first byte, however slowly the proxy trickles its answer. Default 30 s (the socks
   * package's own limit). The request's deadline usually ends it sooner.
   */
  tunnelTimeoutMs?: number;
}

/**
 * An HTTPS agent whose connections go through a proxy tunnel (HTTP CONNECT, SOCKS5): a subclass
 * opens the tunnel to `host:port`, and TLS then runs end to end inside it, verified against the
 * server's name (never the proxy's) as TlsAgent verifies it. A failure to open the tunnel is an
 * error starting `proxy <host:port>: `, a transport error like Go's (so a run retries it). Opening
 * a tunnel ends, its sockets destroyed, when the request it is for is destroyed (the call's
 * deadline or cancellation) or after `tunnelTimeoutMs` in all: a proxy that never finishes
 * answering must not keep sockets open after the call.
 */
export abstract class TunnelAgent extends TlsAgent {
  /** The proxy, as the environment named it. */
  readonly proxy: URL;
  readonly #tunnelTimeoutMs: number;

  constructor(proxy: URL, options: TunnelAgentOptions = {}) {
    const { tunnelTimeoutMs = 30_000, ...agentOptions } = options;
    super(agentOptions);
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

  protected override async openStream(host: string, port: number, signal: AbortSignal): Promise<Duplex> {
    const limit = tunnelLimit(signal, this.#tunnelTimeoutMs);
    try {
      const socket = await this.openTunnel(host, port, limit.signal);
      limit.signal.throwIfAborted(); // a tunnel that opened just too late is not used
      return socket;
    } catch (err) {
      throw new Error(`proxy ${this.proxy.host}: ${errorMessage(err)}`, { cause: err });
    } finally {
      limit.clear();
    }
  }
}

/** A signal that aborts with `signal` or `ms` after now, whichever comes first. */
function tunnelLimit(signal: AbortSignal, ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no tunnel opened in ${ms} ms`)), ms);
  timer.unref();
  const follow = () => controller.abort(signal.reason);
  if (signal.aborted) follow();
  else signal.addEventListener("abort", follow, { once: true });
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", follow);
    },
  };
}
