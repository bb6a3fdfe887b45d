import { mkdir, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  MintMachineTokenRequestSchema,
  MintMachineTokenResponseSchema,
  TokenMinter,
} from "../gen/tokenserver/minter/token_minter_pb.js";
import { mintToken } from "../mint/mint-token.js";
import { outcomeFromError } from "../mint/outcome-from-error.js";
import { PROTOCOLS } from "../mint/protocols.js";
import { createTokenMinterClient } from "../mint/token-minter-client.js";
import { createX509Signer } from "../mint/x509-signer.js";
import { startConnectProxy, type TestConnectProxy } from "../testing/connect-proxy.js";
import { createFakeClock } from "../testing/fake-clock.js";
import { makeTestPki } from "../testing/pki.js";
import { recordingLogger } from "../testing/recording-logger.js";
import { startSocksProxy, type TestSocksProxy } from "../testing/socks-proxy.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { makeTlsCa, type TlsCa } from "../testing/tls-fixtures.js";
import { createBackendConnection } from "./backend-connection.js";

/**
 * The connection setup of createTokenMinterClient, end to end: a TokenMinter speaking every
 * protocol over TLS with a certificate from a private CA, reached directly on 127.0.0.2 (HTTPS,
 * as any backend that is not loopback-with-a-port) or as `tokens.test` through real proxies.
 */

let ca: TlsCa;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
/** A directory holding only the private CA (as SSL_CERT_DIR), and a bundle without it (as SSL_CERT_FILE). */
let caDir = "";
/** A directory holding only the CA of the https:// proxy's certificate. */
let proxyCaDir = "";
let otherBundle = "";
let emptyDir = "";
/** The same TLS server on 127.0.0.2 (direct) and 127.0.0.1 (where the test proxies send tunnels). */
const servers: Array<{ port: number; close(): Promise<void> }> = [];
let direct = "";
let viaProxy = "";
let socks: TestSocksProxy;
let connectProxy: TestConnectProxy;
let tlsProxy: TestConnectProxy;
const served: string[] = [];

/** Answers MintMachineToken in pRPC (binary) or, through Connect's adapter, Connect, gRPC and gRPC-web. */
function tokenMinter(): (
  req: Http2ServerRequest | IncomingMessage,
  res: Http2ServerResponse | ServerResponse,
) => void {
  const adapter = connectNodeAdapter({
    routes: (router) =>
      router.service(TokenMinter, {
        mintMachineToken(_req, context) {
          served.push(`${context.protocolName} ${context.requestHeader.get("host") ?? ""}`);
          return { serviceVersion: `over-tls/${context.protocolName}` };
        },
      }),
  });
  return (req, res) => {
    if (!req.url?.startsWith("/prpc/")) {
      adapter(req as IncomingMessage, res as ServerResponse);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      fromBinary(MintMachineTokenRequestSchema, Buffer.concat(chunks));
      served.push(`prpc ${req.headers.host}`);
      const body = toBinary(
        MintMachineTokenResponseSchema,
        create(MintMachineTokenResponseSchema, { serviceVersion: "over-tls/prpc" }),
      );
      res.writeHead(200, { "Content-Type": "application/prpc; encoding=binary", "X-Prpc-Grpc-Code": "0" });
      res.end(body);
    });
  };
}

async function listen(host: string, identity: { certPem: string; keyPem: string }): Promise<number> {
  const server = createSecureServer(
    { cert: identity.certPem, key: identity.keyPem, allowHTTP1: true },
    tokenMinter(),
  );
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const sessions = new Set<{ destroy(): void }>();
  server.on("session", (s) => sessions.add(s));
  server.on("secureConnection", (s) => sessions.add(s));
  servers.push({
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  });
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  tmp = await makeTempDir();
  ca = await makeTlsCa("Private LUCI CA");
  const [other, proxyCa] = await Promise.all([makeTlsCa("Some Other CA"), makeTlsCa("Corporate Proxy CA")]);
  caDir = tmp.path("ca-dir");
  proxyCaDir = tmp.path("proxy-ca-dir");
  emptyDir = tmp.path("empty-dir");
  otherBundle = tmp.path("other-bundle.pem");
  await Promise.all([mkdir(caDir), mkdir(proxyCaDir), mkdir(emptyDir)]);
  await Promise.all([
    writeFile(`${caDir}/private-luci.pem`, ca.certPem),
    writeFile(`${proxyCaDir}/proxy.pem`, proxyCa.certPem),
    writeFile(otherBundle, other.certPem),
  ]);
  const identity = await ca.issue({ dns: ["tokens.test"], ip: ["127.0.0.2"] });
  direct = `127.0.0.2:${await listen("127.0.0.2", identity)}`;
  viaProxy = `tokens.test:${await listen("127.0.0.1", identity)}`;
  [socks, connectProxy, tlsProxy] = await Promise.all([
    startSocksProxy(),
    startConnectProxy(),
    startConnectProxy(await proxyCa.issue({ ip: ["127.0.0.1"] })),
  ]);
});
afterEach(() => {
  served.length = 0;
  socks.requests.length = 0;
  connectProxy.tunnels.length = 0;
  tlsProxy.tunnels.length = 0;
});
afterAll(async () => {
  await Promise.all([
    ...servers.map((s) => s.close()),
    socks?.close(),
    connectProxy?.close(),
    tlsProxy?.close(),
  ]);
  await tmp?.remove();
});

