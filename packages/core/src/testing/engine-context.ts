import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResolvedTokenUpdate } from "../engine/token-update-options.js";
import { createFakeClock, type FakeClock } from "./fake-clock.js";
import { createFakeMinter, type FakeMinter, tokenReply } from "./fake-minter.js";

/** Everything a test of one run touches: files in a temp dir, a fake clock, a scripted minter, the log. */
export interface EngineContext {
  dir: string;
  keyPath: string;
  certPath: string;
  tokenPath: string;
  path(name: string): string;
  clock: FakeClock;
  /** Every line logged, as `<level>: <message>`. */
  logs: string[];
  /** Answers the RPCs; by default `token-<n>` living one hour. Replace it to script other answers. */
  minter: FakeMinter;
  /** A run on the token file with the key and certificate files, on the fake clock (durations too), without jitter. */
  settings(extra?: Partial<ResolvedTokenUpdate>): ResolvedTokenUpdate;
  cleanup(): Promise<void>;
}

/** Makes an {@link EngineContext}; pass the PEM of a test PKI made once per file (RSA keys are slow to make). */
export async function createEngineContext(
  pki: { keyPem: string; certPem: string },
  start: Date,
): Promise<EngineContext> {
  const dir = await mkdtemp(join(tmpdir(), "engine-test-"));
  const path = (name: string) => join(dir, name);
  await writeFile(path("key.pem"), pki.keyPem, { mode: 0o600 });
  await writeFile(path("cert.pem"), pki.certPem);
  const clock = createFakeClock(start);
  const logs: string[] = [];
  const context: EngineContext = {
    dir,
    keyPath: path("key.pem"),
    certPath: path("cert.pem"),
    tokenPath: path("token.json"),
    path,
    clock,
    logs,
    minter: createFakeMinter((_r, n) =>
      tokenReply(`token-${n}`, new Date(clock.now().getTime() + 3_600_000)),
    ),
    settings: (extra = {}) => ({
      backend: "127.0.0.1:1",
      identity: { cert: { path: path("cert.pem") }, key: { path: path("key.pem") } },
      tokenFile: path("token.json"),
      now: clock.now,
      monotonic: () => clock.now().getTime(),
      sleep: clock.sleep,
      jitter: false,
      logger: { log: (level, m) => logs.push(`${level}: ${m}`) },
      client: () => context.minter.client,
      ...extra,
    }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  return context;
}
