import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import {
  createTokenMinterClient,
  createX509Signer,
  mintToken,
  outcomeFromError,
} from "@luci-machine-tokend/core";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import { insertMetrics, MetricsPayloadSchema } from "@luci-machine-tokend/core/ts-mon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTlsCa } from "../../core/src/testing/tls-fixtures.js";
import { runDevServerCli } from "./cli.js";
import { createTestPki, type TestLeaf, type TestPki } from "./test-pki.js";
import { testSigner as signerFor } from "./testing/signed-request.js";

/** The `dev-server` command in-process: flags, serving until its signal, its log, its errors. */

let pki: TestPki;
let dir: string;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com" });
  dir = await mkdtemp(join(tmpdir(), "dev-server-cli-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("luci-machine-tokend dev-server", () => {
  /** Runs the `dev-server` command in-process until `stop()`; resolves once it listens. */
  async function startCli(args: string[]) {
    const controller = new AbortController();
    const out = { stdout: "", stderr: "" };
    const done = runDevServerCli(["--listen", "127.0.0.1:0", ...args], {
      stdout: (t) => {
        out.stdout += t;
      },
      stderr: (t) => {
        out.stderr += t;
      },
      signal: controller.signal,
    });
    for (let i = 0; i < 250 && !out.stdout.includes("listening"); i++)
      await new Promise((r) => setTimeout(r, 20));
    const backend = /listening on (\S+)/.exec(out.stdout)?.[1] ?? "";
    const stop = async () => {
      controller.abort();
      return done;
    };
    return { backend, out, stop };
  }

  it("serves until its signal, with flags for CAs, domains, CRLs and faults", async () => {
    const ca = join(dir, "ca.pem");
    const crl = join(dir, "revoked.txt");
    await writeFile(ca, pki.caCertPem);
    await writeFile(crl, `# revoked serials\n${pki.revoked.serial.toString(16)}\n`);
    const cli = await startCli([
      "--ca-cert",
      ca,
      "--domain",
      "example.com=1h",
      "--crl",
      crl,
      "--fail-next",
      "1:UNAVAILABLE",
    ]);
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    await writeFile(keyPath, pki.keyPem);
    await writeFile(certPath, pki.certPem);
    const signer = await createX509Signer({ keyPath, certPath });
    const minted = await mintToken({
      client: createTokenMinterClient(cli.backend),
      signer,
      timeoutMs: 5_000,
      jitter: false,
    });
    expect(minted.attempts).toBe(2); // --fail-next 1
    const revoked = await mintToken({
      client: createTokenMinterClient(cli.backend),
      signer: signerFor(pki.revoked),
      timeoutMs: 5_000,
    }).catch((e) => e);
    expect(outcomeFromError(revoked)).toBe("MINT_TOKEN_ERROR_UNTRUSTED_CERTIFICATE");
    expect(await cli.stop()).toBe(0);
    expect(cli.out.stdout).toContain("dev-server stopped");
    let stderr = "";
    expect(
      await runDevServerCli(["--domain", "nonsense"], {
        stdout: () => {},
        stderr: (t) => {
          stderr += t;
        },
      }),
    ).toBe(2);
    expect(stderr).toMatch(/^dev-server: --domain nonsense: expecting DOMAIN=LIFETIME/);
  });

  it("--prodx-listen also serves ProdX over TLS, logging each Insert without its token", async () => {
    const tlsCa = await makeTlsCa("dev-server ProdX CA");
    const identity = await tlsCa.issue({ ip: ["127.0.0.1"] });
    await Promise.all([
      writeFile(join(dir, "ca.pem"), pki.caCertPem),
      writeFile(join(dir, "prodx-ca.pem"), tlsCa.certPem),
      writeFile(join(dir, "prodx-cert.pem"), identity.certPem),
      writeFile(join(dir, "prodx-key.pem"), identity.keyPem),
    ]);
    const cli = await startCli([
      ...["--ca-cert", join(dir, "ca.pem"), "--domain", "example.com=1h"],
      ...["--prodx-listen", "127.0.0.1:0", "--prodx-cert", join(dir, "prodx-cert.pem")],
      ...["--prodx-key", join(dir, "prodx-key.pem")],
    ]);
    const endpoint = /ProdX \(gRPC over TLS\) at https:\/\/127\.0\.0\.1:(\d+)\/v1:insert/.exec(
      cli.out.stdout,
    );
    expect(endpoint).not.toBeNull();
    const payload = create(MetricsPayloadSchema, {
      metricsCollection: [
        {
          rootLabels: [{ key: "host_name", value: { case: "stringValue", value: "bot\n1" } }],
          metricsDataSet: [
            {
              metricName: "/chrome/infra/luci/machine_tokend/update_outcome",
              data: [{ value: { case: "stringValue", value: "UPDATE_SUCCESS" } }],
            },
          ],
        },
      ],
    });
    await insertMetrics(payload, {
      host: "127.0.0.1",
      port: Number(endpoint?.[1]),
      authorization: async () => "Bearer s3cret-token",
      env: { SSL_CERT_FILE: join(dir, "prodx-ca.pem"), SSL_CERT_DIR: "" },
    });
    expect(await cli.stop()).toBe(0);
    expect(cli.out.stderr).toContain(
      'dev-server: ProdX Insert with a bearer token: 1 metrics from "bot\\n1": update_outcome="UPDATE_SUCCESS"\n',
    );
    expect(cli.out.stderr).not.toContain("s3cret-token");
  });

  it("logs one escaped line per call, with why a certificate was not trusted", async () => {
    const ca = join(dir, "ca-log.pem");
    await writeFile(ca, pki.caCertPem);
    // A CA the server does not know, whose name is hostile to terminals and log parsers.
    const hostileCn = "Evil\nCA\u001b[31m\u2028\u202e";
    const evil = await createTestPki({ caCommonName: hostileCn, caKeyPem: pki.caKeyPem, keyPem: pki.keyPem });
    const cli = await startCli([
      "--ca-cert",
      ca,
      "--domain",
      "example.com=1h",
      "--max-request-bytes",
      "4096",
    ]);
    const mint = (leaf: TestLeaf) =>
      mintToken({ client: createTokenMinterClient(cli.backend), signer: signerFor(leaf), timeoutMs: 5_000 });
    await mint(pki.leaf);
    const untrusted = await mint(evil.leaf).catch((e: unknown) => e);
    // The client gets LUCI's generic answer; the reason goes to the server's log only.
    expect(errorMessage(untrusted)).toBe(
      "token server error UNTRUSTED_CERTIFICATE - invalid or untrusted certificate",
    );
    await mint(pki.expired).catch(() => undefined);
    const tooBig = await fetch(`http://${cli.backend}/prpc/tokenserver.minter.TokenMinter/MintMachineToken`, {
      method: "POST",
      body: new Uint8Array(4097),
    });
    expect(tooBig.status).toBe(503); // --max-request-bytes
    expect(await cli.stop()).toBe(0);

    const lines = cli.out.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^dev-server: \S+Z prpc\/binary HTTP\/1\.1 [\x20-\x7e]+$/);
    expect(lines[0]).toMatch(/ token fqdn="bot-1.example.com" ca_id=1 lifetime=3600s$/);
    expect(lines[1]).toContain(
      // The reason quotes the CN (escaped), and the log line quotes the reason (escaped again).
      'error_code=UNTRUSTED_CERTIFICATE message="invalid or untrusted certificate" reason="no such CA \\"Evil\\\\nCA\\\\u001b[31m\\\\u2028\\\\u202e\\""',
    );
    expect(lines[2]).toMatch(/ reason="certificate has expired"$/);
    expect(lines[3]).toMatch(
      / grpc_code=14 \(Unavailable\) message="reading the request: the request size exceeds/,
    );

    const quiet = await startCli(["--quiet", "--ca-cert", ca, "--domain", "example.com=1h"]);
    await fetch(`http://${quiet.backend}/prpc/tokenserver.minter.TokenMinter/MintMachineToken`, {
      method: "POST",
      body: "x",
    });
    expect(await quiet.stop()).toBe(0);
    expect(quiet.out.stderr).toBe("");
  });

  it("checks its limit flags", async () => {
    for (const [flag, value] of [
      ["--max-connections", "0"],
      ["--max-request-bytes", "lots"],
      ["--memory-budget", "0"],
      ["--idle-timeout", "0s"],
      ["--request-timeout", "soon"],
    ] as const) {
      let stderr = "";
      const code = await runDevServerCli([flag, value], {
        stdout: () => {},
        stderr: (t) => {
          stderr += t;
        },
      });
      expect([code, stderr.split("\n")[0]]).toEqual([2, expect.stringContaining(`dev-server: ${flag}`)]);
    }
  });

  it("refuses to start without --ca-cert or --domain, with a one-line reason", async () => {
    const ca = join(dir, "ca-required.pem");
    await writeFile(ca, pki.caCertPem);
    const cli = async (argv: string[]) => {
      const out = { code: 0, stdout: "", stderr: "" };
      out.code = await runDevServerCli(argv, {
        stdout: (t) => {
          out.stdout += t;
        },
        stderr: (t) => {
          out.stderr += t;
        },
      });
      return out;
    };
    expect(await cli(["--domain", "example.com=1h"])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "dev-server: --ca-cert FILE is required (the CA that issued the machines' certificates); luci-machine-tokend dev-server -h lists the flags\n",
    });
    expect(await cli(["--ca-cert", ca])).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "dev-server: --domain DOMAIN=LIFETIME is required (which machines get tokens, e.g. example.com=1h); luci-machine-tokend dev-server -h lists the flags\n",
    });
    expect((await cli([])).stderr).toMatch(/^dev-server: --ca-cert FILE is required .*\n$/);
  });
});
