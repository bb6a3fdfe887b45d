import {
  createBackoff,
  decideUpdateReason,
  newTokenFile,
  nextUpdateTime,
  type Random,
  TOKEND_VERSION,
} from "@luci-machine-tokend/core";

/** A fleet scenario: machines on a shared cron, and a token server outage. */
export interface FleetScenario {
  machines: number;
  /** Cron period, ms (10 min). */
  cronMs: number;
  /** When the outage starts and how long it lasts, ms from the start. */
  outageStartMs: number;
  outageMs: number;
  /** How long the simulation runs, ms. */
  durationMs: number;
  /** Token lifetime the server grants, ms (1 h). */
  tokenLifetimeMs: number;
  /** `-timeout` of each run, ms (60 s): also the cap of one retry delay. */
  timeoutMs: number;
  /** Retry jitter (ours) or Go's exact schedule. */
  jitter: boolean;
  /** Random wait before each cron run, up to this many ms (`-splay`); 0 = Go. */
  splayMs: number;
  /** Process start-up before a run decides, ms (a cron run never starts exactly on the second). */
  startupMs: number;
  /** Server time per call, ms. */
  rpcMs: number;
  /** Seeded randomness, so runs are repeatable. */
  random: Random;
}

/** What the fleet did. */
export interface FleetResult {
  /** MintMachineToken calls, failed ones included. */
  totalRpcs: number;
  /** Most calls in one second over the whole run. */
  peakPerSecond: number;
  /** Most calls in one second from the end of the outage on (the recovery wave). */
  recoveryPeakPerSecond: number;
  /** Machines whose token was expired (past its real expiry) at some cron run. */
  machinesThatLostService: number;
  /** Machines holding a valid token when the simulation ends. */
  machinesWithValidToken: number;
}

/**
 * Simulates a fleet of cron-driven tokends against a server with an outage, with a simulated
 * clock and the real decision (decideUpdateReason, nextUpdateTime) and retry schedule
 * (createBackoff): each run decides, and when it must refresh, calls at the start and after each
 * backoff delay until a call lands outside the outage or its -timeout runs out. Pure and fast.
 */
export function simulateFleet(s: FleetScenario): FleetResult {
  const digest = "0".repeat(40);
  const state = { inputsDigest: digest, version: TOKEND_VERSION };
  const perSecond = new Map<number, number>();
  const outageEnd = s.outageStartMs + s.outageMs;
  const serverUp = (t: number) => t < s.outageStartMs || t >= outageEnd;
  // Steady state before the outage: every machine minted within the last half lifetime.
  const expiry: number[] = [];
  const nextUpdate: bigint[] = [];
  for (let m = 0; m < s.machines; m++) {
    const minted = -s.random() * (s.tokenLifetimeMs / 2);
    expiry.push(minted + s.tokenLifetimeMs);
    nextUpdate.push(nextUpdateTime(new Date(minted), new Date(minted + s.tokenLifetimeMs)).nextUpdate);
  }
  let totalRpcs = 0;
  const lostService = new Set<number>();
  for (let tick = 0; tick < s.durationMs; tick += s.cronMs) {
    for (let m = 0; m < s.machines; m++) {
      const start = tick + s.startupMs + (s.splayMs > 0 ? s.random() * s.splayMs : 0);
      if (start > (expiry[m] ?? 0)) lostService.add(m);
      const token = newTokenFile({
        nextUpdate: nextUpdate[m] ?? 0n,
        expiry: BigInt(Math.floor((expiry[m] ?? 0) / 1000)),
      });
      const reason = decideUpdateReason({ token, state, inputsDigest: digest, now: new Date(start) });
      if (reason === "TOKEN_IS_GOOD") continue;
      const backoff = createBackoff({ maxMs: s.timeoutMs, jitter: s.jitter, random: s.random });
      const deadline = start + s.timeoutMs;
      for (let t = start; t < deadline; ) {
        totalRpcs++;
        const second = Math.floor(t / 1000);
        perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
        if (serverUp(t)) {
          const minted = t + s.rpcMs;
          expiry[m] = minted + s.tokenLifetimeMs;
          nextUpdate[m] = nextUpdateTime(new Date(minted), new Date(minted + s.tokenLifetimeMs)).nextUpdate;
          break;
        }
        t += backoff.next();
      }
    }
  }
  let peak = 0;
  let recoveryPeak = 0;
  for (const [second, n] of perSecond) {
    peak = Math.max(peak, n);
    if (second * 1000 >= outageEnd) recoveryPeak = Math.max(recoveryPeak, n);
  }
  const end = s.durationMs;
  return {
    totalRpcs,
    peakPerSecond: peak,
    recoveryPeakPerSecond: recoveryPeak,
    machinesThatLostService: lostService.size,
    machinesWithValidToken: expiry.filter((e) => e > end).length,
  };
}

/** A small seeded PRNG (mulberry32), so fleet runs are repeatable. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
