import { describe, expect, it } from "vitest";
import { type FleetScenario, STANDARD_FLEET, seededRandom, simulateFleet } from "./fleet-sim.js";

const MACHINES = 300;
const base: Omit<FleetScenario, "jitter" | "splayMs" | "random"> = {
  ...STANDARD_FLEET,
  machines: MACHINES,
  outageStartMs: 3_000_000, // at a cron tick: runs of that tick fail, the next tick recovers
};
/** An outage that ends 30 s into the runs of a tick, while they are retrying. */
const endsMidRun = { outageStartMs: 2_730_000 };
const go = { jitter: false, splayMs: 0 };
const ours = { jitter: true, splayMs: 60_000 };

/** Calls a run makes in a long outage on Go's schedule (LUCI-REFERENCE §3.4), counted by hand. */
function goAttemptsPerFailedRun(): number {
  let t = 0;
  let delay = 200;
  for (let attempts = 1; ; attempts++) {
    t += base.rpcMs; // the failed call
    const left = base.timeoutMs - t;
    if (left <= 0 || Math.min(delay, base.timeoutMs) >= left) return attempts;
    t += Math.min(delay, base.timeoutMs);
    delay *= 1.5;
  }
}

/** Seconds in [fromS, toS) that saw at least one call. */
const busySeconds = (calls: number[], fromS: number, toS: number) =>
  calls.slice(fromS, toS).filter((n) => n > 0).length;

describe("fleet simulation", () => {
  it("counts every call: failed ones, one success per successful run, and per second", async () => {
    const r = await simulateFleet({ ...base, ...go, random: seededRandom(1) });
    expect(r.callsPerSecond.reduce((a, b) => a + b, 0)).toBe(r.totalRpcs);
    expect(r.totalRpcs - r.failedRpcs).toBe(r.refreshRuns - r.failedRuns);
    // The outage starts at a tick and ends before the next: every failed call belongs to a run of
    // that tick, and each such run made exactly Go's number of attempts before its deadline.
    expect(r.failedRuns).toBeGreaterThan(MACHINES / 5);
    expect(r.failedRpcs).toBe(r.failedRuns * goAttemptsPerFailedRun());
    expect(goAttemptsPerFailedRun()).toBe(13);
  });

  it("every machine holds a valid token after the recovery, and none lost service", async () => {
    for (const outage of [{}, endsMidRun]) {
      for (const schedule of [go, ours]) {
        const scenario = { ...base, ...outage, ...schedule, random: seededRandom(3) };
        const r = await simulateFleet(scenario);
        expect(r.machinesWithValidToken).toBe(MACHINES);
        expect(r.machinesThatLostService).toBe(0);
        const outageEnd = scenario.outageStartMs + scenario.outageMs;
        expect(r.recoveredAtMs).toBeGreaterThanOrEqual(outageEnd);
        expect(r.recoveredAtMs).toBeLessThan(outageEnd + base.cronMs + 2 * base.timeoutMs);
      }
    }
  });

  it("Go's schedule retries in synchronized waves; jitter spreads them", async () => {
    const tickS = 3000; // the tick whose runs meet the end of the outage at 3030 s
    const goRun = await simulateFleet({ ...base, ...endsMidRun, ...go, random: seededRandom(2) });
    const jittered = await simulateFleet({
      ...base,
      ...endsMidRun,
      jitter: true,
      splayMs: 0,
      random: seededRandom(2),
    });
    // Go: every retrying machine calls in the same few seconds (13 attempts fit in 60 s, some
    // share a second), and the whole cohort succeeds in one second after the outage.
    expect(busySeconds(goRun.callsPerSecond, tickS, tickS + 60)).toBeLessThanOrEqual(13);
    const cohort = goRun.callsPerSecond[tickS + 34] ?? 0; // 34.4 s: Go's first retry after 30 s
    expect(cohort).toBeGreaterThan(MACHINES / 5);
    expect(goRun.recoveryPeakPerSecond).toBe(cohort);
    expect(busySeconds(jittered.callsPerSecond, tickS, tickS + 60)).toBeGreaterThan(30);
    expect(jittered.recoveryPeakPerSecond * 3).toBeLessThan(goRun.recoveryPeakPerSecond);
  });

  it("ours (jitter + splay) flattens the recovery wave without more calls", async () => {
    for (const outage of [{}, endsMidRun]) {
      const goRun = await simulateFleet({ ...base, ...outage, ...go, random: seededRandom(4) });
      const ourRun = await simulateFleet({ ...base, ...outage, ...ours, random: seededRandom(4) });
      expect(ourRun.recoveryPeakPerSecond * 5).toBeLessThanOrEqual(goRun.recoveryPeakPerSecond);
      expect(ourRun.totalRpcs).toBeLessThanOrEqual(goRun.totalRpcs);
    }
  });

  it("is repeatable with the same seed", async () => {
    const a = await simulateFleet({ ...base, ...ours, random: seededRandom(7) });
    const b = await simulateFleet({ ...base, ...ours, random: seededRandom(7) });
    expect(a).toEqual(b);
  });
});
