import { writeFile } from "node:fs/promises";
import { createTestPki, type DevServer, startDevServer, type TestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { keyLeaks } from "../testing/key-leaks.js";
import { recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { calcDigest, tokendDigestInputs } from "../token-file/calc-digest.js";
import { readTokenFile } from "../token-file/read-token-file.js";
import { startTokenRefresher, type TokenRefresher } from "./token-refresher.js";
import type { TokenRefresherOptions, TokenRefresherSettings } from "./token-refresher-options.js";

let pki: TestPki;
let server: DevServer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let refresher: TokenRefresher | undefined;

beforeAll(async () => {
  [pki, tmp] = await Promise.all([createTestPki({ fqdn: "bot-1.example.com" }), makeTempDir()]);
  await writeFile(tmp.path("cert.pem"), pki.certPem);
  await writeFile(tmp.path("key.pem"), pki.keyPem);
  server = await startDevServer({
    caCertificates: [pki.caCertPem],
    domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
    grpcPort: false,
  });
});
afterEach(async () => {
  await refresher?.stop();
  refresher = undefined;
});
afterAll(async () => {
  await server.close();
  await tmp.remove();
});

/** startTokenRefresher with `identity` (given as a caller might, typed or not). */
function startWith(identity: Record<string, unknown>, extra: Partial<TokenRefresherSettings> = {}) {
  refresher = startTokenRefresher({
    backend: server.backend,
    ...identity,
    ...extra,
  } as TokenRefresherOptions);
  return refresher;
}

/** The TypeError that startTokenRefresher throws for `identity`, checked to be one line showing no key. */
function refusal(identity: Record<string, unknown>): string {
  let thrown: unknown;
  try {
    startWith(identity);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(TypeError);
  const message = (thrown as Error).message;
  expect(message).not.toMatch(/[\r\n]/);
  expect(keyLeaks(message, pki.keyPem)).toEqual([]);
  return message;
}

describe("startTokenRefresher's certificate and key", () => {
  it("are taken as PEM text or bytes (a secret manager's) as well as files, with the same digest", async () => {
    const tokenFile = tmp.path("from-pem.json");
    const r = startWith({ cert: pki.certPem, key: new TextEncoder().encode(pki.keyPem) }, { tokenFile });
    expect(await r.getToken()).not.toBe("");
    // The token file says what a CLI with the key and certificate in files decides: TOKEN_IS_GOOD.
    const { state } = await readTokenFile(tokenFile);
    const files = {
      certPem: new TextEncoder().encode(pki.certPem),
      keyPem: new TextEncoder().encode(pki.keyPem),
    };
    expect(state?.inputsDigest).toBe(calcDigest(tokendDigestInputs({ backend: server.backend, ...files })));
    await r.stop();
    const fromFiles = startWith(
      { certFile: tmp.path("cert.pem"), keyFile: tmp.path("key.pem") },
      { tokenFile },
    );
    await fromFiles.getToken();
    expect(server.requests.length).toBe(1);
  });

  it("keep the deprecated certPem/keyPem names for paths", async () => {
    const r = startWith({ certPem: tmp.path("cert.pem"), keyPem: tmp.path("key.pem") });
    expect(await r.getToken()).not.toBe("");
  });

  it("refuse PEM where a path belongs, at once and without showing it (no callback, no log line)", () => {
    const logger = recordingLogger();
    const errors: Error[] = [];
    const key = pki.keyPem;
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { certFile: tmp.path("cert.pem"), keyFile: key },
        "startTokenRefresher: keyFile is PEM text (a private key), not a file path (not shown); PEM goes in key",
      ],
      [
        { certPem: pki.certPem, keyPem: key }, // the issue's example: the files' contents under the old names
        'startTokenRefresher: certPem is PEM text ("CERTIFICATE"), not a file path (not shown); PEM goes in cert',
      ],
      [
        { certFile: tmp.path("cert.pem"), keyPem: key },
        "startTokenRefresher: keyPem is PEM text (a private key), not a file path (not shown); PEM goes in key",
      ],
      [
        { certFile: tmp.path("cert.pem"), keyFile: Buffer.from(key) },
        "startTokenRefresher: keyFile is bytes, not a file path (not shown); PEM goes in key",
      ],
      [
        { certFile: tmp.path("cert.pem"), keyFile: Buffer.from(key).toString("base64") },
        "startTokenRefresher: keyFile is base64 of PEM text, not a file path (not shown); PEM goes in key",
      ],
      [
        { certFile: tmp.path("cert.pem"), key: tmp.path("key.pem") },
        "startTokenRefresher: key holds no PEM block (not shown); a path goes in keyFile",
      ],
      [
        { certFile: tmp.path("cert.pem") },
        "startTokenRefresher: no private key: give keyFile (a path) or key (PEM text or bytes)",
      ],
      [
        { certFile: tmp.path("cert.pem"), key, keyFile: tmp.path("key.pem") },
        "startTokenRefresher: the private key given 2 ways: give keyFile (a path) or key (PEM text or bytes)",
      ],
    ];
    for (const [identity, message] of cases) {
      expect(refusal({ ...identity, logger, onError: (e: Error) => errors.push(e) })).toBe(message);
    }
    expect([logger.lines, errors]).toEqual([[], []]);
  });
});
