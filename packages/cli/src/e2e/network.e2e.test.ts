import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { DevServer, TestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConnectProxy, type TestConnectProxy } from "../../../core/src/testing/connect-proxy.js";
import { startSocksProxy, type TestSocksProxy } from "../../../core/src/testing/socks-proxy.js";
import { makeTlsCa } from "../../../core/src/testing/tls-fixtures.js";
import { runCli } from "../testing/run-cli.js";
import { startTestTokenServer } from "../testing/test-token-server.js";
import { startTlsFront, type TlsFront } from "../testing/tls-front.js";
import { createTokendFixture, type TokendFixture } from "../testing/tokend-fixture.js";

/**
 * Trust roots and proxies as Go's HTTP client uses them, through the built CLI: a token server
 * behind TLS with a certificate from a private CA, reached on 127.0.0.2 (HTTPS, as every backend
 * but `localhost:`/`127.0.0.1:`/`[::1]:`) or as `tokens.test` through proxies. Outcomes are Go's
 * (the differential suite's tls.ts runs the same cases with the Go binary); the log says what to fix.
 */

/** The environment of every run starts without any of the variables under test. */
const CLEAN_ENV = Object.fromEntries(
  [
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
  ]
    .concat(["NO_PROXY", "no_proxy"])
    .map((k) => [k, undefined]),
);

let pki: TestPki;
let server: DevServer;
let fronts: TlsFront[] = [];
let socks: TestSocksProxy;
let tlsProxy: TestConnectProxy;
let plain: ReturnType<typeof createServer>;
let dir = "";
const backends = { direct: "", proxied: "", plainHttp: "" };

beforeAll(async () => {
  ({ pki, server } = await startTestTokenServer());
  const tlsCa = await makeTlsCa();
  const tls = await tlsCa.issue({ dns: ["tokens.test"], ip: ["127.0.0.2"] });
  fronts = await Promise.all([
    startTlsFront(server.url, tls, "127.0.0.2"),
    startTlsFront(server.url, tls, "127.0.0.1"), // where the SOCKS proxy sends tunnels
  ]);
  backends.direct = `127.0.0.2:${fronts[0]?.port}`;
  backends.proxied = `tokens.test:${fronts[1]?.port}`;
  const proxyCa = await makeTlsCa("Corporate Proxy CA");
  [socks, tlsProxy] = await Promise.all([
    startSocksProxy(),
    startConnectProxy(await proxyCa.issue({ ip: ["127.0.0.1"] })),
  ]);
  plain = createServer((_req, res) => res.writeHead(404).end("plain HTTP"));
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.2", resolve));
  backends.plainHttp = `127.0.0.2:${(plain.address() as AddressInfo).port}`;
  dir = (await createTokendFixture(pki)).dir;
  await mkdir(`${dir}/ca-dir`);
  await writeFile(`${dir}/ca-dir/private.pem`, tlsCa.certPem);
  await writeFile(`${dir}/ca-dir/proxy.crt`, proxyCa.certPem);
  await writeFile(`${dir}/other-bundle.pem`, (await makeTlsCa("Some Other CA")).certPem);
});
afterAll(async () => {
  plain?.closeAllConnections();
  await Promise.all([
    server?.close(),
    socks?.close(),
    tlsProxy?.close(),
    ...fronts.map((f) => f.close()),
    new Promise((resolve) => (plain ? plain.close(resolve) : resolve(undefined))),
  ]);
  await rm(dir, { recursive: true, force: true });
});

interface Case {
  name: string;
  backend: keyof typeof backends;
  env: () => Record<string, string>;
  ok: boolean;
  /** Text our log must show. */
  says?: () => string;
}

