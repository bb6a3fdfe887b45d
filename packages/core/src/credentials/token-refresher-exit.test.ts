import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { createTestPki, type DevServer, startDevServer } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../testing/temp-dir.js";
import { until } from "../testing/until.js";

const REFRESHER = pathToFileURL(fileURLToPath(new URL("./token-refresher.ts", import.meta.url))).href;

/**
 * A service's process: refresher A gets a token and stays idle (never stopped); refresher B's
 * first call hangs on the server until the parent says "stop" on stdin, then B is stopped.
 * Nothing else is left, so the process must end by itself.
 */
const CHILD = `
import { startTokenRefresher } from ${JSON.stringify(REFRESHER)};
const [good, hanging, cert, key] = process.argv.slice(2);
const a = startTokenRefresher({ backend: good, certFile: cert, keyFile: key });
const token = await a.getToken();
const b = startTokenRefresher({ backend: hanging, certFile: cert, keyFile: key });
const pending = b.getToken().catch((err) => err.message);
process.stdout.write("ready\\n");
process.stdin.once("data", async () => {
  process.stdin.destroy();
  await b.stop();
  process.stdout.write(JSON.stringify({ token: token.length > 0, b: await pending }) + "\\n");
});
`;

describe("startTokenRefresher in a process", () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let good: DevServer;
  let hanging: DevServer;

  beforeAll(async () => {
    tmp = await makeTempDir();
    const pki = await createTestPki({ fqdn: "bot-1.example.com" });
    const options = {
      caCertificates: [pki.caCertPem],
      domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
      grpcPort: false as const,
    };
    good = await startDevServer(options);
    hanging = await startDevServer({ ...options, faults: { latencyMs: 120_000 } });
    await writeFile(tmp.path("cert.pem"), pki.certPem);
    await writeFile(tmp.path("key.pem"), pki.keyPem);
    await writeFile(tmp.path("child.mts"), CHILD);
  });
  afterAll(async () => {
    await good?.close();
    await hanging?.close();
    await tmp?.remove();
  });

  it("does not hold the event loop: idle waits are unref'd, stop() ends a call in flight", async () => {
    const args = [good.backend, hanging.backend, tmp.path("cert.pem"), tmp.path("key.pem")];
    // Killed (and the test failed) if it is still running 10 s after it was told to stop.
    const run = promisify(execFile)(process.execPath, ["--import", "tsx", tmp.path("child.mts"), ...args], {
      timeout: 25_000,
    });
    const ended = run.then(
      (out) => ({ ...out, code: 0 }),
      (err: { code: number | null; signal: string | null; stdout: string; stderr: string }) => err,
    );
    // B's call is on the wire once the hanging server has a connection (A has its token by then).
    while (hanging.openConnections() === 0) {
      if (run.child.exitCode !== null) throw new Error(`child ended early: ${(await ended).stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stopped = performance.now();
    run.child.stdin?.end("stop\n");
    const { code, stdout, stderr } = await ended;
    expect(performance.now() - stopped).toBeLessThan(10_000);
    expect([code, stderr, stdout]).toEqual([
      0,
      "",
      `ready\n${JSON.stringify({ token: true, b: "the token refresher was stopped" })}\n`,
    ]);
    // The server notes a client gone when it sees the socket close, which may come after the exit.
    await until(() => hanging.requests.length > 0, 5_000);
    expect(hanging.requests.map((r) => r.outcome.kind)).toEqual(["client-gone"]);
  }, 30_000);
});
