import type { Agent } from "node:http";
import type { SecureContext } from "node:tls";
import { ConnectProxyAgent, type ConnectProxyAgentOptions } from "./connect-proxy-agent.js";
import { Socks5ProxyAgent } from "./socks-proxy-agent.js";
import { TrustStore } from "./trust-store.js";

const HIDDEN_DEFAULT_PORTS: Record<string, string | undefined> = { "ftp:": "21" };

/**
 * The agent that sends HTTPS requests through `proxy` the way Go's http.Transport does:
 * `socks5://` and `socks5h://` through SOCKS5, the server's name resolved by the proxy in both
 * (Go never resolves it itself); `https://` through a CONNECT tunnel over TLS to the proxy;
 * any other scheme through a plain CONNECT tunnel, as Go treats it as `http://`. The server, and
 * an `https://` proxy, are verified with `trust`: a TrustStore (roots handed to OpenSSL as each
 * server needs them), or a SecureContext for the proxy (the server's then comes with each request).
 */
export function createProxyAgent(proxy: URL, trust?: TrustStore | SecureContext): Agent {
  const tls: ConnectProxyAgentOptions =
    trust instanceof TrustStore ? { trust } : { proxyTls: trust && { secureContext: trust } };
  switch (proxy.protocol) {
    case "socks5:":
    case "socks5h:":
      return new Socks5ProxyAgent(proxy, { trust: tls.trust }); // no TLS to a SOCKS proxy
    case "https:":
      return new ConnectProxyAgent(proxy, tls);
    default: {
      // The URL parser drops a special scheme's default port ("ftp://p:21" has port ""); Go keeps it.
      const port = proxy.port || HIDDEN_DEFAULT_PORTS[proxy.protocol];
      const url = new URL(`http://${proxy.hostname}${port ? `:${port}` : ""}`);
      url.username = proxy.username;
      url.password = proxy.password;
      return new ConnectProxyAgent(url, tls);
    }
  }
}
