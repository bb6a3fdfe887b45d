import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTokenFile } from "@luci-machine-tokend/core/internal";
import { expect } from "vitest";
import { GO_TOKEND } from "./go-tokend.js";
import { type CliResult, type RunCliOptions, runCli, runProgram } from "./run-cli.js";

/** The two implementations a differential scenario runs. */
export type Impl = "go" | "ts";
export const IMPLS: readonly Impl[] = ["go", "ts"];

/** What a scenario compares about one token file: its shape, never the token itself. */
export interface TokenFileObservation {
  /** Keys in file order. */
  keys: string[];
  /** JSON type of each value, in file order. */
  types: string[];
  /** The decoded `tokend_state`, or why it did not decode. */
  state: unknown;
  /** expiry − last_update and next_update − last_update, in seconds, to 10 s (one step apart is equal). */
  schedule?: { lifetime: number; nextUpdateIn: number };
}

/** What one implementation did in one scenario, in the terms both must agree on. */
export interface Observation {
  exitCode: number | null;
  stdout: "empty" | "text";
  stderr: "empty" | "text";
  /** Only for runs that end in a flag error or when a scenario asks (log lines differ by design). */
  firstStderrLine?: string;
  status:
    | "absent"
    | {
        /** Keys other than the three whose presence is compared on their own. */
        keys: string[];
        update_outcome?: unknown;
        update_reason?: unknown;
        failure_error: boolean;
        service_version: boolean;
        rpc_duration_us: boolean;
      };
  /** The primary token file and each copy, by file name. */
  tokens: Record<string, TokenFileObservation | "absent" | "unparsable">;
  /** Whether the server minted a token (or, for a raw server, was called) during the run. */
  serverCalled: boolean;
  /** Every file left in the implementation's directory. */
  files: string[];
}

/** A recorded run: the process result, the observation, and the token bytes by file name. */
export interface ImplRun {
  result: CliResult;
  observation: Observation;
  tokenBytes: Record<string, string | undefined>;
}

/**
 * A difference we keep on purpose: the values each implementation must show at a path, or
 * "follows" for a part that differs only as a consequence of a pinned difference (not compared).
 */
export type KeptDifference = { go: unknown; ts: unknown } | "follows";

