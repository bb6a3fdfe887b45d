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
  SignatureAlgorithm,
} from "@luci-machine-tokend/core/gen";
import { PRPC_BINARY_CONTENT_TYPE } from "@luci-machine-tokend/core/protocol-prpc";
import { quantile } from "./stats.js";

/** Throughput, latency and memory of the dev server under a keep-alive pRPC load. */
export interface LoadResult {
  mintsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  rssGrowthPercent: number;
  /** Server RSS (KiB) before the warm-up, after it, and at the end. */
  rssStartKiB: number;
  rssWarmKiB: number;
  rssEndKiB: number;
  mints: number;
  failures: number;
  /** Wall seconds of the measured calls, and the CPU seconds the server and this load generator used. */
  seconds: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
}

/**
 * Drives the dev server (another process, `serverPid`) with `clients` concurrent keep-alive pRPC
 * clients sending real signed requests: a warm-up, then `mints` measured calls. RSS growth
 * compares the server after the warm-up (V8 grows its heap over the first ~10,000 calls, then
 * stays flat) with the server at the end: a leak shows as growth over the measured calls.
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
  const rssStartKiB = serverRssKiB(opts.serverPid);
  await run(opts.warmup);
  const rssBefore = serverRssKiB(opts.serverPid);
  const latencies: number[] = [];
  const serverCpu = serverCpuSeconds(opts.serverPid);
  const clientCpu = process.cpuUsage();
  const started = performance.now();
  const failures = await run(opts.mints, latencies);
  const seconds = (performance.now() - started) / 1000;
  const clientUsed = process.cpuUsage(clientCpu);
  const rssAfter = serverRssKiB(opts.serverPid);
  agent.destroy();
  return {
    mintsPerSecond: (opts.mints - failures) / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    rssGrowthPercent: ((rssAfter - rssBefore) / rssBefore) * 100,
    rssStartKiB,
    rssWarmKiB: rssBefore,
    rssEndKiB: rssAfter,
    mints: opts.mints,
    failures,
    seconds,
    serverCpuSeconds: serverCpuSeconds(opts.serverPid) - serverCpu,
    clientCpuSeconds: (clientUsed.user + clientUsed.system) / 1e6,
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

/** User + system CPU seconds of a process so far (Linux clock ticks are 1/100 s). */
function serverCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
