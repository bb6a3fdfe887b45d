/**
 * `npm run bench`: every performance target of the project, measured in one run on this machine,
 * printed as one table. Exits 1 when a target is missed. See BENCHMARKS.md.
 */
import { availableParallelism } from "node:os";
import { attackRows } from "./dev-server-attacks.js";
import { loadDevServer } from "./dev-server-load.js";
import { type BenchFixture, createBenchFixture } from "./fixture.js";
import { fleetRows } from "./fleet.js";
import { httpsRefreshRows, libraryHttpsRows, startHttpsBackend } from "./https.js";
import { importCostRows } from "./import-cost.js";
import { peerRows } from "./peer.js";
import { rsaBound } from "./rsa-bound.js";
import { seaRows } from "./sea.js";
import { startupRows } from "./startup.js";
import { count, fmt, printTable, type Row } from "./table.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** BENCH_ONLY=https,startup runs only those parts (startup, import, https, peer, sea, dev-server, attacks, fleet). */
const only = process.env.BENCH_ONLY?.split(",");
const part = (name: string) => only === undefined || only.includes(name);
const rows: Row[] = [];
const mib = (kib: number) => fmt(kib / 1024, 0);

const fx = await createBenchFixture();
const https = await startHttpsBackend(fx);
try {
  if (part("startup")) rows.push(...startupRows(fx, RUNS));
  if (part("import")) rows.push(...importCostRows(RUNS));
  if (part("https")) rows.push(...libraryHttpsRows(fx, https, RUNS), ...httpsRefreshRows(fx, https, RUNS));
  if (part("peer")) rows.push(...peerRows(fx, RUNS));
  if (part("sea")) rows.push(...seaRows(fx, RUNS));
  if (part("dev-server")) rows.push(...(await devServerRows(fx)));
} finally {
  https.close();
  fx.close();
}

// 5. The dev server's memory under attack, each attack against a fresh server process.
if (part("attacks")) rows.push(...(await attackRows()));

// 6. The fleet simulation.
if (part("fleet")) rows.push(...(await fleetRows()));

const missed = printTable(
  `luci-machine-tokend benchmarks (node ${process.version}, ${availableParallelism()} cores, ${RUNS} runs per median)`,
  rows,
);
process.exitCode = missed === 0 ? 0 : 1;

/** 4. The dev server in its own process under a keep-alive pRPC load. */
async function devServerRows(fx: BenchFixture): Promise<Row[]> {
  const bound = rsaBound(fx.keyPem);
  const load = await loadDevServer({
    backend: fx.backend,
    serverPid: fx.serverPid,
    keyPem: fx.keyPem,
    certPem: fx.certPem,
    clients: 64,
    warmup: Number(process.env.BENCH_WARMUP ?? 20_000),
    mints: Number(process.env.BENCH_MINTS ?? 100_000),
  });
  return [
    {
      figure: "dev server: mints/s (64 keep-alive pRPC clients)",
      value: `${count(load.mintsPerSecond)}/s (${load.failures} failed)`,
      target: "≥ 2,000/s",
      ok: load.mintsPerSecond >= 2000 && load.failures === 0,
    },
    {
      figure: "dev server: CPU used per wall second (2 cores in all)",
      value: `server ${fmt(load.serverCpuSeconds / load.seconds)}, load generator ${fmt(load.clientCpuSeconds / load.seconds)}`,
      target: "reported",
    },
    {
      figure: "dev server: CPU bound (cores ÷ (1 RSA sign + 2 verifies))",
      value: `${count(bound.mintsPerSecond)}/s (sign ${fmt(bound.signMs)} ms, verify ${fmt(bound.verifyMs, 3)} ms)`,
      target: "reported",
    },
    {
      figure: "dev server: latency p50 / p99",
      value: `${fmt(load.p50Ms, 1)} / ${fmt(load.p99Ms, 1)} ms`,
      target: "reported",
    },
    {
      figure: `dev server: RSS growth over ${count(load.mints)} mints`,
      value: `${fmt(load.rssGrowthPercent, 1)}% (${mib(load.rssWarmKiB)} → ${mib(load.rssEndKiB)} MiB; ${mib(load.rssStartKiB)} before warm-up)`,
      target: "< 10%",
      ok: load.rssGrowthPercent < 10,
    },
  ];
}
