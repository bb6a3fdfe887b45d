import type { ChildProcess } from "node:child_process";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import type { DevServer, TestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatedRootsPem } from "../../../core/src/testing/generated-roots.js";
import { makeTlsCa } from "../../../core/src/testing/tls-fixtures.js";
import { BIN, runCli, runProgram } from "../testing/run-cli.js";
import { startTestTokenServer } from "../testing/test-token-server.js";
import { startTlsFront, type TlsFront } from "../testing/tls-front.js";
import { createTokendFixture, type TokendFixture } from "../testing/tokend-fixture.js";

/**
 * A trust store far larger than any real one, through the built CLI: 25,000 roots in
 * SSL_CERT_DIR, one file each (the server's CA among them), behind which the token server
 * listens with TLS on 127.0.0.2. Loading it takes the CLI about a second here (Go: 0.24 s of CPU),
 * long enough to cut short: the run's deadline and its first SIGTERM end the load, and no token
 * is written after the deadline.
 */

const ROOTS = 25_000;

let pki: TestPki;
let server: DevServer;
let front: TlsFront;
let fx: TokendFixture;
let backend = "";
let storeDir = "";

/** Only the trust variables under test; NODE_EXTRA_CA_CERTS would add its own file. */
const env = () => ({ SSL_CERT_DIR: storeDir, SSL_CERT_FILE: undefined, NODE_EXTRA_CA_CERTS: undefined });

beforeAll(async () => {
  ({ pki, server } = await startTestTokenServer());
  const ca = await makeTlsCa("Big Store CA");
  front = await startTlsFront(server.url, await ca.issue({ ip: ["127.0.0.2"] }), "127.0.0.2");
  backend = `127.0.0.2:${front.port}`;
  fx = await createTokendFixture(pki);
  await writeFile(fx.path("ca-only.pem"), ca.certPem);
  storeDir = fx.path("roots");
  await mkdir(storeDir);
  const roots = generatedRootsPem(ROOTS - 1, { signatures: "shared" }).split(
    /(?<=-----END CERTIFICATE-----\n)/,
  );
  roots.splice(ROOTS / 2, 0, ca.certPem);
  for (let i = 0; i < roots.length; i += 500) {
    await Promise.all(
      roots.slice(i, i + 500).map((pem, k) => writeFile(`${storeDir}/root-${i + k}.pem`, pem)),
    );
  }
}, 120_000);
afterAll(async () => {
  await Promise.all([server?.close(), front?.close()]);
  await fx?.cleanup();
});

const status = async () => JSON.parse(await readFile(fx.statusPath, "utf8")) as Record<string, unknown>;
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
const mints = () => server.requests.filter((r) => r.outcome.kind === "token").length;

/** Calls `send` once the CLI logged that its call is on its way (the roots load inside the call). */
const whenCalling = (send: (child: ChildProcess) => void) => ({
  onSpawn: (child: ChildProcess) => {
    let sent = false;
    child.stderr?.on("data", (d: Buffer) => {
      if (!sent && d.toString().includes("tokenserver.minter.TokenMinter.MintMachineToken")) {
        sent = true;
        send(child);
      }
    });
  },
});

describe(`a trust store of ${ROOTS.toLocaleString("en-US")} roots in SSL_CERT_DIR`, () => {
  it("is read whole: the server's CA among them is found, and the roots are counted in the log", async () => {
    await rm(fx.tokenPath, { force: true });
    const run = await runCli(fx.args(backend, "-timeout", "60s"), { env: env() });
    expect(run.code).toBe(0);
    // With the system's bundle (SSL_CERT_FILE unset, Go's list) before them.
    const count = Number(/Trust roots: (\d+) from .*, (\S+)$/m.exec(run.stderr)?.[1]);
    expect(run.stderr).toMatch(new RegExp(`Trust roots: \\d+ from .*, ${storeDir}$`, "m"));
    expect(count).toBeGreaterThan(ROOTS);
    expect(await status()).toMatchObject({ update_outcome: "UPDATE_SUCCESS" });
  }, 60_000);

  it("-timeout holds: the deadline ends the load, the run ends at once, and no token is written", async () => {
    await rm(fx.tokenPath, { force: true });
    const before = mints();
    const run = await runCli(fx.args(backend, "-timeout", "300ms"), { env: env() });
    expect(run.code).toBe(1);
    expect(await status()).toMatchObject({ update_outcome: "GRPC_ERROR_4" });
    // The call was made, and its deadline came while the roots were loading (not vacuous).
    expect(run.stderr).toContain("tokenserver.minter.TokenMinter.MintMachineToken");
    expect(run.stderr).not.toContain("Trust roots:");
    // Start-up (Node, the key, the lock) comes on top of the 300 ms; the load of ~1 s does not.
    expect(run.ms).toBeLessThan(300 + 1_500);
    expect(await exists(fx.tokenPath)).toBe(false);
    expect(mints()).toBe(before);
  }, 30_000);

  it("the first SIGTERM ends the load at once (GRPC_ERROR_1), with nothing sent and no token written", async () => {
    await rm(fx.tokenPath, { force: true });
    const before = mints();
    let signalled = 0;
    const run = await runCli(fx.args(backend, "-timeout", "60s"), {
      env: env(),
      ...whenCalling((child) => {
        signalled = performance.now();
        child.kill("SIGTERM");
      }),
    });
    const ended = performance.now();
    expect(run.code).toBe(1);
    expect(await status()).toMatchObject({ update_outcome: "GRPC_ERROR_1" });
    expect(run.stderr).not.toContain("Trust roots:");
    expect(ended - signalled).toBeLessThan(1_000);
    expect(await exists(fx.tokenPath)).toBe(false);
    expect(mints()).toBe(before);
  }, 30_000);
});

describe("an HTTPS refresh, start-up guard", () => {
  it("loads neither undici (the global Headers) nor node:http2 (Node 20 loads each on first touch)", async () => {
    // Node's internal modules as the run ends, from process.moduleLoadList (undici is internal).
    const MARK = "loaded-internals ";
    const hook = `process.on("exit", () => process.stderr.write(${JSON.stringify(MARK)} + JSON.stringify(process.moduleLoadList) + "\\n"));`;
    const run = await runProgram(
      [process.execPath, "--import", `data:text/javascript,${encodeURIComponent(hook)}`, BIN],
      fx.args(backend, "-force-refresh"),
      {
        env: {
          SSL_CERT_DIR: undefined,
          SSL_CERT_FILE: fx.path("ca-only.pem"),
          NODE_EXTRA_CA_CERTS: undefined,
        },
      },
    );
    expect(run.code).toBe(0);
    const line = run.stderr.split("\n").find((l) => l.startsWith(MARK)) ?? "";
    const internals = JSON.parse(line.slice(MARK.length)) as string[];
    expect(internals).toContain("NativeModule _tls_wrap"); // the check sees what the run loaded
    expect(internals.filter((m) => /undici|http2/.test(m))).toEqual([]);
  });
});
