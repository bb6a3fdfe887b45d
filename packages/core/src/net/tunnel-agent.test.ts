import { request } from "node:https";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenMinterClient } from "../mint/token-minter-client.js";
import { until } from "../testing/until.js";
import { ConnectProxyAgent } from "./connect-proxy-agent.js";
import { Socks5ProxyAgent } from "./socks-proxy-agent.js";
import type { TunnelAgent } from "./tunnel-agent.js";

/**
 * Proxies that never finish opening a tunnel: the CONNECT one answers `HTTP/1.1 200 OK` and then
 * one byte every 20 ms, never ending its headers (an idle timeout never fires); the SOCKS one
 * reads and never answers. Each counts the connections it still has open.
 */
interface HostileProxy {
  url: URL;
  open(): number;
  close(): Promise<void>;
}

async function startHostileProxy(kind: "connect" | "socks5"): Promise<HostileProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("data", () => {
      if (kind === "socks5") return;
      socket.write("HTTP/1.1 200 OK\r\n");
      const trickle = setInterval(() => socket.write("X"), 20);
      socket.once("close", () => clearInterval(trickle));
    });
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: new URL(
      `${kind === "connect" ? "http" : "socks5"}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ),
    open: () => sockets.size,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const proxies: Record<"connect" | "socks5", HostileProxy> = {} as never;
beforeAll(async () => {
  [proxies.connect, proxies.socks5] = await Promise.all([
    startHostileProxy("connect"),
    startHostileProxy("socks5"),
  ]);
});
afterAll(() => Promise.all(Object.values(proxies).map((p) => p?.close())));

describe.each(["connect", "socks5"] as const)("a %s proxy that never opens the tunnel", (kind) => {
  it("holds no socket after the call's deadline (the reviewer's proxy-leak)", async () => {
    const proxy = proxies[kind];
    const client = createTokenMinterClient("tokens.example.com", { env: { HTTPS_PROXY: proxy.url.href } });
    const started = performance.now();
    await expect(client.mintMachineToken({}, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 4, // DeadlineExceeded
    });
    expect(performance.now() - started).toBeLessThan(1000);
    await until(() => proxy.open() === 0, 1000); // was: open for 30 s and more
  });

  it("gives up after tunnelTimeoutMs in all, naming the proxy", async () => {
    const proxy = proxies[kind];
    const Agent = kind === "connect" ? ConnectProxyAgent : Socks5ProxyAgent;
    const agent: TunnelAgent = new Agent(proxy.url, { tunnelTimeoutMs: 300 });
    try {
      const started = performance.now();
      const failed = new Promise<unknown>((resolve) => {
        request("https://tokens.test/", { agent }).on("error", resolve).end();
      });
      let timer: NodeJS.Timeout | undefined;
      const hung = new Promise((resolve) => {
        timer = setTimeout(resolve, 3000, "still waiting after 3 s");
      });
      const outcome = await Promise.race([failed, hung]);
      clearTimeout(timer);
      expect(String(outcome)).toBe(`Error: proxy ${proxy.url.host}: no tunnel opened in 300 ms`);
      expect(performance.now() - started).toBeLessThan(1000);
      await until(() => proxy.open() === 0, 1000);
    } finally {
      agent.destroy();
    }
  });
});
