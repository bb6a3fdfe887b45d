import { request } from "node:https";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  startConnectProxy,
  startHttpsServer,
  type TestConnectProxy,
  type TestHttpsServer,
} from "../testing/connect-proxy.js";
import { makeTlsCa, type TlsCa } from "../testing/tls-fixtures.js";
import { ConnectProxyAgent } from "./connect-proxy-agent.js";

let ca: TlsCa;
let otherCa: TlsCa;
/** Serves `tokens.test` with a certificate of `ca`; echoes the method and body. */
let server: TestHttpsServer;
/** Serves a certificate for `other.test` only, issued by `ca`. */
let wrongName: TestHttpsServer;
let proxy: TestConnectProxy;
const agents: ConnectProxyAgent[] = [];

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([makeTlsCa("Proxy Test CA"), makeTlsCa("Unrelated CA")]);
  const [tokens, other] = await Promise.all([
    ca.issue({ dns: ["tokens.test"] }),
    ca.issue({ dns: ["other.test"] }),
  ]);
  server = await startHttpsServer(tokens, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(`${req.method} ${req.url} host=${req.headers.host} body=${body.toString()}`);
    });
  });
  wrongName = await startHttpsServer(other, (_req, res) => res.end("should not be reached"));
  proxy = await startConnectProxy();
});

afterEach(() => {
  for (const a of agents.splice(0)) a.destroy();
  proxy.tunnels.length = 0;
  proxy.refuseWith = undefined;
});

afterAll(async () => {
  await Promise.all([proxy?.close(), server?.close(), wrongName?.close()]);
});

function agent(proxyUrl: URL, ca?: string[]): ConnectProxyAgent {
  const a = new ConnectProxyAgent(proxyUrl, ca ? { ca } : {});
  agents.push(a);
  return a;
}

