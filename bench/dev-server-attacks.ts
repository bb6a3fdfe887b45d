import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTokenMinterClient, mintToken } from "@luci-machine-tokend/core";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { startDevServerProcess } from "../packages/cli/src/testing/dev-server-process.js";
import {
  floodHttp2Streams,
  largeUntrustedRequests,
  postPrpc,
} from "../packages/dev-server/src/testing/memory-attacks.js";
import { testSigner } from "../packages/dev-server/src/testing/signed-request.js";
import { quantile } from "./stats.js";
import { count, fmt, type Row } from "./table.js";

/** The RSS the dev server must stay under, whatever the attack (issue 20). */
const BOUND_MIB = 300;
const MB = 1_000_000;
const SECONDS = Number(process.env.BENCH_ATTACK_SECONDS ?? 30);
const CERTIFICATE_CALLS = Number(process.env.BENCH_ATTACK_CALLS ?? 1_100);

/** What a normal tokend saw while the server was under attack. */
interface NormalClient {
  mints: number;
  failures: number;
  maxAttempts: number;
  latenciesMs: number[];
}

/**
 * The attacks of issue 20 at full size, each against a fresh `luci-machine-tokend dev-server`
 * process (default limits), with a normal tokend minting throughout: 1,100 requests with 1 MB
 * untrusted certificates; 50 connections × 100 HTTP/2 streams with 1 MB bodies that never end;
 * and 200 × 100 streams that never send a body. Peak RSS is sampled every 50 ms (VmRSS).
 */
export async function attackRows(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "tokend-bench-attacks-"));
  try {
    const pki = await createTestPki({ fqdn: "bench-bot.example.com" });
    writeFileSync(join(dir, "ca.pem"), pki.caCertPem);
    const args = ["--ca-cert", join(dir, "ca.pem"), "--domain", "example.com=1h"];
    const rows: Row[] = [];

    const certs = await underAttack(args, pki, async (client) => {
      const attack = await largeUntrustedRequests(MB);
      for (let i = 0; i < CERTIFICATE_CALLS; i += 4) {
        await Promise.all(Array.from({ length: 4 }, () => postPrpc(client.backend, attack.next())));
        if (i % 100 === 0) await client.mint();
      }
      return `${count(CERTIFICATE_CALLS)} calls of ${fmt(attack.certificateBytes / MB, 2)} MB`;
    });
    rows.push(row(`${count(CERTIFICATE_CALLS)} requests with 1 MB untrusted certificates, each new`, certs));

    const streams = await underAttack(args, pki, (client) =>
      flood(client, { connections: 50, streamsPerConnection: 100, bodyBytes: MB }),
    );
    rows.push(row(`50 conns × 100 HTTP/2 streams, 1 MB bodies never ending, ${SECONDS} s`, streams));

    const idle = await underAttack(args, pki, (client) =>
      flood(client, { connections: 200, streamsPerConnection: 100, bodyBytes: 0 }),
    );
    rows.push(row(`200 conns × 100 HTTP/2 streams without a body, ${SECONDS} s`, idle));
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a flood for {@link SECONDS} while the normal client mints one token after another. */
async function flood(
  client: AttackTarget,
  shape: { connections: number; streamsPerConnection: number; bodyBytes: number },
): Promise<string> {
  const attack = floodHttp2Streams({ url: client.grpcUrl, ...shape });
  const end = performance.now() + SECONDS * 1000;
  try {
    while (performance.now() < end) await client.mint();
  } finally {
    attack.stop();
  }
  return `${count(attack.opened)} streams, ${count(attack.answered)} refused, ${fmt(attack.bytesSent / MB, 0)} MB sent`;
}

interface AttackTarget {
  backend: string;
  grpcUrl: string;
  /** One normal tokend call, timed and counted. */
  mint(): Promise<void>;
}

interface AttackResult {
  what: string;
  startMiB: number;
  peakMiB: number;
  seconds: number;
  normal: NormalClient;
}

/** Starts a dev server process, samples its RSS while `attack` runs, and stops it. */
async function underAttack(
  args: string[],
  pki: TestPki,
  attack: (target: AttackTarget) => Promise<string>,
): Promise<AttackResult> {
  const server = await startDevServerProcess(args);
  const normal: NormalClient = { mints: 0, failures: 0, maxAttempts: 0, latenciesMs: [] };
  const startMiB = server.rssMiB();
  let peakMiB = startMiB;
  const sampler = setInterval(() => {
    peakMiB = Math.max(peakMiB, server.rssMiB());
  }, 50);
  const started = performance.now();
  try {
    const what = await attack({
      backend: server.backend,
      grpcUrl: server.grpcUrl,
      async mint() {
        const t = performance.now();
        normal.mints++;
        try {
          const minted = await mintToken({
            client: createTokenMinterClient(server.backend),
            signer: testSigner(pki.leaf),
            timeoutMs: 30_000,
          });
          normal.maxAttempts = Math.max(normal.maxAttempts, minted.attempts);
        } catch {
          normal.failures++;
        }
        normal.latenciesMs.push(performance.now() - t);
      },
    });
    peakMiB = Math.max(peakMiB, server.rssMiB());
    return { what, startMiB, peakMiB, seconds: (performance.now() - started) / 1000, normal };
  } finally {
    clearInterval(sampler);
    await server.stop();
  }
}

function row(figure: string, r: AttackResult): Row {
  const n = r.normal;
  return {
    figure: `dev server under attack: ${figure}`,
    value:
      `peak RSS ${fmt(r.peakMiB, 0)} MiB (${fmt(r.startMiB, 0)} at start), ${r.what} in ${fmt(r.seconds, 0)} s; ` +
      `normal client: ${n.mints - n.failures}/${n.mints} tokens, at most ${n.maxAttempts} attempt(s), ` +
      `p50 ${fmt(quantile(n.latenciesMs, 0.5), 0)} ms, max ${fmt(Math.max(...n.latenciesMs), 0)} ms`,
    target: `< ${BOUND_MIB} MiB, every normal call served`,
    ok: r.peakMiB < BOUND_MIB && n.failures === 0 && n.mints > 0,
  };
}
