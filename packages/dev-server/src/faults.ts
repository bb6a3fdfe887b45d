import type { Code } from "@connectrpc/connect";
import type { ErrorCode } from "@luci-machine-tokend/core/gen";

/**
 * Faults that change how the response travels, applied by the HTTP layer to any protocol:
 * - `proxy-html`: an HTML error page (default 502) without any pRPC/gRPC headers, as a load
 *   balancer sends it;
 * - `reset`: headers and half the body, then a TCP RST (HTTP/2: RST_STREAM);
 * - `truncate`: the full Content-Length announced, half the body sent, then the connection closed;
 * - `oversize`: a success answer whose body is `bytes` long (default 33 MiB, above the 32 MiB client
 *   cap), streamed, never buffered;
 * - `wrong-content-type`: the real answer under another Content-Type (default `text/html`).
 */
export type HttpFault =
  | { kind: "proxy-html"; status?: number }
  | { kind: "reset" }
  | { kind: "truncate" }
  | { kind: "oversize"; bytes?: number }
  | { kind: "wrong-content-type"; contentType?: string };

/** How many of the next MintMachineToken calls a fault hits; absent = every call until cleared. */
export interface FaultCount {
  times?: number;
}

/**
 * The fault settings. Latency, clock offset and token lifetime apply to every call until cleared.
 * The three failure kinds are consumed per call with this precedence: `httpFault`, then
 * `grpcError`, then `errorCode`; a call consumes at most one of them.
 */
export interface FaultSettings {
  /** Added before handling each call: fixed milliseconds, or uniformly random in [min, max]. */
  latencyMs?: number | { min: number; max: number };
  /** Fail calls with a gRPC status (pRPC masks messages of codes mapped to HTTP ≥ 500, like Go). */
  grpcError?: { code: Code; message?: string } & FaultCount;
  /** Answer calls with a LUCI logic error (HTTP 200, `error_code`); default message names the fault. */
  errorCode?: { code: ErrorCode; message?: string } & FaultCount;
  /** Break the HTTP response (see {@link HttpFault}). */
  httpFault?: HttpFault & FaultCount;
  /** Shift the server clock (validation of issued_at, cert validity, token issued_at). */
  clockOffsetMs?: number;
  /** Mint tokens with this lifetime (floored to whole seconds) instead of the domain's. */
  tokenLifetimeMs?: number;
}

/** What one call gets: drawn from the settings when the call arrives. */
export interface FaultPlan {
  latencyMs: number;
  clockOffsetMs: number;
  tokenLifetimeMs?: number;
  httpFault?: HttpFault;
  grpcError?: { code: Code; message?: string };
  errorCode?: { code: ErrorCode; message?: string };
}

/** Switch faults on and off while the server runs. */
export interface Faults {
  /** Merges settings into the current ones (a key set to undefined removes that fault). */
  set(settings: FaultSettings): void;
  /** Removes the named faults, or all of them. */
  clear(...keys: Array<keyof FaultSettings>): void;
  /** A copy of the current settings (counts show what is left). */
  current(): FaultSettings;
  /** Draws the plan for one MintMachineToken call, using up counted faults. Internal to the server. */
  take(): FaultPlan;
}

/** Creates the fault switchboard; `random` (default Math.random) draws random latencies. */
export function createFaults(initial: FaultSettings = {}, random: () => number = Math.random): Faults {
  let settings: FaultSettings = {};
  const set = (next: FaultSettings) => {
    validate(next);
    const merged: Record<string, unknown> = { ...settings };
    for (const [k, v] of Object.entries(next)) {
      if (v === undefined) delete merged[k];
      else merged[k] = typeof v === "object" ? { ...v } : v;
    }
    settings = merged as FaultSettings;
  };
  set(initial);

  // Uses up one count of a counted fault; returns it without its count.
  const consume = <K extends "grpcError" | "errorCode" | "httpFault">(key: K) => {
    const fault = settings[key];
    if (fault === undefined) return undefined;
    if (fault.times !== undefined) {
      if (fault.times <= 1) delete settings[key];
      else settings[key] = { ...fault, times: fault.times - 1 } as FaultSettings[K];
    }
    const { times: _times, ...rest } = fault;
    return rest;
  };

  return {
    set,
    clear(...keys) {
      if (keys.length === 0) settings = {};
      else for (const k of keys) delete settings[k];
    },
    current: () => structuredClone(settings),
    take() {
      const { latencyMs = 0, clockOffsetMs = 0, tokenLifetimeMs } = settings;
      const plan: FaultPlan = {
        latencyMs:
          typeof latencyMs === "number"
            ? latencyMs
            : latencyMs.min + random() * (latencyMs.max - latencyMs.min),
        clockOffsetMs,
      };
      if (tokenLifetimeMs !== undefined) plan.tokenLifetimeMs = tokenLifetimeMs;
      const httpFault = consume("httpFault");
      if (httpFault) plan.httpFault = httpFault as HttpFault;
      else {
        const grpcError = consume("grpcError");
        if (grpcError) plan.grpcError = grpcError;
        else {
          const errorCode = consume("errorCode");
          if (errorCode) plan.errorCode = errorCode;
        }
      }
      return plan;
    },
  };
}

function validate(s: FaultSettings): void {
  const { latencyMs } = s;
  if (typeof latencyMs === "number" && !(latencyMs >= 0))
    throw new RangeError(`latencyMs must be >= 0, got ${latencyMs}`);
  if (typeof latencyMs === "object" && !(latencyMs.min >= 0 && latencyMs.max >= latencyMs.min)) {
    throw new RangeError(
      `latencyMs range must satisfy 0 <= min <= max, got ${latencyMs.min}..${latencyMs.max}`,
    );
  }
  for (const key of ["grpcError", "errorCode", "httpFault"] as const) {
    const times = s[key]?.times;
    if (times !== undefined && !(Number.isInteger(times) && times > 0)) {
      throw new RangeError(`${key}.times must be a positive integer, got ${times}`);
    }
  }
  if (
    s.grpcError &&
    !(Number.isInteger(s.grpcError.code) && s.grpcError.code > 0 && s.grpcError.code <= 16)
  ) {
    throw new RangeError(`grpcError.code must be a gRPC code 1..16, got ${s.grpcError.code}`);
  }
  if (s.tokenLifetimeMs !== undefined && !Number.isFinite(s.tokenLifetimeMs)) {
    throw new RangeError(`tokenLifetimeMs must be finite, got ${s.tokenLifetimeMs}`);
  }
}