const mint = (backend: string, options: Parameters<typeof createTokenMinterClient>[1]) =>
  createTokenMinterClient(backend, options).mintMachineToken({}, { timeoutMs: 5000 });

describe("trust roots, as Go's", () => {
  it.each(PROTOCOLS)("trusts a CA found only in SSL_CERT_DIR (%s)", async (protocol) => {
    const response = await mint(direct, { protocol, env: { SSL_CERT_DIR: caDir } });
    expect(response.serviceVersion).toBe(`over-tls/${protocol}`);
    expect(served).toEqual([`${protocol} ${protocol === "grpc" ? "" : direct}`]);
  });

  it("refuses the server when SSL_CERT_FILE names a bundle without its CA, saying where the roots came from", async () => {
    const err = await mint(direct, { env: { SSL_CERT_FILE: otherBundle, SSL_CERT_DIR: emptyDir } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Internal); // retried, as Go's client retries it
    expect((err as ConnectError).rawMessage).toBe(
      `failed to send request: unable to verify the first certificate (the server's certificate is not trusted by the roots from ${otherBundle}: add its CA with -ca-bundle, SSL_CERT_FILE or SSL_CERT_DIR)`,
    );
    expect(served).toEqual([]);
  });

  it("is retried until the deadline and ends as GRPC_ERROR_4, as in Go", async () => {
    const dir = await makeTempDir();
    try {
      const identity = (await makeTestPki()).leaf;
      await writeFile(dir.path("key.pem"), identity.pkcs8Pem);
      await writeFile(dir.path("cert.pem"), identity.certPem);
      const signer = await createX509Signer({ keyPath: dir.path("key.pem"), certPath: dir.path("cert.pem") });
      const logger = recordingLogger();
      const clock = createFakeClock();
      const err = await mintToken({
        client: createTokenMinterClient(direct, {
          env: { SSL_CERT_FILE: otherBundle, SSL_CERT_DIR: emptyDir },
        }),
        signer,
        now: clock.now,
        sleep: clock.sleep,
        jitter: false,
        timeoutMs: 1000,
        logger,
      }).catch((e: unknown) => e);
      expect(outcomeFromError(err)).toBe("GRPC_ERROR_4");
      expect(logger.at("warning").length).toBeGreaterThan(1);
      expect(logger.at("warning")[0]).toContain("certificate is not trusted by the roots from");
    } finally {
      await dir.remove();
    }
  });

  it("adds -ca-bundle to the system's roots, and fails at once when it cannot be read", async () => {
    const bundle = `${caDir}/private-luci.pem`;
    const env = { SSL_CERT_FILE: otherBundle, SSL_CERT_DIR: emptyDir };
    expect((await mint(direct, { caBundle: bundle, env })).serviceVersion).toBe("over-tls/prpc");
    expect(() => createTokenMinterClient(direct, { caBundle: tmp.path("missing.pem"), env })).toThrow(
      `-ca-bundle ${tmp.path("missing.pem")}: ENOENT`,
    );
  });

  it("reads no trust roots for a plain-HTTP loopback backend (never proxied either), but refuses a bad -ca-bundle", () => {
    const env = {
      SSL_CERT_FILE: tmp.path("missing.pem"),
      HTTPS_PROXY: "http://[bad",
      HTTP_PROXY: "http://[bad",
    };
    const connection = createBackendConnection("127.0.0.1:1", { env, caBundle: `${caDir}/private-luci.pem` });
    expect(connection).toMatchObject({ baseUrl: "http://127.0.0.1:1", nodeOptions: {} });
    expect(connection.trust).toBeUndefined();
    expect(connection.proxy).toBeUndefined();
    expect(() => createBackendConnection("127.0.0.1:1", { env, caBundle: tmp.path("missing.pem") })).toThrow(
      `-ca-bundle ${tmp.path("missing.pem")}: ENOENT`,
    );
  });
});

describe("plain HTTP where TLS was expected", () => {
  it.each(["prpc", "connect", "grpc-web"] as const)(
    "says that plain HTTP is only for loopback backends (%s)",
    async (protocol) => {
      const plain = createHttpServer((_req, res) => res.writeHead(404).end("not found"));
      await new Promise<void>((resolve) => plain.listen(0, "127.0.0.2", resolve));
      const backend = `127.0.0.2:${(plain.address() as AddressInfo).port}`;
      try {
        const err = await mint(backend, { protocol, env: { SSL_CERT_DIR: caDir } }).catch((e: unknown) => e);
        expect((err as ConnectError).rawMessage).toBe(
          `TLS handshake with ${backend} failed: it answered in plain HTTP (plain HTTP is only used for localhost:, 127.0.0.1: and [::1]: backends)`,
        );
        // The code stays what the transport said, so the error is retried as before (as in Go).
        expect([Code.Internal, Code.Unavailable]).toContain((err as ConnectError).code);
      } finally {
        plain.closeAllConnections();
        await new Promise((resolve) => plain.close(resolve));
      }
    },
  );
});

describe("proxies from the environment, as Go's", () => {
  it.each(["prpc", "connect", "grpc-web"] as const)("HTTPS_PROXY=socks5:// (%s)", async (protocol) => {
    const env = { SSL_CERT_DIR: caDir, HTTPS_PROXY: socks.url.href };
    expect((await mint(viaProxy, { protocol, env })).serviceVersion).toBe(`over-tls/${protocol}`);
    // The system's bundle and caDir: over EAGER_ROOTS, so the first connection learns the roots
    // the server needs and a second one is verified with them (TrustStore): two tunnels.
    expect(socks.requests.map((r) => `${r.host}:${r.port}`)).toEqual([viaProxy, viaProxy]);
  });

  it("HTTPS_PROXY=http:// with a login, and https:// whose certificate is checked with the same roots", async () => {
    const withLogin = new URL(connectProxy.url);
    withLogin.username = "bot";
    withLogin.password = "pw";
    await mint(viaProxy, { env: { SSL_CERT_DIR: caDir, https_proxy: withLogin.href } });
    const login = `Basic ${Buffer.from("bot:pw").toString("base64")}`;
    expect(connectProxy.tunnels.map((t) => [t.target, t.headers["proxy-authorization"]])).toEqual([
      [viaProxy, login],
      [viaProxy, login], // see the socks5 test: a store over EAGER_ROOTS learns at the first connection
    ]);
    await mint(viaProxy, { env: { SSL_CERT_DIR: `${caDir}:${proxyCaDir}`, HTTPS_PROXY: tlsProxy.url.href } });
    expect(tlsProxy.tunnels.map((t) => t.target)).toEqual([viaProxy, viaProxy]);
    // Roots that vouch for the server but not for the proxy: the proxy is refused, and named.
    const err = await mint(viaProxy, {
      env: { SSL_CERT_FILE: otherBundle, SSL_CERT_DIR: caDir, HTTPS_PROXY: tlsProxy.url.href },
    }).catch((e: unknown) => e);
    expect((err as ConnectError).rawMessage).toBe(
      `failed to send request: proxy ${tlsProxy.url.host}: unable to verify the first certificate (the proxy's certificate is not trusted by the roots from ${otherBundle}, ${caDir}: add its CA with -ca-bundle, SSL_CERT_FILE or SSL_CERT_DIR)`,
    );
    expect(tlsProxy.tunnels).toHaveLength(2); // no tunnel through the refused proxy
  });

  it("NO_PROXY sends the backend direct; HTTP_PROXY is not used for HTTPS", async () => {
    const closed = "http://127.0.0.1:9";
    await mint(direct, { env: { SSL_CERT_DIR: caDir, HTTPS_PROXY: closed, NO_PROXY: "127.0.0.2" } });
    await mint(direct, { env: { SSL_CERT_DIR: caDir, HTTP_PROXY: closed } });
    expect(served).toHaveLength(2);
  });

  it("refuses -protocol grpc through a proxy instead of silently going direct", () => {
    expect(() =>
      createTokenMinterClient(viaProxy, {
        protocol: "grpc",
        env: { SSL_CERT_DIR: caDir, HTTPS_PROXY: socks.url.href },
      }),
    ).toThrow(`-protocol grpc cannot go through the proxy ${socks.url.host}`);
  });

  it("names a bad proxy address in the environment", () => {
    expect(() => createTokenMinterClient(viaProxy, { env: { HTTPS_PROXY: "http://[bad" } })).toThrow(
      'invalid proxy address "http://[bad" in the environment',
    );
  });
});
