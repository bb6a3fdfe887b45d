import { request as httpRequest } from "node:http";
import type { AgentOptions } from "node:https";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import type { ConnectionOptions } from "node:tls";
import { TunnelAgent } from "./tunnel-agent.js";

/** Options of {@link ConnectProxyAgent}: the agent's, plus TLS options for an `https://` proxy. */
export interface ConnectProxyAgentOptions extends AgentOptions {
  /** How the proxy's own certificate is verified (trust roots), for an `https://` proxy. */
  proxyTls?: Pick<ConnectionOptions, "secureContext" | "ca">;
  /** How long a CONNECT may go unanswered; default 30 s, as the socks package's timeout. */
  answerTimeoutMs?: number;
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
  readonly #answerTimeoutMs: number;

  constructor(proxy: URL, options: ConnectProxyAgentOptions = {}) {
    if (proxy.protocol !== "http:" && proxy.protocol !== "https:") {
      throw new Error(
        `unsupported proxy scheme ${JSON.stringify(proxy.protocol.replace(/:$/, ""))}: use http or https`,
      );
    }
    const { proxyTls, answerTimeoutMs = 30_000, ...agentOptions } = options;
    super(proxy, agentOptions);
    this.#proxyTls = proxyTls;
    this.#answerTimeoutMs = answerTimeoutMs;
  }

  protected override openTunnel(host: string, port: number): Promise<Duplex> {
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
      agent: false,
      // The proxy's certificate is checked against its own name: node:https would take the
      // server's from the Host header. An empty servername checks an IP address, without SNI.
      ...(tls && { ...this.#proxyTls, servername: isIP(proxy.host) ? "" : proxy.host }),
    });
    return new Promise((resolve, reject) => {
      req.once("connect", (res, socket) => {
        if (res.statusCode === 200) {
          resolve(socket);
          return;
        }
        socket.destroy();
        reject(new Error(`refused CONNECT to ${target}: HTTP ${res.statusCode}`));
      });
      req.once("error", reject);
      // The request that asked for the tunnel is bounded by its deadline, but a CONNECT left
      // unanswered would hold a socket open after it.
      req.setTimeout(this.#answerTimeoutMs, () =>
        req.destroy(new Error(`no answer to CONNECT in ${this.#answerTimeoutMs} ms`)),
      );
      req.end();
    });
  }
}
