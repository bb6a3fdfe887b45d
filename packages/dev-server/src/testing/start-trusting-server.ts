import type { DevServerOptions } from "../options.js";
import { type DevServer, startDevServer } from "../start-dev-server.js";
import type { TestPki } from "../test-pki.js";

/**
 * A dev server that trusts the test PKI's CA and mints 1-hour tokens for example.com, signing with
 * the CA key (no key generation); `options` override or add to that.
 */
export function startTrustingServer(pki: TestPki, options: DevServerOptions = {}): Promise<DevServer> {
  return startDevServer({
    caCertificates: [pki.caCertPem],
    domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
    signingKeyPem: pki.caKeyPem,
    ...options,
  });
}