/** Where a differential scenario runs: shared inputs, and one directory per implementation. */
export interface DiffWorkspace {
  root: string;
  keyPath: string;
  certPath: string;
  /** The directory of token, copies and status of `impl`. */
  dir(impl: Impl): string;
  /** Standard flags for `impl` against `backend`: key, cert, token, status, no ts-mon config. */
  args(impl: Impl, backend: string, ...extra: string[]): string[];
  /** Writes the machine key and certificate both implementations read. */
  setInputs(keyPem: string, certPem: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** Makes a workspace with the given key and certificate. */
export async function createDiffWorkspace(keyPem: string, certPem: string): Promise<DiffWorkspace> {
  const root = await mkdtemp(join(tmpdir(), "tokend-diff-"));
  const inputs = join(root, "inputs");
  await mkdir(inputs);
  for (const impl of IMPLS) await mkdir(join(root, impl));
  const keyPath = join(inputs, "key.pem");
  const certPath = join(inputs, "cert.pem");
  const ws: DiffWorkspace = {
    root,
    keyPath,
    certPath,
    dir: (impl) => join(root, impl),
    args: (impl, backend, ...extra) => [
      "-pkey-pem",
      keyPath,
      "-cert-pem",
      certPath,
      "-backend",
      backend,
      "-token-file",
      join(root, impl, "token.json"),
      "-status-file",
      join(root, impl, "status.json"),
      "-ts-mon-config-file",
      join(inputs, "no-ts-mon.json"),
      ...extra,
    ],
    async setInputs(key, cert) {
      await writeFile(keyPath, key, { mode: 0o600 });
      await writeFile(certPath, cert);
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  await ws.setInputs(keyPem, certPem);
  return ws;
}

/** Options of one implementation's run in a scenario. */
export interface ImplRunOptions extends RunCliOptions {
  /** Counts what the server saw (mints or calls); compared before and after the run. */
  serverCalls?: () => number;
  /** Record the first stderr line even if the run did not end in a flag error. */
  firstStderrLine?: boolean;
  /** Where the status file is, relative to the implementation's directory. Default `status.json`. */
  statusName?: string;
}

/** Runs one implementation with `args` and observes what it did in `dir`. */
export async function runImpl(
  impl: Impl,
  args: string[],
  dir: string,
  options: ImplRunOptions = {},
): Promise<ImplRun> {
  if (impl === "go" && GO_TOKEND === undefined) throw new Error("LUCI_GO_TOKEND is not set");
  const callsBefore = options.serverCalls?.() ?? 0;
  const env = {
    HTTPS_PROXY: undefined,
    HTTP_PROXY: undefined,
    https_proxy: undefined,
    http_proxy: undefined,
    ...options.env,
  };
  const result =
    impl === "go"
      ? await runProgram([GO_TOKEND as string], args, { ...options, env })
      : await runCli(args, { ...options, env });
  const callsAfter = options.serverCalls?.() ?? 0;
  const files = (await readdir(dir).catch(() => [] as string[])).sort();
  const tokens: Observation["tokens"] = {};
  const tokenBytes: Record<string, string | undefined> = {};
  for (const name of files.filter((f) => f !== "status.json" && f.endsWith(".json"))) {
    const bytes = await readFile(join(dir, name), "utf8").catch(() => undefined);
    tokenBytes[name] = bytes;
    tokens[name] = bytes === undefined ? "absent" : observeTokenFile(bytes);
  }
  const stderrLines = result.stderr.split("\n");
  const observation: Observation = {
    exitCode: result.code,
    stdout: result.stdout === "" ? "empty" : "text",
    stderr: result.stderr === "" ? "empty" : "text",
    status: await observeStatus(join(dir, options.statusName ?? "status.json")),
    tokens,
    serverCalled: callsAfter > callsBefore,
    files,
  };
  if (result.code === 2 || options.firstStderrLine) observation.firstStderrLine = stderrLines[0];
  return { result, observation, tokenBytes };
}

function observeTokenFile(text: string): TokenFileObservation | "unparsable" {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch {
    return "unparsable";
  }
  const parsed = parseTokenFile(new TextEncoder().encode(text));
  const observation: TokenFileObservation = {
    keys: Object.keys(json),
    types: Object.values(json).map((v) => typeof v),
    state: parsed.error !== undefined ? parsed.error : (parsed.state ?? parsed.stateError),
  };
  const [expiry, last, next] = [json.expiry, json.last_update, json.next_update].map(Number);
  if (expiry !== undefined && last !== undefined && next !== undefined) {
    // To 10 s: a run whose clock ticks over a second after the server stamped the token writes
    // 3599/1799 instead of 3600/1800, in either implementation.
    const tens = (seconds: number) => Math.round(seconds / 10) * 10;
    observation.schedule = { lifetime: tens(expiry - last), nextUpdateIn: tens(next - last) };
  }
  return observation;
}

async function observeStatus(path: string): Promise<Observation["status"]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return "absent";
  }
  const json = JSON.parse(text) as Record<string, unknown>;
  const own = ["failure_error", "service_version", "rpc_duration_us"];
  return {
    keys: Object.keys(json).filter((k) => !own.includes(k)),
    update_outcome: json.update_outcome,
    update_reason: json.update_reason,
    failure_error: "failure_error" in json,
    service_version: "service_version" in json,
    rpc_duration_us: "rpc_duration_us" in json,
  };
}

/** Both implementations' runs of one scenario. */
export interface DiffResult {
  go: ImplRun;
  ts: ImplRun;
}

/**
 * Runs Go, then ours, with the flags `args(impl)` gives, each observed in its own directory.
 * `before(impl)` prepares the server or the files for each run (faults are per call), `after(impl)`
 * reads what a server saw of it; `envFor(impl)` adds to `env` (e.g. a HOME of its own).
 */
export async function runBoth(
  ws: DiffWorkspace,
  args: (impl: Impl) => string[],
  options: ImplRunOptions & {
    before?: (impl: Impl) => void | Promise<void>;
    after?: (impl: Impl) => void;
    envFor?: (impl: Impl) => Record<string, string | undefined>;
  } = {},
): Promise<DiffResult> {
  const runs = {} as DiffResult;
  for (const impl of IMPLS) {
    await options.before?.(impl);
    const env = { ...options.env, ...options.envFor?.(impl) };
    runs[impl] = await runImpl(impl, args(impl), ws.dir(impl), { ...options, env });
    options.after?.(impl);
  }
  return runs;
}

/**
 * Asserts that both implementations did the same, apart from the differences we keep on purpose:
 * each kept path (`/`-separated, e.g. `status/update_outcome`) must show exactly the pinned value
 * on each side (so a kept difference that goes away, on either side, fails too). When both minted
 * the very same token, the files must be equal byte for byte.
 */
export function expectSame(result: DiffResult, kept: Record<string, KeptDifference> = {}): void {
  const go = structuredClone(result.go.observation) as unknown as Record<string, unknown>;
  const ts = structuredClone(result.ts.observation) as unknown as Record<string, unknown>;
  for (const [path, pinned] of Object.entries(kept)) {
    if (pinned !== "follows") {
      expect(getPath(go, path), `Go's ${path}`).toEqual(pinned.go);
      expect(getPath(ts, path), `our ${path}`).toEqual(pinned.ts);
    }
    setPath(go, path, "<kept difference>");
    setPath(ts, path, "<kept difference>");
  }
  forgiveClockTicks(go, ts);
  expect(ts, describeRuns(result)).toEqual(go);
  // Only when both wrote in this run (or neither did): a token minted in the same second as an
  // earlier one is the same token, even where one side kept its older file (a kept difference).
  if (result.go.observation.serverCalled !== result.ts.observation.serverCalled) return;
  for (const [name, goBytes] of Object.entries(result.go.tokenBytes)) {
    const tsBytes = result.ts.tokenBytes[name];
    if (goBytes !== undefined && tsBytes !== undefined && sameValues(goBytes, tsBytes)) {
      expect(tsBytes, `bytes of ${name}`).toBe(goBytes);
    }
  }
}

/**
 * The schedule is rounded to 10 s, yet the two runs start a second or so apart: a value near a
 * rounding edge (x5 s) lands one step apart on the two sides. One step is no difference.
 */
function forgiveClockTicks(go: Record<string, unknown>, ts: Record<string, unknown>): void {
  const goTokens = go.tokens as Observation["tokens"];
  const tsTokens = ts.tokens as Observation["tokens"];
  for (const [name, goToken] of Object.entries(goTokens ?? {})) {
    const tsToken = tsTokens?.[name];
    if (typeof goToken !== "object" || typeof tsToken !== "object") continue;
    if (!goToken.schedule || !tsToken.schedule) continue;
    for (const key of ["lifetime", "nextUpdateIn"] as const) {
      if (Math.abs(goToken.schedule[key] - tsToken.schedule[key]) <= 10) {
        tsToken.schedule[key] = goToken.schedule[key];
      }
    }
  }
}

/** True when two token files hold the same token and times (so both minted in the same second). */
function sameValues(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

function describeRuns(result: DiffResult): string {
  const show = (impl: Impl) => {
    const r = result[impl].result;
    return `--- ${impl} (exit ${r.code}) stderr:\n${r.stderr.slice(0, 3000)}`;
  };
  const observed = (impl: Impl) => `--- ${impl} observed: ${JSON.stringify(result[impl].observation)}`;
  return `ours differs from Go\n${observed("go")}\n${observed("ts")}\n${show("go")}\n${show("ts")}`;
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  return path.split("/").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split("/");
  const last = keys.pop() as string;
  const parent = keys.reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, obj);
  if (parent && typeof parent === "object") parent[last] = value;
}
