import { chmod, mkdir, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, connect, type Server } from "node:net";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { afterAll, beforeAll, describe, it } from "vitest";
import { startConnectProxy, type TestConnectProxy } from "../../../../core/src/testing/connect-proxy.js";
import { startSocksProxy, type TestSocksProxy } from "../../../../core/src/testing/socks-proxy.js";
import { makeTlsCa } from "../../../../core/src/testing/tls-fixtures.js";
import { type DiffWorkspace, expectSame, type KeptDifference, runBoth } from "../../testing/differential.js";
import type { DiffContext } from "./context.js";

/** Not `localhost:` or `127.0.0.1:`, so both implementations must use HTTPS. */
const TLS_HOST = "127.0.0.2";
/** A name only the proxies resolve (they send every tunnel to 127.0.0.1). */
const PROXIED_NAME = "tokens.test";

/** HTTPS backends: trust from the OS store's variables, an untrusted server, and proxies. */
export function tlsScenarios(suite: { ctx: DiffContext; ws: DiffWorkspace }): void {
  const servers: Server[] = [];
  let backend: string;
  let proxiedBackend: string;
  let plainHttpBackend: string;
  let caPem: string;
  let otherCaPem: string;
  let socks: TestSocksProxy;
  let httpProxy: TestConnectProxy;
  let tlsProxy: TestConnectProxy;
  beforeAll(async () => {
    const [ca, other] = await Promise.all([
      makeTlsCa("Differential TLS CA"),
      makeTlsCa("Differential other CA"),
    ]);
    caPem = ca.certPem;
    otherCaPem = other.certPem;
    const identity = await ca.issue({ dns: [PROXIED_NAME], ip: [TLS_HOST, "127.0.0.1"] });
    // TLS in front of the dev server's plain HTTP port, on 127.0.0.2 and (for the proxies) 127.0.0.1.
    const devPort = Number(suite.ctx.dev.backend.split(":")[1]);
    const listen = async (server: Server, host: string) => {
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      return `${(server.address() as AddressInfo).port}`;
    };
    const front = () =>
      createTlsServer({ key: identity.keyPem, cert: identity.certPem }, (socket) => {
        const upstream = connect(devPort, "127.0.0.1");
        socket.pipe(upstream).pipe(socket);
        socket.on("error", () => upstream.destroy());
        upstream.on("error", () => socket.destroy());
      });
    backend = `${TLS_HOST}:${await listen(front(), TLS_HOST)}`;
    proxiedBackend = `${PROXIED_NAME}:${await listen(front(), "127.0.0.1")}`;
    const plain = createHttpServer((_req, res) => res.writeHead(404).end("plain HTTP"));
    plainHttpBackend = `${TLS_HOST}:${await listen(plain, TLS_HOST)}`;
    [socks, httpProxy, tlsProxy] = await Promise.all([
      startSocksProxy({ auth: { username: "bot", password: "s3cret" } }),
      startConnectProxy(),
      startConnectProxy(await ca.issue({ ip: ["127.0.0.1"] })),
    ]);
  });
  afterAll(async () => {
    await Promise.all([socks?.close(), httpProxy?.close(), tlsProxy?.close()]);
    for (const s of servers)
      if ("closeAllConnections" in s) (s as { closeAllConnections(): void }).closeAllConnections();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  const run = (
    env: Record<string, string>,
    options: { to?: string; fails?: boolean; kept?: Record<string, KeptDifference> } = {},
  ) =>
    // -timeout bounds a run that cannot connect; an untrusted server is retried until then.
    runBoth(
      suite.ws,
      (impl) => [...suite.ws.args(impl, options.to ?? backend), "-timeout", options.fails ? "1s" : "5s"],
      {
        serverCalls: suite.ctx.mints,
        env: {
          SSL_CERT_FILE: "",
          SSL_CERT_DIR: "",
          NODE_EXTRA_CA_CERTS: "",
          NO_PROXY: "",
          no_proxy: "",
          ...env,
        },
      },
    ).then((r) => expectSame(r, options.kept));
  const certDir = async () => {
    const dir = join(suite.ws.root, "certs");
    await mkdir(dir);
    await writeFile(join(dir, "differential-ca.pem"), caPem);
    await chmod(dir, 0o755);
    return dir;
  };
  const file = async (name: string, text: string) => {
    const path = join(suite.ws.root, name);
    await writeFile(path, text);
    return path;
  };

  describe("HTTPS backends", () => {
    it("a server trusted only through SSL_CERT_DIR", async () => run({ SSL_CERT_DIR: await certDir() }));
    it("a server trusted through SSL_CERT_FILE", async () =>
      run({ SSL_CERT_FILE: await file("bundle.pem", caPem) }));
    it("SSL_CERT_FILE that cannot be read is ignored", async () =>
      run({ SSL_CERT_DIR: await certDir(), SSL_CERT_FILE: join(suite.ws.root, "no-such-bundle.pem") }));
    it("SSL_CERT_FILE that is a directory is ignored too", async () =>
      run({ SSL_CERT_DIR: await certDir(), SSL_CERT_FILE: suite.ws.root }));
    it("SSL_CERT_FILE naming a bundle without the server's CA", async () =>
      run({ SSL_CERT_FILE: await file("other.pem", otherCaPem) }, { fails: true }));
    it("a server nobody trusts", () => run({}, { fails: true }));
    it("an HTTPS backend that answers in plain HTTP", async () =>
      run({ SSL_CERT_DIR: await certDir() }, { to: plainHttpBackend, fails: true }));
  });

  describe("proxies from HTTPS_PROXY (the proxy resolves the server's name)", () => {
    it("socks5:// with a login", async () =>
      run(
        { SSL_CERT_DIR: await certDir(), HTTPS_PROXY: `socks5://bot:s3cret@${socks.url.host}` },
        { to: proxiedBackend },
      ));
    it("socks5h://, lower-case https_proxy", async () =>
      run(
        { SSL_CERT_DIR: await certDir(), https_proxy: `socks5h://bot:s3cret@${socks.url.host}` },
        { to: proxiedBackend },
      ));
    it("socks5:// refusing the login", async () =>
      run(
        { SSL_CERT_DIR: await certDir(), HTTPS_PROXY: `socks5://bot:wrong@${socks.url.host}` },
        { to: proxiedBackend, fails: true },
      ));
    it("a proxy address without a scheme (http://)", async () =>
      run({ SSL_CERT_DIR: await certDir(), HTTPS_PROXY: httpProxy.url.host }, { to: proxiedBackend }));
    it("an HTTPS_PROXY that does not parse (a bad escape in its login): Go ignores it, we refuse it", async () =>
      // Go's httpproxy drops a value url.Parse refuses and dials directly (tokens.test does not
      // resolve: retried until -timeout); we fail at once rather than bypass the proxy meant.
      run(
        { SSL_CERT_DIR: await certDir(), HTTPS_PROXY: `http://bot:p%ss@${httpProxy.url.host}` },
        {
          to: proxiedBackend,
          fails: true,
          kept: {
            "status/update_outcome": { go: "GRPC_ERROR_4", ts: "UNKNOWN_RPC_ERROR" },
            "status/rpc_duration_us": { go: true, ts: false },
          },
        },
      ));
    it("a proxy refusing CONNECT with 407", async () => {
      httpProxy.refuseWith = 407;
      try {
        await run(
          { SSL_CERT_DIR: await certDir(), HTTPS_PROXY: httpProxy.url.href },
          { to: proxiedBackend, fails: true },
        );
      } finally {
        httpProxy.refuseWith = undefined;
      }
    });
    it("https:// (TLS to the proxy, its certificate checked with the same roots)", async () =>
      run({ SSL_CERT_DIR: await certDir(), HTTPS_PROXY: tlsProxy.url.href }, { to: proxiedBackend }));
  });
}
