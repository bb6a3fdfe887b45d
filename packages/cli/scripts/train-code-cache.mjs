// Writes dist/bundle/run.cjs.cache: the V8 code cache of the run bundle (src/code-cached-start.ts),
// made by one real refresh against a dev token server on loopback, so that it holds the functions
// a run calls (a cache made right after compiling holds the top level only: half the gain,
// BENCHMARKS.md round 3). V8 takes the cache only in the same Node build; any other Node ignores
// it and compiles as before. Run after scripts/bundle.mjs; `npm run build` does.
import { spawn } from "node:child_process";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestPki, startDevServer } from "@luci-machine-tokend/dev-server";

const bundleDir = fileURLToPath(new URL("../dist/bundle/", import.meta.url));
const cacheFile = join(bundleDir, "run.cjs.cache");
const work = mkdtempSync(join(tmpdir(), "tokend-code-cache-"));
const pki = await createTestPki({ fqdn: "train-bot.example.com" });
const server = await startDevServer({
  caCertificates: [pki.caCertPem],
  domains: [{ domain: "example.com", lifetimeMs: 3_600_000 }],
  grpcPort: false,
});
try {
  const file = (name, text, mode = 0o644) => {
    writeFileSync(join(work, name), text, { mode });
    return join(work, name);
  };
  const trained = join(work, "run.cjs.cache");
  // The bin's start, writing the cache as the run exits (the bin itself never writes one).
  const child = file(
    "train.cjs",
    `require(${JSON.stringify(join(bundleDir, "start.cjs"))}).startRunBundle({
  dir: ${JSON.stringify(bundleDir)},
  writeCacheTo: ${JSON.stringify(trained)},
});\n`,
  );
  const args = [
    ...["-backend", server.backend, "-cert-pem", file("cert.pem", pki.certPem)],
    ...["-pkey-pem", file("key.pem", pki.keyPem, 0o600), "-token-file", join(work, "token.json")],
    ...["-status-file", join(work, "status.json"), "-ts-mon-config-file", join(work, "none.json")],
  ];
  // Asynchronous: the dev server answers from this process meanwhile.
  const run = await spawnAsync(process.execPath, [child, ...args]);
  if (run.code !== 0) throw new Error(`the training run exited with ${run.code}:\n${run.stderr}`);
  rmSync(cacheFile, { force: true });
  renameSync(trained, cacheFile);
} finally {
  await server.close();
  rmSync(work, { recursive: true, force: true });
}

/** Runs a command to its end without blocking this process's event loop. */
function spawnAsync(command, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d) => {
      stderr += d;
    });
    p.once("error", reject);
    p.once("close", (code) => resolve({ code, stderr }));
  });
}
