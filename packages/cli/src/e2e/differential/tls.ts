import { chmod, mkdir, writeFile } from "node:fs/promises";
import { type AddressInfo, connect, type Server } from "node:net";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { afterAll, beforeAll, describe, it } from "vitest";
import { makeTlsCa } from "../../../../core/src/testing/tls-fixtures.js";
import { type DiffWorkspace, expectSame, type KeptDifference, runBoth } from "../../testing/differential.js";
import type { DiffContext } from "./context.js";

/** Not `localhost:` or `127.0.0.1:`, so both implementations must use HTTPS. */
const TLS_HOST = "127.0.0.2";

/** HTTPS backends: trust from the OS store's variables, and an untrusted server. */
export function tlsScenarios(suite: { ctx: DiffContext; ws: DiffWorkspace }): void {
  let front: Server;
  let backend: string;
  let caPem: string;
  beforeAll(async () => {
    const ca = await makeTlsCa("Differential TLS CA");
    caPem = ca.certPem;
    const identity = await ca.issue({ ip: [TLS_HOST] });
    // TLS in front of the dev server's plain HTTP port.
    const devPort = Number(suite.ctx.dev.backend.split(":")[1]);
    front = createTlsServer({ key: identity.keyPem, cert: identity.certPem }, (socket) => {
      const upstream = connect(devPort, "127.0.0.1");
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    });
    await new Promise<void>((resolve) => front.listen(0, TLS_HOST, resolve));
    backend = `${TLS_HOST}:${(front.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve())));

  const run = (env: Record<string, string>, extra: string[] = [], kept?: Record<string, KeptDifference>) =>
    // -timeout bounds a run that cannot connect; an untrusted server is retried until then.
    runBoth(suite.ws, (impl) => [...suite.ws.args(impl, backend), "-timeout", "2s", ...extra], {
      serverCalls: suite.ctx.mints,
      env,
    }).then((r) => expectSame(r, kept));
  const certDir = async () => {
    const dir = join(suite.ws.root, "certs");
    await mkdir(dir);
    await writeFile(join(dir, "differential-ca.pem"), caPem);
    await chmod(dir, 0o755);
    return dir;
  };

  describe("HTTPS backends", () => {
    it("a server trusted only through SSL_CERT_DIR", async () => run({ SSL_CERT_DIR: await certDir() }));
    it("SSL_CERT_FILE that cannot be read is ignored", async () =>
      run({ SSL_CERT_DIR: await certDir(), SSL_CERT_FILE: join(suite.ws.root, "no-such-bundle.pem") }));
    it("a server nobody trusts", () => run({}));
  });
}
