import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestPki } from "@luci-machine-tokend/dev-server";

/** The CLI's bin, built by `npm run build`. */
export const BIN = fileURLToPath(new URL("../packages/cli/bin/luci-machine-tokend.js", import.meta.url));

/** A machine identity on disk and a dev server in its own process. */
export interface BenchFixture {
  dir: string;
  backend: string;
  serverPid: number;
  /** tokend flags for this machine and server. */
  args: (...extra: string[]) => string[];
  caPem: string;
  keyPem: string;
  certPem: string;
  close(): void;
}

/** Writes a test PKI and starts `luci-machine-tokend dev-server` as a separate process. */
export async function createBenchFixture(): Promise<BenchFixture> {
  const dir = mkdtempSync(join(tmpdir(), "tokend-bench-"));
  const pki = await createTestPki({ fqdn: "bench-bot.example.com" });
  writeFileSync(join(dir, "ca.pem"), pki.caCertPem);
  writeFileSync(join(dir, "key.pem"), pki.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, "cert.pem"), pki.certPem);
  const server = spawn(
    process.execPath,
    [
      BIN,
      "dev-server",
      "--listen",
      "127.0.0.1:0",
      "--no-grpc",
      "--quiet",
      "--ca-cert",
      join(dir, "ca.pem"),
      "--domain",
      "example.com=1h",
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const backend = await new Promise<string>((resolve, reject) => {
    let out = "";
    server.stdout.on("data", (d: Buffer) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    server.once("exit", (code) => reject(new Error(`dev-server exited with ${code}`)));
  });
  const args = (...extra: string[]) => [
    BIN,
    ...["-backend", backend, "-cert-pem", join(dir, "cert.pem"), "-pkey-pem", join(dir, "key.pem")],
    ...[
      "-token-file",
      join(dir, "token.json"),
      "-status-file",
      join(dir, "status.json"),
      "-ts-mon-config-file",
      join(dir, "none.json"),
    ],
    ...extra,
  ];
  // One real refresh, so the token-is-good runs have a token.
  const first = spawnSync(process.execPath, args(), { stdio: "inherit" });
  if (first.status !== 0) {
    server.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
    throw new Error("the first refresh failed");
  }
  return {
    dir,
    backend,
    serverPid: server.pid ?? 0,
    args,
    caPem: pki.caCertPem,
    keyPem: pki.keyPem,
    certPem: pki.certPem,
    close() {
      server.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
