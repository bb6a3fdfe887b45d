import { request as httpRequest, type RequestOptions } from "node:http";
import { Agent, type AgentOptions, request as httpsRequest } from "node:https";
import type { Duplex } from "node:stream";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";

/**
 * An HTTPS agent that reaches servers through an HTTP(S) proxy's CONNECT tunnel, as Go's client
 * does for HTTPS_PROXY. TLS runs end to end inside the tunnel and is verified against the
 * server's name, never the proxy's.
 */
export class ConnectProxyAgent extends Agent {
  readonly proxy: URL;

  constructor(proxy: URL, options: AgentOptions = {}) {
    // Go also speaks SOCKS5 (socks5://); a CONNECT request sent to a SOCKS port would fail obscurely.
    if (proxy.protocol !== "http:" && proxy.protocol !== "https:") {
      throw new Error(
        `unsupported proxy scheme ${JSON.stringify(proxy.protocol.replace(/:$/, ""))}: use http or https`,
      );
    }
    super({ keepAlive: true, ...options });
    this.proxy = proxy;
  }

  override createConnection(
    options: RequestOptions & ConnectionOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const done = (err: Error | null, stream?: Duplex) => callback?.(err, stream as Duplex);
    // An IPv6 literal goes in brackets (Go's net.JoinHostPort): `[2001:db8::1]:443`.
    const host = String(options.host);
    const target = `${host.includes(":") ? `[${host}]` : host}:${options.port}`;
    const headers: Record<string, string> = { Host: target };
    if (this.proxy.username !== "") {
      const user = `${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`;
      headers["Proxy-Authorization"] = `Basic ${Buffer.from(user).toString("base64")}`;
    }
    const request = this.proxy.protocol === "https:" ? httpsRequest : httpRequest;
    const req = request({
      host: this.proxy.hostname.replace(/^\[|\]$/g, ""),
      port: this.proxy.port || (this.proxy.protocol === "https:" ? 443 : 80),
      method: "CONNECT",
      path: target,
      headers,
      agent: false,
    });
    req.once("connect", (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(new Error(`proxy ${this.proxy.host} refused CONNECT to ${target}: HTTP ${res.statusCode}`));
        return;
      }
      const servername = options.servername ?? (typeof options.host === "string" ? options.host : undefined);
      done(null, tlsConnect({ ...options, socket, servername }));
    });
    req.once("error", (err) => done(new Error(`proxy ${this.proxy.host}: ${err.message}`, { cause: err })));
    req.end();
    return undefined;
  }
}
