import { createTestPki, type DevServer, startDevServer, type TestPki } from "@luci-machine-tokend/dev-server";
import { type FakePrpcServer, startFakePrpcServer } from "../../../../core/src/testing/fake-prpc-server.js";

/** The servers and machine identity every differential scenario shares (made once per suite). */
export interface DiffContext {
  pki: TestPki;
  /** The dev token server: trusts `pki`'s CA, 1 h tokens for example.com. */
  dev: DevServer;
  /** A raw pRPC server whose every answer the scenario chooses. */
  raw: FakePrpcServer;
  /** Successful mints the dev server made so far. */
  mints(): number;
}

/** Starts the shared servers. */
export async function startDiffContext(): Promise<DiffContext> {
  const pki = await createTestPki({ fqdn: "bot-1.example.com" });
  const [dev, raw] = await Promise.all([
    startDevServer({
      caCertificates: [pki.caCertPem],
      domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
      grpcPort: false,
    }),
    startFakePrpcServer(),
  ]);
  return {
    pki,
    dev,
    raw,
    mints: () => dev.requests.filter((r) => r.outcome.kind === "token").length,
  };
}

/** Stops the shared servers. */
export async function stopDiffContext(ctx: DiffContext | undefined): Promise<void> {
  await Promise.all([ctx?.dev.close(), ctx?.raw.close()]);
}
