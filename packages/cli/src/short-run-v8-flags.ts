/**
 * V8 tuned for one short tokend run, where its defaults aim at long-lived programs (BENCHMARKS.md,
 * round 3). A refresh is over in a few hundred milliseconds, yet a handful of functions (Node's
 * path and Buffer helpers, protobuf-es's descriptor boot) run often enough for TurboFan, whose
 * first compilation maps ~3.5 MiB of zones and code; and the young generation doubles near the
 * run's end, committing ~2 MiB more. Without them peak RSS is ~6 MiB lower (1.36× bare Node
 * instead of 1.51× over HTTPS) at no measurable cost in time: bytecode and Sparkplug serve a run.
 */
const FLAGS = [
  // Optimize only what stays hot several times longer than a run.
  "--ticks-before-optimization=10",
  // Small functions are otherwise optimized on their first tick.
  "--max-bytecode-size-for-early-opt=0",
  // Keep the young generation at its starting size.
  "--semi-space-growth-factor=1",
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
  for (const flag of FLAGS) setFlags(flag);
  return true;
}