/** One HTTPS request through `via`; resolves with the status and body text. */
function fetchVia(
  via: ConnectProxyAgent,
  url: string,
  init: { method?: string; body?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? "GET", agent: via }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

describe("ConnectProxyAgent", () => {
  it("tunnels GET and POST to the server's name through CONNECT, TLS verified end to end", async () => {
    const via = agent(proxy.url, [ca.certPem]);
    const url = `https://tokens.test:${server.port}`;
    expect(await fetchVia(via, `${url}/hello`)).toEqual({
      status: 200,
      text: `GET /hello host=tokens.test:${server.port} body=`,
    });
    expect(await fetchVia(via, `${url}/mint`, { method: "POST", body: "payload" })).toEqual({
      status: 200,
      text: `POST /mint host=tokens.test:${server.port} body=payload`,
    });
    // keep-alive: both requests used one tunnel, asked for by the server's name and port.
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`tokens.test:${server.port}`]);
    expect(proxy.tunnels[0]?.headers.host).toBe(`tokens.test:${server.port}`);
    expect(proxy.tunnels[0]?.headers["proxy-authorization"]).toBeUndefined();
  });

  it("verifies the certificate against the server's name, not the proxy's", async () => {
    // The proxy sends the tunnel to a server whose certificate names other.test only.
    await expect(
      fetchVia(agent(proxy.url, [ca.certPem]), `https://tokens.test:${wrongName.port}/`),
    ).rejects.toThrow(/altnames|tokens\.test/i);
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`tokens.test:${wrongName.port}`]);
  });

  it("refuses a server whose CA is not trusted", async () => {
    await expect(fetchVia(agent(proxy.url), `https://tokens.test:${server.port}/`)).rejects.toMatchObject({
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    await expect(
      fetchVia(agent(proxy.url, [otherCa.certPem]), `https://tokens.test:${server.port}/`),
    ).rejects.toMatchObject({ code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
  });

  it.each([407, 403])("fails naming the proxy when it answers CONNECT with %i", async (status) => {
    proxy.refuseWith = status;
    const target = `tokens.test:${server.port}`;
    await expect(fetchVia(agent(proxy.url, [ca.certPem]), `https://${target}/`)).rejects.toThrow(
      `proxy ${proxy.url.host}: refused CONNECT to ${target}: HTTP ${status}`,
    );
  });

  it("sends Proxy-Authorization Basic from the proxy URL's user and password, and never names the password", async () => {
    const withUser = new URL(proxy.url);
    withUser.username = "bot%40corp";
    withUser.password = "p%3Ass word";
    const via = agent(withUser, [ca.certPem]);
    expect((await fetchVia(via, `https://tokens.test:${server.port}/`)).status).toBe(200);
    const auth = proxy.tunnels[0]?.headers["proxy-authorization"] ?? "";
    expect(auth).toBe(`Basic ${Buffer.from("bot@corp:p:ss word").toString("base64")}`);

    proxy.refuseWith = 407;
    const err = await fetchVia(agent(withUser, [ca.certPem]), `https://tokens.test:${server.port}/`).catch(
      (e: Error) => e,
    );
    expect(String(err)).toContain(`proxy 127.0.0.1:${proxy.url.port}: refused`);
    expect(String(err)).not.toMatch(/p%3A|ss word|bot/);
  });

  it("fails naming the proxy when nothing listens there", async () => {
    const closed = await startConnectProxy();
    const url = closed.url;
    await closed.close();
    await expect(fetchVia(agent(url, [ca.certPem]), `https://tokens.test:${server.port}/`)).rejects.toThrow(
      `proxy ${url.host}: connect ECONNREFUSED`,
    );
  });

  it("gives up on a proxy that never answers CONNECT", async () => {
    const accepted: Socket[] = [];
    const silent = createServer((s) => accepted.push(s)); // reads nothing, answers nothing
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = new URL(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
    try {
      const via = new ConnectProxyAgent(url, { ca: [ca.certPem], tunnelTimeoutMs: 50 });
      agents.push(via);
      await expect(fetchVia(via, `https://tokens.test:${server.port}/`)).rejects.toThrow(
        `proxy ${url.host}: no tunnel opened in 50 ms`,
      );
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("brackets an IPv6 target in the CONNECT request", async () => {
    await fetchVia(agent(proxy.url, [ca.certPem]), `https://[2001:db8::1]:${server.port}/`).catch(() => {});
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`[2001:db8::1]:${server.port}`]);
  });

  it("refuses proxy schemes it cannot speak", () => {
    expect(() => new ConnectProxyAgent(new URL("socks5://127.0.0.1:1080"))).toThrow(
      'unsupported proxy scheme "socks5"',
    );
  });

  it.each([
    ["an IP address", { ip: ["127.0.0.1"] }, "127.0.0.1"],
    ["a name", { dns: ["localhost"] }, "localhost"],
  ])(
    "speaks TLS to an https:// proxy at %s, verifying its certificate for its own name",
    async (_what, names, host) => {
      const tlsProxy = await startConnectProxy(await ca.issue(names));
      const url = new URL(`https://${host}:${tlsProxy.url.port}`);
      try {
        const via = new ConnectProxyAgent(url, { ca: [ca.certPem], proxyTls: { ca: [ca.certPem] } });
        agents.push(via);
        expect((await fetchVia(via, `https://tokens.test:${server.port}/over-tls`)).text).toContain(
          "GET /over-tls",
        );
        expect(tlsProxy.tunnels.map((t) => t.target)).toEqual([`tokens.test:${server.port}`]);
        // Without the roots for the proxy's certificate, the proxy is refused, named as the proxy.
        const untrusting = new ConnectProxyAgent(url, {
          ca: [ca.certPem],
          proxyTls: { ca: [otherCa.certPem] },
        });
        agents.push(untrusting);
        const err = await fetchVia(untrusting, `https://tokens.test:${server.port}/`).catch((e: Error) => e);
        expect(String(err)).toContain(`proxy ${url.host}: unable to verify the first certificate`);
        expect(tlsProxy.tunnels).toHaveLength(1);
      } finally {
        await tlsProxy.close();
      }
    },
  );
});
