import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  decideUpdateReason,
  MintTokenError,
  mintToken,
  nextUpdateTime,
  type Random,
  type Signer,
  TOKEND_VERSION,
  type TokenFile,
  type TokenMinterClient,
} from "@luci-machine-tokend/core";
import {
  type MintMachineTokenResponse,
  MintMachineTokenResponseSchema,
  SignatureAlgorithm,
  TokenFileSchema,
} from "@luci-machine-tokend/core/gen";
import { createSimClock } from "./sim-clock.js";

/** A fleet scenario: machines on a shared cron, and a token server outage. */
export interface FleetScenario {
  machines: number;
  /** Cron period, ms (10 min); every machine's cron fires at the same second. */
  cronMs: number;
  /** When the outage starts and how long it lasts, ms from the start. */
  outageStartMs: number;
  outageMs: number;
  /** How long the simulation runs, ms. */
  durationMs: number;
  /** Token lifetime the server grants, ms (1 h). */
  tokenLifetimeMs: number;
  /** `-timeout` of each run, ms (60 s): the run's deadline and the cap of one retry delay. */
  timeoutMs: number;
  /** Retry jitter (ours) or Go's exact schedule. */
  jitter: boolean;
  /** Random wait before each cron run, up to this many ms (`-splay`); 0 = Go. */
  splayMs: number;
  /** Process start-up before a run decides, ms. */
  startupMs: number;
  /** Time from a call to its answer (or its failure), ms. */
  rpcMs: number;
  /** Seeded randomness (splay, jitter, the fleet's initial token ages), so runs are repeatable. */
  random: Random;
}

/**
 * The fleet of BENCHMARKS.md, machines and schedule aside: a 10-minute cron, 1 h tokens, Go's 60 s
 * -timeout, a 5-minute outage, 3 simulated hours, 50 ms start-up and 20 ms calls.
 */
export const STANDARD_FLEET = {
  cronMs: 600_000,
  outageMs: 300_000,
  durationMs: 3 * 3_600_000,
  tokenLifetimeMs: 3_600_000,
  timeoutMs: 60_000,
  startupMs: 50,
  rpcMs: 20,
} as const satisfies Partial<FleetScenario>;

/** What the fleet did. */
export interface FleetResult {
  /** MintMachineToken calls, failed ones included. */
  totalRpcs: number;
  /** Calls that met the outage. */
  failedRpcs: number;
  /** Cron runs that had to refresh, and those of them that ended without a token. */
  refreshRuns: number;
  failedRuns: number;
  /** Calls arriving in each simulated second (index = second). */
  callsPerSecond: number[];
  /** Most calls in one second over the whole run. */
  peakPerSecond: number;
  /** When the last machine the outage hit (a call of it failed) got a token again, ms. */
  recoveredAtMs: number;
  /** Most calls in one second from the end of the outage to {@link recoveredAtMs}. */
  recoveryPeakPerSecond: number;
  /** Machines whose token was past its expiry when a cron run started. */
  machinesThatLostService: number;
  /** Machines holding a valid token when the simulation ends. */
  machinesWithValidToken: number;
}

const DIGEST = "0".repeat(40);
const STATE = { inputsDigest: DIGEST, version: TOKEND_VERSION };
const SIGNER: Signer = {
  algorithm: SignatureAlgorithm.SHA256_RSA_ALGO,
  certificateDer: new Uint8Array(8),
  sign: async () => new Uint8Array(256),
};

/**
 * Simulates a fleet of cron-driven tokends against a server with an outage, on a simulated clock
 * (discrete events), with the real code: each run decides with decideUpdateReason and, when it
 * must refresh, calls the real mintToken (its retry loop, backoff and deadline) with a fake
 * TokenMinter client that fails every call arriving during the outage; a minted token is
 * scheduled with nextUpdateTime. Pure apart from the seeded randomness. Used by the bench only
 * (bench/fleet.ts); its correctness test runs with the unit tests.
 */
