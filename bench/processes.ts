import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const PRELOAD = fileURLToPath(new URL("./rss-preload.cjs", import.meta.url));
/** Every measured process runs in the repository, where `@luci-machine-tokend/*` resolve. */
const CWD = fileURLToPath(new URL("..", import.meta.url));

/** Variables set (a string) or removed (undefined) in a measured process's environment. */
export type EnvChanges = Record<string, string | undefined>;

/** This process's environment with `changes` applied. */
export function childEnv(changes: EnvChanges = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...changes };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return env;
}

/** Wall time (ms) of one whole process run, start to exit. */
export function timeProcess(args: string[], env: EnvChanges = {}): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd: CWD,
    stdio: "ignore",
    env: childEnv(env),
  });
  const ms = performance.now() - started;
  if (r.status === null) throw new Error(`bench process was killed: node ${args.join(" ")}`);
  return ms;
}

/** Runs a command once and fails, with its stderr, unless it exits 0 (a bench must time working runs). */
export function mustSucceed(args: string[], env: EnvChanges = {}): void {
  const r = spawnSync(process.execPath, args, { cwd: CWD, encoding: "utf8", env: childEnv(env) });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${r.status}:\n${r.stderr}`);
}

/** Peak RSS (KiB) of one whole process run, read by the same preload for every command. */
export function peakRssKiB(args: string[], env: EnvChanges = {}): number {
  const file = join(tmpdir(), `bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    spawnSync(process.execPath, ["--require", PRELOAD, ...args], {
      cwd: CWD,
      stdio: "ignore",
      env: childEnv({ ...env, BENCH_RSS_FILE: file }),
    });
    return Number(readFileSync(file, "utf8").trim().split("\n").at(-1));
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Runs a candidate and bare `node -e 0` alternately (so machine noise hits both alike), after one
 * warm-up each, both with the same environment, and returns both series.
 */
export function interleaved(
  runs: number,
  measure: (args: string[], env?: EnvChanges) => number,
  candidate: string[],
  env: EnvChanges = {},
): { candidate: number[]; bare: number[] } {
  const bare = ["-e", "0"];
  measure(bare, env);
  measure(candidate, env);
  const out = { candidate: [] as number[], bare: [] as number[] };
  for (let i = 0; i < runs; i++) {
    out.bare.push(measure(bare, env));
    out.candidate.push(measure(candidate, env));
  }
  return out;
}
