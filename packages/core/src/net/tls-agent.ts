import type { ClientRequest, RequestOptions } from "node:http";
import { Agent, type AgentOptions } from "node:https";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import type { TrustStore } from "./trust-store.js";

/** Options of {@link TlsAgent}: node:https's, and the roots server certificates are verified with. */
export interface TlsAgentOptions extends AgentOptions {
  /** Verifies servers with these roots; without it, with the request's own TLS options (`ca`, `secureContext`). */
  trust?: TrustStore;
}

/** Where the agent notes, in a connection's options, the request the connection is made for. */
const REQUEST = Symbol("request");
/** How often a connection being made checks whether its request was destroyed. */
const DESTROYED_POLL_MS = 100;

/**
 * An HTTPS agent (keep-alive by default) whose connections are made asynchronously: the stream to
 * the server (a TCP connection, or a subclass's tunnel, see {@link openStream}), then TLS verified
 * against the server's name with a TrustStore (which hands OpenSSL the roots each server needs)
 * or else with the request's TLS options. Making a connection (loading the roots, handshakes,
 * tunnels) ends, its sockets destroyed, when the request it is for is destroyed: the call's
 * deadline or cancellation.
 */
export class TlsAgent extends Agent {
  /** The roots servers are verified with, if given. */
  protected readonly trust: TrustStore | undefined;

  constructor(options: TlsAgentOptions = {}) {
    const { trust, ...agentOptions } = options;
    super({ keepAlive: true, ...agentOptions });
    this.trust = trust;
  }

  /**
   * How a subclass opens a stream to `host:port` for TLS to run over (a proxy's tunnel); without
   * it, TLS makes its own TCP connection. It must give up, destroying what it opened, when
   * `signal` aborts. A connection may open two streams (see TrustStore.connect).
   */
  protected openStream?(host: string, port: number, signal: AbortSignal): Promise<Duplex>;

  /**
   * Node's agent hook for a new request (untyped, but what agents such as agent-base build on):
   * notes the request in the options the connection is made with, so its making can watch it.
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
    const port = Number(options.port);
    const watch = watchRequest((options as { [REQUEST]?: ClientRequest })[REQUEST]);
    // node:https has set servername from the Host header (empty for an IP address).
    const target = { ...options, servername: options.servername || (isIP(host) ? undefined : host) };
    const openStream = this.openStream?.bind(this);
    const open = openStream && (() => openStream(host, port, watch.signal));
    const connected = this.trust
      ? this.trust.connect(target, open, watch.signal)
      : open
        ? open().then((socket) => tlsConnect({ ...target, socket }))
        : Promise.resolve(tlsConnect(target));
    connected
      .then(
        (socket) => callback?.(null, socket),
        (err: unknown) => callback?.(err as Error, undefined as unknown as Duplex),
      )
      .finally(watch.clear);
    return undefined;
  }
}

/**
 * A signal that aborts when `req` is destroyed (Node emits nothing for a request destroyed before
 * it has a socket, so it is polled).
 */
function watchRequest(req: ClientRequest | undefined): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const poll = setInterval(() => {
    if (req?.destroyed) controller.abort(new Error("the request ended before its connection was made"));
  }, DESTROYED_POLL_MS);
  poll.unref();
  return { signal: controller.signal, clear: () => clearInterval(poll) };
}
