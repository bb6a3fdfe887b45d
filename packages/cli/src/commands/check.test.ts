import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeTlsCa } from "../../../core/src/testing/tls-fixtures.js";
import { main } from "../main.js";
import { createTokendFixture, type TokendFixture } from "../testing/tokend-fixture.js";

const NOW = new Date(1700000000_000);
const DAY = 86_400_000;
let pki: TestPki;
let other: TestPki;
let fx: TokendFixture;
const servers: Server[] = [];
/** host:port of servers that are no token server: plain HTTP off loopback's names, TLS of an unknown CA, … */
const at = { plainOnOtherIp: "", untrustedTls: "", wrongNameTls: "", notPrpc: "" };
let tlsCaPem = "";

const listen = (server: Server, host: string) =>
  new Promise<string>((resolve) => {
    servers.push(server);
    server.listen(0, host, () => resolve(`${host}:${(server.address() as AddressInfo).port}`));
  });

beforeAll(async () => {
  [pki, other] = await Promise.all([
    createTestPki({ fqdn: "bot-1.example.com", now: NOW }),
    createTestPki({ fqdn: "bot-2.example.com", now: NOW }),
  ]);
  const answer502 = () =>
    createHttpServer((req, res) => {
      req.resume();
      res.writeHead(502).end("bad gateway\n");
    });
  const tlsCa = await makeTlsCa();
  tlsCaPem = tlsCa.certPem;
  const tls = async (names: { dns?: string[]; ip?: string[] }) => {
    const { certPem, keyPem } = await tlsCa.issue(names);
    return createHttpsServer({ cert: certPem, key: keyPem }, (req, res) => {
      req.resume();
      res.writeHead(502).end();
    });
  };
  // 127.0.0.2 is loopback, but only localhost:, 127.0.0.1: and [::1]: backends are plain HTTP.
  at.plainOnOtherIp = await listen(answer502(), "127.0.0.2");
  at.untrustedTls = await listen(await tls({ ip: ["127.0.0.2"] }), "127.0.0.2");
  at.wrongNameTls = await listen(await tls({ dns: ["other.test"] }), "127.0.0.2");
  at.notPrpc = await listen(answer502(), "127.0.0.1");
});
afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));
beforeEach(async () => {
  fx = await createTokendFixture(pki);
});
afterEach(() => fx.cleanup());

/** Runs `check` with the fixture's files (as changed by `setup`), returns its lines by name. */
async function check(extra: string[] = [], env: Record<string, string> = {}): Promise<Map<string, string>> {
  let stdout = "";
  const saved = { ...process.env };
  for (const name of ["HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"]) delete process.env[name];
  Object.assign(process.env, env);
  try {
    const args = ["check", "-backend", at.notPrpc, "-cert-pem", fx.certPath, "-pkey-pem", fx.keyPath];
    await main([...args, "-token-file", fx.tokenPath, ...extra], {
      stdout: (t) => {
        stdout += t;
      },
      stderr: () => {},
      deps: { now: () => NOW },
    });
  } finally {
    process.env = saved;
  }
  const lines = new Map<string, string>();
  for (const line of stdout.trim().split("\n")) {
    const m = /^(\w+) ([^:]+): (.*)$/.exec(line);
    if (m) lines.set(m[2] ?? "", `${m[1]} ${m[3]}`);
  }
  return lines;
}

/** The fix printed after a line's detail. */
const fixOf = (line: string | undefined) => /\(fix: (.*)\)$/.exec(line ?? "")?.[1];

/** A case's setup: writes a file, then gives these flags. */
const writes =
  (name: string, content: () => string, args: () => string[] = () => []) =>
  async () => {
    await writeFile(fx.path(name), content());
    return args();
  };

const encrypted = () =>
  createPrivateKey(pki.keyPem)
    .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "right" })
    .toString();

type Case = [
  cause: string,
  setup: () => Promise<string[] | { args?: string[]; env?: Record<string, string> }>,
  check: string,
  fix: string | (() => string),
];

