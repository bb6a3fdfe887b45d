import { createPrivateKey, sign, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  MachineTokenRequestSchema,
  MachineTokenType,
  MintMachineTokenRequestSchema,
  MintMachineTokenResponseSchema,
  PRPC_BINARY_CONTENT_TYPE,
  SignatureAlgorithm,
} from "@luci-machine-tokend/core";
import { quantile } from "./stats.js";

/** Throughput, latency and memory of the dev server under a keep-alive pRPC load. */
export interface LoadResult {
  mintsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  rssGrowthPercent: number;
  mints: number;
  failures: number;
}

/**
 * Drives the dev server (another process, `serverPid`) with `clients` concurrent keep-alive pRPC
 * clients sending real signed requests: a warm-up, then `mints` measured calls. RSS growth
 * compares the server after the warm-up with the server at the end.
 */
export async function loadDevServer(opts: {
  backend: string;
  serverPid: number;
  keyPem: string;
  certPem: string;
  clients: number;
  warmup: number;
  mints: number;
}): Promise<LoadResult> {
  const bodies = signedRequests(opts.keyPem, opts.certPem, 64);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.clients });
  const [host, port] = opts.backend.split(":");
  const call = (body: Uint8Array) =>
    new Promise<boolean>((resolve) => {
      const req = request(
        {
          host,
          port: Number(port),
          method: "POST",
          path: "/prpc/tokenserver.minter.TokenMinter/MintMachineToken",
          agent,
          headers: {
            "Content-Type": PRPC_BINARY_CONTENT_TYPE,
            Accept: PRPC_BINARY_CONTENT_TYPE,
            "Content-Length": body.length,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            if (res.headers["x-prpc-grpc-code"] !== "0") return resolve(false);
            const answer = fromBinary(MintMachineTokenResponseSchema, Buffer.concat(chunks));
            resolve(answer.errorCode === 0 && answer.tokenResponse?.tokenType.case === "luciMachineToken");
          });
        },
      );
      req.on("error", () => resolve(false));
      req.end(body);
    });
  const run = async (total: number, latencies?: number[]) => {
    let next = 0;
    let failures = 0;
    await Promise.all(
      Array.from({ length: opts.clients }, async () => {
        while (next < total) {
          const body = bodies[next++ % bodies.length] ?? new Uint8Array();
          const started = performance.now();
          if (!(await call(body))) failures++;
          latencies?.push(performance.now() - started);
        }
      }),
    );
    return failures;
  };
  await run(opts.warmup);
  const rssBefore = serverRssKiB(opts.serverPid);
  const latencies: number[] = [];
  const started = performance.now();
  const failures = await run(opts.mints, latencies);
  const seconds = (performance.now() - started) / 1000;
  const rssAfter = serverRssKiB(opts.serverPid);
  agent.destroy();
  return {
    mintsPerSecond: (opts.mints - failures) / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    rssGrowthPercent: ((rssAfter - rssBefore) / rssBefore) * 100,
    mints: opts.mints,
    failures,
  };
}

/** Request bodies signed now (the server accepts issued_at within ±10 minutes). */
function signedRequests(keyPem: string, certPem: string, count: number): Uint8Array[] {
  const key = createPrivateKey(keyPem);
  const certificate = new Uint8Array(new X509Certificate(certPem).raw);
  return Array.from({ length: count }, (_, i) => {
    const inner = toBinary(
      MachineTokenRequestSchema,
      create(MachineTokenRequestSchema, {
        certificate,
        signatureAlgorithm: SignatureAlgorithm.SHA256_RSA_ALGO,
        issuedAt: timestampFromDate(new Date(Date.now() + i)),
        tokenType: MachineTokenType.LUCI_MACHINE_TOKEN,
      }),
    );
    return toBinary(
      MintMachineTokenRequestSchema,
      create(MintMachineTokenRequestSchema, {
        serializedTokenRequest: inner,
        signature: sign("sha256", inner, key),
      }),
    );
  });
}

function serverRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}
