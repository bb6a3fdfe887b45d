import {
  createTestPki,
  type DevServer,
  type DevServerOptions,
  startDevServer,
  type TestPki,
} from "@luci-machine-tokend/dev-server";

/** A machine PKI for bot-1.example.com and a dev server that trusts it (1 h tokens for example.com). */
export async function startTestTokenServer(
  limits: Pick<DevServerOptions, "maxConnections"> = {},
): Promise<{ pki: TestPki; server: DevServer }> {
  const pki = await createTestPki({ fqdn: "bot-1.example.com" });
  const server = await startDevServer({
    caCertificates: [pki.caCertPem],
    domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
    grpcPort: false,
    ...limits,
  });
  return { pki, server };
}
