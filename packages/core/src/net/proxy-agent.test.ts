import { describe, expect, it } from "vitest";
import { createProxyAgent } from "./proxy-agent.js";
import type { TunnelAgent } from "./tunnel-agent.js";

describe("createProxyAgent: the agent for each scheme, as Go's http.Transport", () => {
  it.each([
    ["socks5://p:1080", "Socks5ProxyAgent", "socks5://p:1080"],
    ["socks5h://p:1080", "Socks5ProxyAgent", "socks5h://p:1080"],
    ["https://p:3129", "ConnectProxyAgent", "https://p:3129/"],
    ["http://u:pw@p:3128", "ConnectProxyAgent", "http://u:pw@p:3128/"],
    // Go sends CONNECT in plain HTTP to a proxy of any other scheme.
    ["ftp://p:21", "ConnectProxyAgent", "http://p:21/"],
    ["socks4://u:pw@p:1080", "ConnectProxyAgent", "http://u:pw@p:1080/"],
  ])("%s → %s to %s", (proxy, kind, url) => {
    const made = createProxyAgent(new URL(proxy)) as TunnelAgent;
    expect(made.constructor.name).toBe(kind);
    expect(made.proxy.href).toBe(url);
    made.destroy();
  });
});
