import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchFixture } from "./fixture.js";
import { childEnv, type EnvChanges } from "./processes.js";
import { median } from "./stats.js";
import { fmt, type Row } from "./table.js";

/** A whole command line: the program and its arguments. */
export type Command = [string, ...string[]];

/** Wall time (ms) of one run of any program. */
export function wallMs([program, ...args]: Command, env?: EnvChanges): number {
  const started = performance.now();
  const r = spawnSync(program, args, { stdio: "ignore", env: childEnv(env) });
  if (r.status === null) throw new Error(`bench process was killed: ${program}`);
  return performance.now() - started;
}

/**
 * Peak RSS (KiB) of one run, from GNU time's wait4 rusage: the one method that works alike for a
 * Go binary and for Node (the preload of the bare-Node ratios only works inside Node).
 */
export function peakKiB([program, ...args]: Command, env?: EnvChanges): number {
  const file = join(tmpdir(), `bench-peer-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    spawnSync("/usr/bin/time", ["-f", "%M", "-o", file, program, ...args], {
      stdio: "ignore",
      env: childEnv(env),
    });
    return Number(readFileSync(file, "utf8").trim().split("\n").at(-1));
  } finally {
    rmSync(file, { force: true });
  }
}

/** Medians of `measure` over the commands (one environment for all), run alternately after one warm-up each. */
export function alternate(
  runs: number,
  measure: (c: Command, env?: EnvChanges) => number,
  commands: Command[],
  env?: EnvChanges,
): number[] {
  for (const c of commands) measure(c, env);
  const series = commands.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, c] of commands.entries()) series[k]?.push(measure(c, env));
  }
  return series.map(median);
}

/**
 * Our CLI beside the upstream Go binary (LUCI_GO_TOKEND) and bare Node, on the same token file,
 * key and server: `-h`, the token-is-good run and a refresh, wall time and peak RSS. Reported
 * only: the targets stay relative to bare Node (a Go binary needs no runtime to start).
 */
export function peerRows(fx: BenchFixture, runs: number): Row[] {
  const go = process.env.LUCI_GO_TOKEND;
  if (!go) {
    return [
      {
        figure: "ours / Go luci_machine_tokend",
        value: "not measured: LUCI_GO_TOKEND is not set",
        target: "reported",
      },
    ];
  }
  const rows: Row[] = [];
  const cases: Array<[string, string[]]> = [
    ["-h", ["-h"]],
    ["token-is-good run", fx.args().slice(1)],
    ["full refresh", fx.args("-force-refresh").slice(1)],
  ];
  const bare: Command = [process.execPath, "-e", "0"];
  for (const [name, flags] of cases) {
    const commands: Command[] = [[process.execPath, fx.args()[0] as string, ...flags], [go, ...flags], bare];
    const [oursMs = 0, goMs = 0, bareMs = 0] = alternate(runs, wallMs, commands);
    const [oursKiB = 0, goKiB = 0, bareKiB = 0] = alternate(runs, peakKiB, commands);
    rows.push(
      {
        figure: `${name}: wall, ours / Go`,
        value: `${fmt(oursMs / goMs, 1)}× (ours ${fmt(oursMs, 1)}, Go ${fmt(goMs, 1)}, bare node ${fmt(bareMs, 1)} ms)`,
        target: "reported",
      },
      {
        figure: `${name}: peak RSS, ours / Go`,
        value: `${fmt(oursKiB / goKiB, 1)}× (ours ${fmt(oursKiB / 1024, 1)}, Go ${fmt(goKiB / 1024, 1)}, bare node ${fmt(bareKiB / 1024, 1)} MiB)`,
        target: "reported",
      },
    );
  }
  return rows;
}
