/**
 * Go `time.Duration` text, as used by tokend's `-timeout` flag and its log lines.
 * Durations are carried as milliseconds (fractional values allowed) everywhere in this project.
 */

const NS_PER_UNIT: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 MICRO SIGN, as Go accepts
  μs: 1e3, // U+03BC GREEK SMALL LETTER MU
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** The result of parsing a Go duration: milliseconds, or why the text is not one. */
export type ParsedDuration = { value: number; error?: undefined } | { value?: undefined; error: string };

/**
 * Parses Go duration text (`60s`, `1m30s`, `500ms`, `1.5h`, `-2s`, `0`) into milliseconds.
 * Like Go's `time.ParseDuration`, a bare number other than 0 needs a unit.
 */
export function parseGoDuration(text: string): ParsedDuration {
  const invalid = { error: `time: invalid duration "${text}"` };
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return { value: 0 };
  if (rest === "") return invalid;
  let totalNs = 0;
  const part = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (rest !== "") {
    const m = part.exec(rest);
    // A number with nothing after it: Go's "missing unit" (e.g. `5`, the `2` of `1s2`).
    if (!m && /^(\d+\.?\d*|\.\d+)$/.test(rest)) return { error: `time: missing unit in duration "${text}"` };
    if (!m) return invalid;
    const [whole, intPart = "", fracPart = "", unitText = ""] = m;
    if (intPart === "" && fracPart === "") return invalid;
    const unit = NS_PER_UNIT[unitText];
    if (unit === undefined) return { error: `time: unknown unit "${unitText}" in duration "${text}"` };
    totalNs += Number(`${intPart || "0"}.${fracPart || "0"}`) * unit;
    rest = rest.slice(whole.length);
  }
  if (!Number.isFinite(totalNs) || totalNs > 9.223372036854776e18) return invalid;
  return { value: (sign * totalNs) / 1e6 };
}

/** Formats milliseconds the way Go's `Duration.String()` does: `1m0s`, `500ms`, `59.99512s`, `0s`. */
export function formatGoDuration(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  if (neg) ns = -ns;
  const sign = neg ? "-" : "";
  if (ns < 1_000_000_000n) {
    if (ns < 1000n) return `${sign}${ns}ns`;
    if (ns < 1_000_000n) return `${sign}${fraction(ns, 1000n)}µs`;
    return `${sign}${fraction(ns, 1_000_000n)}ms`;
  }
  const hours = ns / 3_600_000_000_000n;
  const minutes = (ns / 60_000_000_000n) % 60n;
  const seconds = fraction(ns % 60_000_000_000n, 1_000_000_000n);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

/** `value / unit` as a decimal without trailing zeros (Go prints `1.5s`, not `1.500s`). */
function fraction(value: bigint, unit: bigint): string {
  const whole = value / unit;
  const rem = value % unit;
  if (rem === 0n) return `${whole}`;
  const digits = unit.toString().length - 1;
  return `${whole}.${rem.toString().padStart(digits, "0").replace(/0+$/, "")}`;
}
