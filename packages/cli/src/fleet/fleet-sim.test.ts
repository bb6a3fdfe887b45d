import { describe, expect, it } from "vitest";
import { type FleetScenario, seededRandom, simulateFleet } from "./fleet-sim.js";

const base: Omit<FleetScenario, "jitter" | "splayMs" | "random"> = {
  machines: 300,
  cronMs: 600_000,
  outageStartMs: 3_000_000,
  outageMs: 300_000,
  durationMs: 3 * 3_600_000,
  tokenLifetimeMs: 3_600_000,
  timeoutMs: 60_000,
  startupMs: 50,
  rpcMs: 20,
};

describe("fleet simulation", () => {
  it("Go's schedule: a synchronized wave at recovery, and everyone served again afterwards", () => {
    const go = simulateFleet({ ...base, jitter: false, splayMs: 0, random: seededRandom(1) });
    // Every machine that could not refresh during the outage calls in the same second at the next tick.
    expect(go.recoveryPeakPerSecond).toBeGreaterThan(base.machines / 3);
    expect(go.machinesWithValidToken).toBe(base.machines);
    // Without an outage each machine refreshes at the first run after half its lifetime: every
    // 30 min, so 6 calls in 3 h (5 or 6, by where its first refresh falls).
    const calm = simulateFleet({ ...base, outageMs: 0, jitter: false, splayMs: 0, random: seededRandom(1) });
    expect(calm.totalRpcs).toBeGreaterThanOrEqual(base.machines * 5);
    expect(calm.totalRpcs).toBeLessThanOrEqual(base.machines * 6);
    expect(go.totalRpcs).toBeGreaterThan(calm.totalRpcs); // the failed retries
  });

  it("ours (jitter + splay) flattens the wave without more calls", () => {
    const go = simulateFleet({ ...base, jitter: false, splayMs: 0, random: seededRandom(2) });
    const ours = simulateFleet({ ...base, jitter: true, splayMs: 60_000, random: seededRandom(2) });
    expect(ours.recoveryPeakPerSecond * 5).toBeLessThanOrEqual(go.recoveryPeakPerSecond);
    expect(ours.totalRpcs).toBeLessThanOrEqual(go.totalRpcs);
    expect(ours.machinesWithValidToken).toBe(base.machines);
  });

  it("is repeatable with the same seed", () => {
    const a = simulateFleet({ ...base, jitter: true, splayMs: 60_000, random: seededRandom(7) });
    const b = simulateFleet({ ...base, jitter: true, splayMs: 60_000, random: seededRandom(7) });
    expect(a).toEqual(b);
  });
});