export async function simulateFleet(s: FleetScenario): Promise<FleetResult> {
  await loadMintToken();
  const clock = createSimClock();
  const outageEnd = s.outageStartMs + s.outageMs;
  const serverDown = (t: number) => t >= s.outageStartMs && t < outageEnd;
  const callsPerSecond = new Array<number>(Math.ceil((s.durationMs + s.cronMs) / 1000)).fill(0);
  let failedRpcs = 0;
  const client: TokenMinterClient = {
    async mintMachineToken() {
      const arrived = clock.nowMs();
      const second = Math.floor(arrived / 1000);
      callsPerSecond[second] = (callsPerSecond[second] ?? 0) + 1;
      await clock.sleep(s.rpcMs);
      if (serverDown(arrived)) {
        failedRpcs++;
        throw new Error("connect ECONNREFUSED"); // INTERNAL: retried, as Go does
      }
      return mintResponse(arrived + s.tokenLifetimeMs);
    },
  };

  let refreshRuns = 0;
  let failedRuns = 0;
  let recoveredAtMs = outageEnd;
  const lostService = new Set<number>();
  const expiries: number[] = [];

  const machine = async (m: number) => {
    // Steady state before the outage: each machine minted within the last half lifetime.
    const minted = -s.random() * (s.tokenLifetimeMs / 2);
    let expiry = minted + s.tokenLifetimeMs;
    let token = tokenFile(minted, expiry);
    let failedInOutage = false;
    for (let tick = 0; tick < s.durationMs; tick += s.cronMs) {
      const splay = s.splayMs > 0 ? s.random() * s.splayMs : 0;
      await clock.sleep(tick + s.startupMs + splay - clock.nowMs());
      const start = clock.nowMs();
      if (start > expiry) lostService.add(m);
      const reason = decideUpdateReason({ token, state: STATE, inputsDigest: DIGEST, now: clock.now() });
      if (reason === "TOKEN_IS_GOOD") continue;
      refreshRuns++;
      try {
        const answer = await mintToken({
          client,
          signer: SIGNER,
          timeoutMs: s.timeoutMs,
          deadline: new Date(start + s.timeoutMs),
          jitter: s.jitter,
          now: clock.now,
          sleep: clock.sleep,
          random: s.random,
        });
        const mintedAt = clock.nowMs();
        expiry = answer.expiry.getTime();
        token = tokenFile(mintedAt, expiry);
        // A machine the outage hit (a failed call in this run or a failed run before) is back.
        if (failedInOutage || answer.attempts > 1) recoveredAtMs = Math.max(recoveredAtMs, mintedAt);
        failedInOutage = false;
      } catch (err) {
        if (!(err instanceof MintTokenError)) throw err;
        failedRuns++;
        failedInOutage = true;
      }
    }
    expiries[m] = expiry;
  };

  const done = Promise.all(Array.from({ length: s.machines }, (_, m) => machine(m)));
  await clock.run(Number.POSITIVE_INFINITY);
  await done;

  const recoveryCalls = callsPerSecond.slice(
    Math.floor(outageEnd / 1000),
    Math.floor(recoveredAtMs / 1000) + 1,
  );
  return {
    totalRpcs: callsPerSecond.reduce((a, b) => a + b, 0),
    failedRpcs,
    refreshRuns,
    failedRuns,
    callsPerSecond,
    peakPerSecond: Math.max(...callsPerSecond),
    recoveredAtMs,
    recoveryPeakPerSecond: Math.max(0, ...recoveryCalls),
    machinesThatLostService: lostService.size,
    machinesWithValidToken: expiries.filter((e) => e > clock.nowMs()).length,
  };
}

/**
 * One real mintToken call before the simulated clock starts: the first call loads its protobuf-es
 * and Connect code, real I/O that the discrete-event loop does not wait for.
 */
async function loadMintToken(): Promise<void> {
  const client: TokenMinterClient = { mintMachineToken: async () => mintResponse(Date.now() + 3_600_000) };
  await mintToken({ client, signer: SIGNER });
}

/** The token file a run leaves behind, scheduled by the real nextUpdateTime. */
function tokenFile(mintedAt: number, expiry: number): TokenFile {
  return create(TokenFileSchema, {
    luciMachineToken: "sim",
    expiry: BigInt(Math.floor(expiry / 1000)),
    lastUpdate: BigInt(Math.floor(mintedAt / 1000)),
    nextUpdate: nextUpdateTime(new Date(mintedAt), new Date(expiry)).nextUpdate,
  });
}

function mintResponse(expiryMs: number): MintMachineTokenResponse {
  return create(MintMachineTokenResponseSchema, {
    serviceVersion: "sim/1",
    tokenResponse: {
      serviceVersion: "sim/1",
      tokenType: {
        case: "luciMachineToken",
        value: { machineToken: "sim", expiry: timestampFromMs(expiryMs) },
      },
    },
  });
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
