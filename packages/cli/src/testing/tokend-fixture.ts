import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { type CliOptions, cliOptionsFromFlags } from "../cli-options.js";
import { parseGoFlags } from "../go-flags.js";

/** A temp directory with a machine key and certificate, and paths for token and status files. */
export interface TokendFixture {
  dir: string;
  pki: TestPki;
  keyPath: string;
  certPath: string;
  tokenPath: string;
  statusPath: string;
  path(name: string): string;
  /** Go-style flags for a run against `backend`, plus `extra`. */
  args(backend: string, ...extra: string[]): string[];
  /** The same, as parsed CliOptions. */
  options(backend: string, ...extra: string[]): CliOptions;
  cleanup(): Promise<void>;
}

/** Makes the fixture; pass a PKI to share its (slow to make) RSA keys between fixtures. */
export async function createTokendFixture(pki?: TestPki): Promise<TokendFixture> {
  const dir = await mkdtemp(join(tmpdir(), "tokend-test-"));
  const testPki = pki ?? (await createTestPki({ fqdn: "bot-1.example.com" }));
  const path = (name: string) => join(dir, name);
  await writeFile(path("key.pem"), testPki.keyPem, { mode: 0o600 });
  await writeFile(path("cert.pem"), testPki.certPem);
  const args = (backend: string, ...extra: string[]) => [
    "-pkey-pem",
    path("key.pem"),
    "-cert-pem",
    path("cert.pem"),
    "-backend",
    backend,
    "-token-file",
    path("token.json"),
    "-status-file",
    path("status.json"),
    "-ts-mon-config-file",
    path("no-ts-mon.json"),
    ...extra,
  ];
  return {
    dir,
    pki: testPki,
    keyPath: path("key.pem"),
    certPath: path("cert.pem"),
    tokenPath: path("token.json"),
    statusPath: path("status.json"),
    path,
    args,
    options(backend, ...extra) {
      const parsed = parseGoFlags(args(backend, ...extra));
      if (parsed.kind !== "values") throw new Error(`bad test flags: ${JSON.stringify(parsed)}`);
      const checked = cliOptionsFromFlags(parsed.values);
      if ("error" in checked) throw new Error(checked.error);
      return checked.options;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