const CASES: Case[] = [
  {
    name: "a CA found only in SSL_CERT_DIR",
    backend: "direct",
    env: () => ({ SSL_CERT_DIR: `${dir}/ca-dir` }),
    ok: true,
  },
  {
    name: "SSL_CERT_FILE naming a bundle without the CA: untrusted, retried until -timeout",
    backend: "direct",
    env: () => ({ SSL_CERT_FILE: `${dir}/other-bundle.pem` }),
    ok: false,
    says: () => `certificate is not trusted by the roots from ${dir}/other-bundle.pem`,
  },
  {
    name: "an unreadable SSL_CERT_FILE (a directory) does not fail the run; SSL_CERT_DIR still counts",
    backend: "direct",
    env: () => ({ SSL_CERT_FILE: dir, SSL_CERT_DIR: `${dir}/ca-dir` }),
    ok: true,
  },
  {
    name: "HTTPS_PROXY=socks5://",
    backend: "proxied",
    env: () => ({ SSL_CERT_DIR: `${dir}/ca-dir`, HTTPS_PROXY: socks.url.href }),
    ok: true,
  },
  {
    name: "https_proxy=socks5h://",
    backend: "proxied",
    env: () => ({ SSL_CERT_DIR: `${dir}/ca-dir`, https_proxy: `socks5h://${socks.url.host}` }),
    ok: true,
  },
  {
    name: "HTTPS_PROXY=https:// (TLS to the proxy too, checked with the same roots)",
    backend: "proxied",
    env: () => ({ SSL_CERT_DIR: `${dir}/ca-dir`, HTTPS_PROXY: tlsProxy.url.href }),
    ok: true,
  },
  {
    name: "an HTTPS backend that answers in plain HTTP",
    backend: "plainHttp",
    env: () => ({ SSL_CERT_DIR: `${dir}/ca-dir` }),
    ok: false,
    says: () =>
      "it answered in plain HTTP (plain HTTP is only used for localhost:, 127.0.0.1: and [::1]: backends)",
  },
];

/** Runs our CLI on case `c`; returns the exit code, the outcome and the log. */
async function runCase(fx: TokendFixture, c: Case) {
  const args = fx.args(backends[c.backend], "-timeout", c.ok ? "10s" : "1s");
  const result = await runCli(args, { env: { ...CLEAN_ENV, ...c.env() } });
  const status = JSON.parse(await readFile(fx.statusPath, "utf8")) as {
    update_outcome?: string;
    failure_error?: string;
  };
  return {
    code: result.code,
    outcome: status.update_outcome,
    failureError: status.failure_error,
    stderr: result.stderr,
  };
}

describe("trust roots and proxies, as Go's HTTP client", () => {
  it.each(CASES)("$name", async (c) => {
    const fx = await createTokendFixture(pki);
    try {
      const ours = await runCase(fx, c);
      expect({ code: ours.code, outcome: ours.outcome }).toEqual(
        c.ok ? { code: 0, outcome: "UPDATE_SUCCESS" } : { code: 1, outcome: "GRPC_ERROR_4" },
      );
      if (c.says) expect(ours.stderr).toContain(c.says());
      // The status file alone says why: Go's text, then the last attempt's error.
      if (c.says && !c.ok) expect(ours.failureError).toContain(`exceeded; last attempt: `);
      if (c.says && !c.ok) expect(ours.failureError).toContain(c.says());
      if (c.env().HTTPS_PROXY?.startsWith("https:"))
        expect(tlsProxy.tunnels.at(-1)?.target).toBe(backends.proxied);
      else if (c.backend === "proxied") expect(socks.requests.at(-1)?.host).toBe("tokens.test");
    } finally {
      await fx.cleanup();
    }
  });
});

describe("check uses the same connection setup", () => {
  it("reaches the backend with the system's roots and the proxy of the environment; explains plain HTTP", async () => {
    const fx = await createTokendFixture(pki);
    try {
      const check = (backend: string, env: Record<string, string>) =>
        runCli(["check", "-backend", backend, "-cert-pem", fx.certPath, "-pkey-pem", fx.keyPath], {
          env: { ...CLEAN_ENV, SSL_CERT_DIR: `${dir}/ca-dir`, ...env },
        });
      const viaSocks = await check(backends.proxied, { HTTPS_PROXY: socks.url.href });
      expect(viaSocks.stdout).toMatch(
        new RegExp(
          `^PASS backend: ${backends.proxied} is a pRPC server \\(answered code \\d+ in \\d+ ms, via ${socks.url.host}\\)`,
          "m",
        ),
      );
      const plainHttp = await check(backends.plainHttp, {});
      expect(plainHttp.stdout).toContain(
        `FAIL backend: ${backends.plainHttp}: TLS handshake with ${backends.plainHttp} failed: it answered in plain HTTP (plain HTTP is only used for localhost:, 127.0.0.1: and [::1]: backends)`,
      );
      const untrusted = await check(backends.direct, {
        SSL_CERT_DIR: "",
        SSL_CERT_FILE: `${dir}/other-bundle.pem`,
      });
      expect(untrusted.stdout).toContain(
        `certificate is not trusted by the roots from ${dir}/other-bundle.pem`,
      );
    } finally {
      await fx.cleanup();
    }
  });
});
