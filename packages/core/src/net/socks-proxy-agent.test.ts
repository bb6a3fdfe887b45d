import { request } from "node:https";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startHttpsServer, type TestHttpsServer } from "../testing/connect-proxy.js";
import { startSocksProxy, type TestSocksProxy } from "../testing/socks-proxy.js";
import { makeTlsCa, type TlsCa } from "../testing/tls-fixtures.js";
import { Socks5ProxyAgent } from "./socks-proxy-agent.js";

let ca: TlsCa;
/** Serves `tokens.test` with a certificate of `ca`; echoes the method, path and Host. */
let server: TestHttpsServer;
let socks: TestSocksProxy;
let socksWithLogin: TestSocksProxy;
const agents: Socks5ProxyAgent[] = [];

beforeAll(async () => {
  ca = await makeTlsCa("SOCKS Test CA");
  server = await startHttpsServer(await ca.issue({ dns: ["tokens.test"] }), (req, res) => {
    res.end(`${req.method} ${req.url} host=${req.headers.host}`);
  });
  [socks, socksWithLogin] = await Promise.all([
    startSocksProxy(),
    startSocksProxy({ auth: { username: "bot@corp", password: "p:ss word" } }),
  ]);
});
afterEach(() => {
  for (const a of agents.splice(0)) a.destroy();
  socks.requests.length = 0;
  socksWithLogin.requests.length = 0;
});
afterAll(async () => {
  await Promise.all([socks?.close(), socksWithLogin?.close(), server?.close()]);
});

function agent(proxy: URL | string): Socks5ProxyAgent {
  const a = new Socks5ProxyAgent(new URL(proxy));
  agents.push(a);
  return a;
}

function get(via: Socks5ProxyAgent, url: string, ca?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent: via, ...(ca && { ca }) }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c;
      });
      res.on("end", () => resolve(text));
    })
      .on("error", reject)
      .end();
  });
}

describe("Socks5ProxyAgent", () => {
  it.each(["socks5", "socks5h"])(
    "%s://: sends the server's name for the proxy to resolve, as Go does; TLS verified end to end",
    async (scheme) => {
      const url = `${scheme}://${socks.url.host}`;
      const via = agent(url);
      const target = `https://tokens.test:${server.port}`;
      expect(await get(via, `${target}/a`, ca.certPem)).toBe(`GET /a host=tokens.test:${server.port}`);
      expect(await get(via, `${target}/b`, ca.certPem)).toBe(`GET /b host=tokens.test:${server.port}`);
      // The name went to the proxy (tokens.test does not resolve here); keep-alive used one tunnel.
      expect(socks.requests).toEqual([{ host: "tokens.test", port: server.port }]);
    },
  );

  it("refuses a server whose certificate the roots do not vouch for", async () => {
    await expect(get(agent(socks.url), `https://tokens.test:${server.port}/`)).rejects.toMatchObject({
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
  });

  it("logs in with the URL's (percent-decoded) user and password", async () => {
    const url = new URL(socksWithLogin.url);
    url.username = "bot%40corp";
    url.password = "p%3Ass%20word";
    expect(await get(agent(url), `https://tokens.test:${server.port}/in`, ca.certPem)).toContain("GET /in");
    expect(socksWithLogin.requests).toEqual([{ host: "tokens.test", port: server.port, user: "bot@corp" }]);
  });

  it("fails naming the proxy, never the password, when the login is refused", async () => {
    const url = new URL(socksWithLogin.url);
    url.username = "bot";
    url.password = "wrong-secret";
    const err = await get(agent(url), `https://tokens.test:${server.port}/`, ca.certPem).catch(
      (e: Error) => e,
    );
    expect(String(err)).toMatch(
      new RegExp(`^Error: proxy ${socksWithLogin.url.host}: .*[Aa]uthentication failed`),
    );
    expect(String(err)).not.toContain("wrong-secret");
    expect(socksWithLogin.requests).toEqual([]);
  });

  it("fails naming the proxy when nothing listens there", async () => {
    const closed = await startSocksProxy();
    await closed.close();
    await expect(get(agent(closed.url), `https://tokens.test:${server.port}/`, ca.certPem)).rejects.toThrow(
      `proxy ${closed.url.host}: connect ECONNREFUSED`,
    );
  });

  it("fails naming the proxy when it cannot reach the server", async () => {
    const gone = await startHttpsServer(await ca.issue({ dns: ["tokens.test"] }), () => {});
    await gone.close();
    await expect(get(agent(socks.url), `https://tokens.test:${gone.port}/`, ca.certPem)).rejects.toThrow(
      new RegExp(`^proxy ${socks.url.host}: .*`),
    );
  });
});