describe("check: every FAIL line's fix is the fix of its cause", () => {
  const cases: Case[] = [
    // key and certificate
    [
      "no key file",
      async () => ["-pkey-pem", fx.path("none.pem")],
      "key and certificate",
      "give -pkey-pem the path of a regular file holding the machine's private key, readable by this user",
    ],
    [
      "no certificate file",
      async () => ["-cert-pem", fx.path("none.pem")],
      "key and certificate",
      "give -cert-pem the path of a regular file holding the machine's certificate, readable by this user",
    ],
    [
      "no passphrase file",
      async () => ["-pkey-passphrase-file", fx.path("none")],
      "key and certificate",
      "give -pkey-passphrase-file the path of a regular file holding the key's passphrase, readable by this user",
    ],
    [
      "key and certificate swapped",
      async () => ["-pkey-pem", fx.certPath, "-cert-pem", fx.keyPath],
      "key and certificate",
      "swap the paths of -pkey-pem and -cert-pem",
    ],
    [
      "a key file that holds no key",
      writes("key.pem", () => "junk\n"),
      "key and certificate",
      "give -pkey-pem the machine's RSA private key, as PEM (`luci-machine-tokend csr` makes a key and CSR)",
    ],
    [
      "an EC key",
      async () => {
        await writeFile(
          fx.keyPath,
          generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
            type: "pkcs8",
            format: "pem",
          }),
        );
        return [];
      },
      "key and certificate",
      "the token server takes RSA keys only: make one with `luci-machine-tokend csr` and have the fleet CA certify it",
    ],
    [
      "an encrypted key without a passphrase",
      writes("key.pem", () => encrypted()),
      "key and certificate",
      "give the key's passphrase with -pkey-passphrase-file FILE",
    ],
    [
      "a wrong passphrase",
      async () => {
        await writeFile(fx.keyPath, encrypted());
        await writeFile(fx.path("pass"), "wrong\n");
        return ["-pkey-passphrase-file", fx.path("pass")];
      },
      "key and certificate",
      "put the key's passphrase in the -pkey-passphrase-file file",
    ],
    [
      "another machine's key",
      writes("key.pem", () => other.keyPem),
      "key and certificate",
      "give -cert-pem the certificate issued for this key (or -pkey-pem the key it was issued for)",
    ],
    [
      "the chain root first",
      writes("cert.pem", () => `${pki.caCertPem}${pki.certPem}`),
      "key and certificate",
      "put the machine's certificate first in the -cert-pem file, then its chain",
    ],
    [
      "a certificate file that holds no certificate",
      writes("cert.pem", () => "junk\n"),
      "key and certificate",
      "give -cert-pem the machine's certificate, as PEM",
    ],
    // certificate
    [
      "no certificate file (certificate)",
      async () => ["-cert-pem", fx.path("none.pem")],
      "certificate",
      "give -cert-pem the path of a regular file holding the machine's certificate, readable by this user",
    ],
    [
      "a certificate file that holds no certificate (certificate)",
      writes("cert.pem", () => "junk\n"),
      "certificate",
      "give -cert-pem the machine's certificate, as PEM",
    ],
    [
      "a certificate not valid yet",
      async () => {
        await writeFile(
          fx.certPath,
          (
            await pki.issue({
              notBefore: new Date(NOW.getTime() + DAY),
              notAfter: new Date(NOW.getTime() + 9 * DAY),
            })
          ).certPem,
        );
        return [];
      },
      "certificate validity",
      "check this machine's clock (NTP); if it is right, the certificate is not valid yet: wait or have it reissued",
    ],
    [
      "an expired certificate",
      writes("cert.pem", () => pki.expired.certPem),
      "certificate validity",
      "have the fleet CA issue a new certificate",
    ],
    [
      "a certificate expiring in 5 days (WARN)",
      async () => {
        await writeFile(
          fx.certPath,
          (await pki.issue({ notAfter: new Date(NOW.getTime() + 5 * DAY) })).certPem,
        );
        return [];
      },
      "certificate validity",
      "have the fleet CA issue a new certificate",
    ],
    [
      "a name without a domain",
      writes("cert.pem", () => pki.dotless.certPem),
      "machine identity",
      "the certificate's CN must be the machine FQDN, or its first label with the FQDN as a SAN",
    ],
    // token directory
    [
      "a token directory that does not exist",
      async () => ["-token-file", fx.path("missing/token.json")],
      "token directory",
      () => `create ${fx.path("missing")}, writable by this user`,
    ],
    [
      "a token path under a file",
      async () => ["-token-file", fx.path("key.pem/token.json")],
      "token directory",
      () => `a part of ${fx.path("key.pem")} is not a directory: give -token-file a path in a directory`,
    ],
    // backend
    [
      "a -backend with a scheme",
      async () => ["-backend", "https://tokens.test"],
      "backend",
      "give -backend as host[:port], with no scheme or path",
    ],
    [
      "no -ca-bundle file",
      async () => ["-ca-bundle", fx.path("none.pem")],
      "backend",
      "give -ca-bundle a readable PEM file of CA certificates",
    ],
    [
      "a -ca-bundle without certificates",
      writes(
        "empty.pem",
        () => "",
        () => ["-ca-bundle", fx.path("empty.pem")],
      ),
      "backend",
      "give -ca-bundle a readable PEM file of CA certificates",
    ],
    [
      "an HTTPS_PROXY that does not parse",
      async () => ({
        args: ["-backend", "tokens.test:443"],
        env: { HTTPS_PROXY: "http://bot:p%ss@proxy:3128" },
      }),
      "backend",
      "fix HTTPS_PROXY (or https_proxy): a URL such as http://proxy:3128, a login's % escaped as %25",
    ],
    [
      "nothing listening",
      async () => ["-backend", "127.0.0.1:1"],
      "backend",
      "nothing listens at 127.0.0.1:1: check the port of -backend and that the server runs",
    ],
    [
      "a name that does not resolve",
      async () => ["-backend", "no-such-host.invalid:443"],
      "backend",
      "no-such-host.invalid does not resolve: check -backend and DNS",
    ],
    [
      "a server certificate of an unknown CA",
      async () => ["-backend", at.untrustedTls],
      "backend",
      "add the CA of the server's certificate with -ca-bundle, SSL_CERT_FILE or SSL_CERT_DIR",
    ],
    [
      "a server certificate for another name",
      async () => {
        await writeFile(fx.path("tls-ca.pem"), tlsCaPem);
        return ["-backend", at.wrongNameTls, "-ca-bundle", fx.path("tls-ca.pem")];
      },
      "backend",
      "the server's certificate is for another name: check the host of -backend",
    ],
    [
      "a plain-HTTP server named by another address",
      async () => ["-backend", at.plainOnOtherIp],
      "backend",
      "the server speaks plain HTTP: only localhost:PORT, 127.0.0.1:PORT and [::1]:PORT backends use it",
    ],
    [
      "a server that is no pRPC server",
      async () => [],
      "backend",
      "-backend must name a LUCI token server; if HTTPS_PROXY is set, check that the proxy passes requests on",
    ],
  ];

  it.each(cases)("%s", async (_cause, setup, name, fix) => {
    const made = await setup();
    const { args = [], env = {} } = Array.isArray(made) ? { args: made } : made;
    const lines = await check(args, env);
    const line = lines.get(name);
    expect(line, [...lines].join("\n")).toMatch(/^(FAIL|WARN) /);
    expect(fixOf(line), line).toEqual(typeof fix === "function" ? fix() : fix);
  });
});

describe("check: what only the token server can judge", () => {
  it("shows the certificate's issuer and says only the server knows whether it trusts it", async () => {
    await writeFile(fx.certPath, pki.untrusted.certPem);
    const lines = await check();
    expect(lines.get("key and certificate")).toMatch(/^PASS /);
    expect(lines.get("certificate issuer")).toBe(
      'INFO "CN=Dev Server Test CA (untrusted)": only the token server can tell whether it trusts this CA (if not, runs fail with MINT_TOKEN_ERROR_UNTRUSTED_CERTIFICATE)',
    );
  });
});
