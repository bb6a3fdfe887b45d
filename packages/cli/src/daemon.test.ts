import { readFile } from "node:fs/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger, Sleep } from "@luci-machine-tokend/core";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createFakeClock, type FakeClock } from "../../core/src/testing/fake-clock.js";
import { createFakeMinter, type FakeReply, tokenReply } from "../../core/src/testing/fake-minter.js";
import { createRetryBackoff, nextRefreshAt, runDaemon } from "./daemon.js";
import type { ReportOutputDeps } from "./report-outputs.js";
import { createTokendFixture, type TokendFixture } from "./testing/tokend-fixture.js";
import { comparableTsMonText } from "./testing/ts-mon-text.js";

const START = new Date(1700000000_000);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let pki: TestPki;
let fx: TokendFixture;
let clock: FakeClock;
let lines: string[];

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com", now: START });
});
beforeEach(async () => {
  fx = await createTokendFixture(pki);
  clock = createFakeClock(START);
  lines = [];
});
afterEach(() => fx.cleanup());

/** Runs the daemon until `stopAfter` mint requests were made; returns the requests' times. */
async function daemon(
  reply: (n: number) => FakeReply,
  stopAfter: number,
  extra: {
    sleep?: Sleep;
    onHangup?: (l: () => void) => () => void;
    args?: string[];
    onListening?: (a: string) => void;
    outputs?: ReportOutputDeps;
  } = {},
) {
  const controller = new AbortController();
  const times: Date[] = [];
  const minter = createFakeMinter((_req, n) => {
    times.push(clock.now());
    if (n >= stopAfter) controller.abort();
    return reply(n);
  });
  const logger: Logger = { log: (level, m) => lines.push(`${level}: ${m}`) };
  const code = await runDaemon(
    fx.options("127.0.0.1:1", "-daemon", "-timeout", "10s", ...(extra.args ?? [])),
    {
      now: clock.now,
      sleep: extra.sleep ?? clock.sleep,
      random: () => 0,
      jitter: false,
      logger,
      signal: controller.signal,
      createClient: () => minter.client,
      onHangup: extra.onHangup,
      onListening: extra.onListening,
      outputs: extra.outputs,
    },
  );
  return { code, times, minter };
}

