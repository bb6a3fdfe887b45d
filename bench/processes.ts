import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const PRELOAD = fileURLToPath(new URL("./rss-preload.cjs", import.meta.url));
/** Every measured process runs in the repository, where `@luci-machine-tokend/*` resolve. */
const CWD = fileURLToPath(new URL("..", import.meta.url));

/** Wall time (ms) of one whole process run, start to exit. */
export function timeProcess(args: string[], env: Record<string, string> = {}): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd: CWD,
    stdio: "ignore",
    env: { ...process.env, ...env },
  });
  const ms = performance.now() - started;
  if (r.status === null) throw new Error(`bench process was killed: node ${args.join(" ")}`);
  return ms;
}

/** Peak RSS (KiB) of one whole process run, read by the same preload for every command. */
export function peakRssKiB(args: string[]): number {
  const file = join(tmpdir(), `bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    spawnSync(process.execPath, ["--require", PRELOAD, ...args], {
      cwd: CWD,
      stdio: "ignore",
      env: { ...process.env, BENCH_RSS_FILE: file },
    });
    return Number(readFileSync(file, "utf8").trim().split("\n").at(-1));
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Runs a candidate and bare `node -e 0` alternately (so machine noise hits both alike), after one
 * warm-up each, and returns both series.
 */
export function interleaved(
  runs: number,
  measure: (args: string[]) => number,
  candidate: string[],
): { candidate: number[]; bare: number[] } {
  const bare = ["-e", "0"];
  measure(bare);
  measure(candidate);
  const out = { candidate: [] as number[], bare: [] as number[] };
  for (let i = 0; i < runs; i++) {
    out.bare.push(measure(bare));
    out.candidate.push(measure(candidate));
  }
  return out;
}
