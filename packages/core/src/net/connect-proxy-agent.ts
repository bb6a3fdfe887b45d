import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import type { ConnectionOptions } from "node:tls";
import { TlsAgent } from "./tls-agent.js";
import { TunnelAgent, type TunnelAgentOptions } from "./tunnel-agent.js";

/** Options of {@link ConnectProxyAgent}: the tunnel agent's, plus TLS options for an `https://` proxy. */
export interface ConnectProxyAgentOptions extends TunnelAgentOptions {
  /**
   * How an `https://` proxy's own certificate is verified when no `trust` is given (with `trust`,
   * the proxy is verified with those roots, as the server is).
   */
  proxyTls?: Pick<ConnectionOptions, "secureContext" | "ca">;
}

/**
 * An HTTPS agent that reaches servers through an HTTP(S) proxy's CONNECT tunnel, as Go's client
 * does for an `http://` or `https://` HTTPS_PROXY (TLS to the proxy itself for `https://`). A
 * refused CONNECT is an error naming the proxy and the status, as in Go.
 *
 * Hand-written rather than `https-proxy-agent`: that package replays a refused CONNECT's answer
 * (403, 407) to the caller as if the server had sent it, which pRPC reads as PERMISSION_DENIED and
 * does not retry where Go retries, and it buffers the proxy's answer without a size limit (Node's
 * HTTP parser used here caps it at 16 KiB).
 */
export class ConnectProxyAgent extends TunnelAgent {
  readonly #proxyTls: ConnectProxyAgentOptions["proxyTls"];

  constructor(proxy: URL, options: ConnectProxyAgentOptions = {}) {
    if (proxy.protocol !== "http:" && proxy.protocol !== "https:") {
      throw new Error(
        `unsupported proxy scheme ${JSON.stringify(proxy.protocol.replace(/:$/, ""))}: use http or https`,
      );
    }
    const { proxyTls, ...agentOptions } = options;
    super(proxy, agentOptions);
    this.#proxyTls = proxyTls;
  }

  protected override openTunnel(host: string, port: number, signal: AbortSignal): Promise<Duplex> {
    signal.throwIfAborted();
    // An IPv6 literal goes in brackets (Go's net.JoinHostPort): `[2001:db8::1]:443`.
    const target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
    const headers: Record<string, string> = { Host: target };
    if (this.proxy.username !== "") {
      const user = `${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`;
      headers["Proxy-Authorization"] = `Basic ${Buffer.from(user).toString("base64")}`;
    }
    const tls = this.proxy.protocol === "https:";
    const proxy = this.proxyAddress(tls ? 443 : 80);
    const req = (tls ? httpsRequest : httpRequest)({
      ...proxy,
      method: "CONNECT",
      path: target,
      headers,
      agent: tls && this.trust ? new TlsAgent({ trust: this.trust, keepAlive: false }) : false,
      // The proxy's certificate is checked against its own name: node:https would take the
      // server's from the Host header. An empty servername checks an IP address, without SNI.
      ...(tls && { ...this.#proxyTls, servername: isIP(proxy.host) ? "" : proxy.host }),
    });
    // On abort the CONNECT request and its socket are destroyed: a proxy trickling its answer
    // would otherwise hold them open (an idle timeout never fires while bytes arrive).
    const abort = () => req.destroy(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    return new Promise<Duplex>((resolve, reject) => {
      req.once("connect", (res, socket) => {
        if (res.statusCode === 200) {
          resolve(socket);
          return;
        }
        socket.destroy();
        reject(new Error(`refused CONNECT to ${target}: HTTP ${res.statusCode}`));
      });
      req.once("error", reject);
      req.end();
    }).finally(() => signal.removeEventListener("abort", abort));
  }
}