describe("daemon mode", () => {
  it("refreshes just after each next_update and exits 0 when stopped", async () => {
    const { code, times } = await daemon(
      (n) => tokenReply(`token-${n}`, new Date(clock.now().getTime() + HOUR)),
      3,
    );
    expect(code).toBe(0);
    const gaps = times.slice(1).map((t, i) => t.getTime() - (times[i]?.getTime() ?? 0));
    // next_update is 30 min after a mint; the daemon wakes 1 s after it (no jitter with random 0).
    expect(gaps).toEqual([HOUR / 2 + 1000, HOUR / 2 + 1000]);
    // It slept in steps of at most 15 s, so a suspended machine notices the time soon after waking.
    expect(Math.max(...clock.delays)).toBeLessThanOrEqual(15_000);
    expect(lines).toContain("info: Stopping");
  });

  it("pushes the ts-mon metrics after each run", async () => {
    const metrics = fx.path("metrics.txt");
    await daemon((n) => tokenReply(`token-${n}`, new Date(clock.now().getTime() + HOUR)), 2, {
      outputs: { tsMon: { kind: "file", path: metrics, labels: [] }, writeRaw: () => {} },
    });
    const payloads = comparableTsMonText(await readFile(metrics, "utf8"));
    expect(payloads).toHaveLength(2);
    for (const payload of payloads) expect(payload).toContain('string_value: "UPDATE_SUCCESS"');
  });

  it("retries a failed refresh with backoff: 30 s, 1 min, 2 min (× 0.5–1.5 jitter)", async () => {
    const down = new ConnectError("down", Code.Unavailable);
    await daemon(() => down, 40);
    // Each failed run spends its whole -timeout (10 s) retrying, then waits the backoff; random() = 0
    // makes the jitter factor 0.5, so the backoff after n failures is 15 s × 2^(n−1).
    const targets = lines
      .filter((l) => l.startsWith("info: Next run at "))
      .map((l) => Date.parse(l.slice(18)));
    const gaps = targets.slice(1, 4).map((t, i) => t - (targets[i] ?? 0));
    // targets[k] − targets[k−1] = the next run (10 s) + its backoff (30 s, 60 s, 120 s after 2, 3, 4 failures).
    expect(gaps).toEqual([40_000, 70_000, 130_000]);
    const backoff = createRetryBackoff(() => 0.5);
    const delays = Array.from({ length: 7 }, () => backoff.next());
    expect(delays).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
    const high = createRetryBackoff(() => 0.999);
    expect(Math.max(...Array.from({ length: 10 }, () => high.next()))).toBe(600_000);
  });

  it("refreshes at once on SIGHUP, as -force-refresh", async () => {
    let hangup: (() => void) | undefined;
    let sleepsBeforeHangup = 3;
    const sleep: Sleep = async (ms, signal) => {
      if (--sleepsBeforeHangup === 0) {
        hangup?.();
        if (signal?.aborted) throw signal.reason;
      }
      await clock.sleep(ms, signal);
    };
    const { times } = await daemon(
      (n) => tokenReply(`token-${n}`, new Date(clock.now().getTime() + HOUR)),
      2,
      {
        sleep,
        onHangup: (l) => {
          hangup = l;
          return () => {
            hangup = undefined;
          };
        },
      },
    );
    const gap = (times[1]?.getTime() ?? 0) - (times[0]?.getTime() ?? 0);
    expect(gap).toBeLessThan(60_000);
    expect(lines).toContain("info: SIGHUP: refreshing the token now");
    expect(lines).toContain("info: Updating the token (reason: FORCE_REFRESH)");
    expect(hangup).toBeUndefined(); // unsubscribed on exit
  });

  it("a SIGHUP that arrives during a run refreshes right after it, not at the next_update", async () => {
    let hangup: (() => void) | undefined;
    const controller = new AbortController();
    const times: Date[] = [];
    const minter = createFakeMinter((_req, n) => {
      times.push(clock.now());
      if (n === 1) hangup?.(); // the signal lands while the first call is in flight
      if (n >= 2) controller.abort();
      return tokenReply(`token-${n}`, new Date(clock.now().getTime() + HOUR));
    });
    await runDaemon(fx.options("127.0.0.1:1", "-daemon", "-timeout", "10s"), {
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0,
      jitter: false,
      logger: { log: (level, m) => lines.push(`${level}: ${m}`) },
      signal: controller.signal,
      createClient: () => minter.client,
      onHangup: (l) => {
        hangup = l;
        return () => {
          hangup = undefined;
        };
      },
    });
    expect(times).toHaveLength(2);
    expect((times[1]?.getTime() ?? 0) - (times[0]?.getTime() ?? 0)).toBeLessThan(60_000);
    expect(lines).toContain("info: Updating the token (reason: FORCE_REFRESH)");
  });

  it("serves /healthz and /metrics while it runs", async () => {
    let address = "";
    const seen: Array<[number, string]> = [];
    await daemon(
      (n) => {
        if (n === 2) return tokenReply("t2", new Date(clock.now().getTime() + HOUR));
        return tokenReply("t1", new Date(clock.now().getTime() + HOUR));
      },
      2,
      {
        args: ["-listen-health", "127.0.0.1:0"],
        onListening: (a) => {
          address = a;
        },
        sleep: async (ms, signal) => {
          if (seen.length === 0) {
            for (const path of ["/healthz", "/metrics"]) {
              const res = await fetch(`http://${address}${path}`);
              seen.push([res.status, await res.text()]);
            }
          }
          await clock.sleep(ms, signal);
        },
      },
    );
    expect(seen[0]?.[0]).toBe(200);
    expect(seen[0]?.[1]).toMatch(/^ok: the token is valid for 3600s/);
    expect(seen[1]?.[0]).toBe(200);
    expect(seen[1]?.[1]).toContain('luci_machine_tokend_update_outcome{outcome="UPDATE_SUCCESS"} 1');
    expect(seen[1]?.[1]).toContain('luci_machine_tokend_runs_total{outcome="UPDATE_SUCCESS"} 1');
    await expect(fetch(`http://${address}/healthz`)).rejects.toThrow(); // closed on exit
  });

  it("notices a suspend: when the wall clock jumps past next_update, it refreshes within one short wait", async () => {
    let suspended = false;
    const sleep: Sleep = async (ms, signal) => {
      if (!suspended) {
        // The machine sleeps for two hours during the first wait; timers do not see it.
        suspended = true;
        clock.advance(2 * HOUR);
      }
      await clock.sleep(ms, signal);
    };
    const { times } = await daemon(
      (n) => tokenReply(`token-${n}`, new Date(clock.now().getTime() + HOUR)),
      2,
      { sleep },
    );
    const gap = (times[1]?.getTime() ?? 0) - (times[0]?.getTime() ?? 0);
    expect(gap).toBeGreaterThanOrEqual(2 * HOUR);
    expect(gap).toBeLessThanOrEqual(2 * HOUR + 15_000);
    expect(lines).toContain("info: Updating the token (reason: TOKEN_EXPIRES)");
  });

  it("schedules strictly after next_update with bounded jitter", () => {
    const now = new Date(1000_000);
    expect(nextRefreshAt(2000, now, () => 0).getTime()).toBe(2001_000);
    expect(nextRefreshAt(2000, now, () => 0.999).getTime()).toBeLessThanOrEqual(2001_000 + 60_000);
    expect(nextRefreshAt(0, now, () => 0.5).getTime()).toBe(1001_000); // already due: in 1 s
    // A next_update no Date holds (a hand-edited file) waits a day instead of spinning.
    for (const absurd of [8.64e12, Number.MAX_SAFE_INTEGER, Number.NaN]) {
      expect(nextRefreshAt(absurd, now, () => 0).getTime()).toBe(1000_000 + DAY + 1000);
    }
  });
});
