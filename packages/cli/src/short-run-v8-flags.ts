/**
 * V8 tuned for one short tokend run, where its defaults aim at long-lived programs (BENCHMARKS.md,
 * round 3). A refresh is over in a few hundred milliseconds, yet a handful of functions (Node's
 * path and Buffer helpers, protobuf-es's descriptor boot) run often enough for TurboFan, whose
 * first compilation maps ~3.5 MiB of zones and code; and the young generation doubles near the
 * run's end, committing ~2 MiB more. With these flags a refresh's peak RSS is ~6 MiB lower (1.36×
 * bare Node instead of 1.51× over HTTPS) in the same time: bytecode and Sparkplug serve a run.
 * Set when a refresh starts, not before: each of Node's own modules loaded after a flag change is
 * compiled anew (V8 refuses Node's built-in code cache under other flags), ~13 ms for a run whose
 * token is good, which has no TurboFan to spare anyway.
 */
const FLAGS = [
  // Optimize only what stays hot several times longer than a run.
  { name: "--ticks-before-optimization", short: 10, v8Default: 3 },
  // Small functions are otherwise optimized on their first tick.
  { name: "--max-bytecode-size-for-early-opt", short: 0, v8Default: 81 },
  // Keep the young generation at its starting size.
  { name: "--semi-space-growth-factor", short: 1, v8Default: 2 },
];

/**
 * The V8 these flags were measured on (Node 20's). Another V8 may have renamed them, and
 * setFlagsFromString complains on stderr about a name it does not know: left alone there.
 */
const MEASURED_V8 = /^11\.3\./;

/** Applies the short-run flags to this process's V8 when it is the one measured; says whether it did. */
export function useShortRunV8Flags(
  v8Version = process.versions.v8,
  setFlags = (flag: string) => process.getBuiltinModule("node:v8").setFlagsFromString(flag),
): boolean {
  if (!MEASURED_V8.test(v8Version)) return false;
  // Node's modules that every refresh loads, loaded first from Node's code cache (the flags would
  // make V8 refuse it: 12 ms more of compiling in an HTTPS refresh). node:https brings http, tls, net.
  for (const id of REFRESH_BUILTINS) process.getBuiltinModule(id);
  for (const flag of FLAGS) setFlags(`${flag.name}=${flag.short}`);
  return true;
}

const REFRESH_BUILTINS = ["node:https"];

/**
 * Puts V8's own values back. V8 takes a code cache only under the flags it was made with, and
 * the run bundle's cache is used from the start of a run, before any refresh: the build's
 * training run (which refreshes) makes it after this.
 */
export function restoreV8FlagDefaults(
  v8Version = process.versions.v8,
  setFlags = (flag: string) => process.getBuiltinModule("node:v8").setFlagsFromString(flag),
): void {
  if (!MEASURED_V8.test(v8Version)) return;
  for (const flag of FLAGS) setFlags(`${flag.name}=${flag.v8Default}`);
}
