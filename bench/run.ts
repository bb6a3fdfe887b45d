/**
 * `npm run bench`: every performance target of the project, measured in one run on this machine,
 * printed as one table. Exits 1 when a target is missed. See BENCHMARKS.md.
 */
import { seededRandom, simulateFleet } from "../packages/cli/src/fleet/fleet-sim.js";
import { loadDevServer } from "./dev-server-load.js";
import { BIN, createBenchFixture } from "./fixture.js";
import { interleaved, peakRssKiB, timeProcess } from "./processes.js";
import { median } from "./stats.js";

interface Row {
  figure: string;
  value: string;
  target: string;
  ok: boolean;
}

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const rows: Row[] = [];
const ratio = (a: number[], b: number[]) => median(a) / median(b);
const fmt = (n: number, digits = 2) => n.toFixed(digits);

const fx = await createBenchFixture();
try {
  // 1. The token-is-good run: what every machine does every ten minutes.
  const good = fx.args();
  const goodWall = interleaved(RUNS, (a) => timeProcess(a), good);
  const goodRss = interleaved(RUNS, (a) => peakRssKiB(a), good);
  const wall1 = ratio(goodWall.candidate, goodWall.bare);
  const rss1 = ratio(goodRss.candidate, goodRss.bare);
  rows.push({
    figure: "token-is-good run: wall / bare node",
    value: `${fmt(wall1)}× (${fmt(median(goodWall.candidate), 1)} vs ${fmt(median(goodWall.bare), 1)} ms)`,
    target: "≤ 1.5×",
    ok: wall1 <= 1.5,
  });
  rows.push({
    figure: "token-is-good run: peak RSS / bare node",
    value: `${fmt(rss1)}× (${fmt(median(goodRss.candidate) / 1024, 1)} vs ${fmt(median(goodRss.bare) / 1024, 1)} MiB)`,
    target: "≤ 1.5×",
    ok: rss1 <= 1.5,
  });

  // 2. A full refresh against the dev server in another process.
  const refresh = interleaved(RUNS, (a) => timeProcess(a), fx.args("-force-refresh"));
  const wall2 = ratio(refresh.candidate, refresh.bare);
  rows.push({
    figure: "full refresh (pRPC to the dev server): wall / bare node",
    value: `${fmt(wall2)}× (${fmt(median(refresh.candidate), 1)} vs ${fmt(median(refresh.bare), 1)} ms)`,
    target: "≤ 2.5×",
    ok: wall2 <= 2.5,
  });

  // 3. -h.
  const help = interleaved(RUNS, (a) => timeProcess(a), [BIN, "-h"]);
  const wall3 = ratio(help.candidate, help.bare);
  rows.push({
    figure: "-h: wall / bare node",
    value: `${fmt(wall3)}× (${fmt(median(help.candidate), 1)} vs ${fmt(median(help.bare), 1)} ms)`,
    target: "≤ 1.5×",
    ok: wall3 <= 1.5,
  });

  // 4. The dev server under load.
  const load = await loadDevServer({
    backend: fx.backend,
    serverPid: fx.serverPid,
    keyPem: fx.keyPem,
    certPem: fx.certPem,
    clients: 64,
    warmup: Number(process.env.BENCH_WARMUP ?? 5_000),
    mints: Number(process.env.BENCH_MINTS ?? 100_000),
  });
  rows.push({
    figure: "dev server: mints/s (64 keep-alive pRPC clients)",
    value: `${fmt(load.mintsPerSecond, 0)}/s (${load.failures} failed)`,
    target: "≥ 2,000/s",
    ok: load.mintsPerSecond >= 2000 && load.failures === 0,
  });
  rows.push({
    figure: "dev server: latency p50 / p99",
    value: `${fmt(load.p50Ms, 1)} / ${fmt(load.p99Ms, 1)} ms`,
    target: "reported",
    ok: true,
  });
  rows.push({
    figure: `dev server: RSS growth over ${load.mints.toLocaleString("en-US")} mints`,
    value: `${fmt(load.rssGrowthPercent, 1)}%`,
    target: "< 10%",
    ok: load.rssGrowthPercent < 10,
  });
} finally {
  fx.close();
}

// 5. The fleet simulation: 10,000 machines, one cron minute, a 5-minute outage.
const scenario = {
  machines: 10_000,
  cronMs: 600_000,
  outageStartMs: 3_000_000,
  outageMs: 300_000,
  durationMs: 3 * 3_600_000,
  tokenLifetimeMs: 3_600_000,
  timeoutMs: 60_000,
  startupMs: 50,
  rpcMs: 20,
};
const go = simulateFleet({ ...scenario, jitter: false, splayMs: 0, random: seededRandom(42) });
const jitterOnly = simulateFleet({ ...scenario, jitter: true, splayMs: 0, random: seededRandom(42) });
const ours = simulateFleet({ ...scenario, jitter: true, splayMs: 60_000, random: seededRandom(42) });
rows.push({
  figure: "fleet: peak calls/s at recovery, Go's schedule",
  value: go.recoveryPeakPerSecond.toLocaleString("en-US"),
  target: "reported",
  ok: true,
});
rows.push({
  figure: "fleet: peak calls/s at recovery, jitter only",
  value: jitterOnly.recoveryPeakPerSecond.toLocaleString("en-US"),
  target: "reported",
  ok: true,
});
rows.push({
  figure: "fleet: peak calls/s at recovery, jitter + 60 s splay",
  value: `${ours.recoveryPeakPerSecond.toLocaleString("en-US")} (1/${fmt(go.recoveryPeakPerSecond / ours.recoveryPeakPerSecond, 0)} of Go's)`,
  target: "≤ 1/5 of Go's",
  ok: ours.recoveryPeakPerSecond * 5 <= go.recoveryPeakPerSecond,
});
rows.push({
  figure: "fleet: total calls, Go vs ours",
  value: `${go.totalRpcs.toLocaleString("en-US")} vs ${ours.totalRpcs.toLocaleString("en-US")}`,
  target: "ours ≤ Go's",
  ok: ours.totalRpcs <= go.totalRpcs,
});

const widths = [
  Math.max(...rows.map((r) => r.figure.length)),
  Math.max(...rows.map((r) => r.value.length)),
  Math.max(...rows.map((r) => r.target.length)),
];
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
console.log(
  `\nluci-machine-tokend benchmarks (node ${process.version}, ${(await import("node:os")).cpus().length} cores, ${RUNS} runs per median)\n`,
);
console.log(line(["figure", "measured", "target"]), " ok");
for (const r of rows) console.log(line([r.figure, r.value, r.target]), r.ok ? " yes" : " NO");
const missed = rows.filter((r) => !r.ok).length;
console.log(missed === 0 ? "\nevery target met" : `\n${missed} target(s) missed`);
process.exitCode = missed === 0 ? 0 : 1;
