/**
 * Go `time.Duration` text, as used by tokend's `-timeout` flag and its log lines.
 * Durations are carried as milliseconds (fractional values allowed) everywhere in this project.
 */

const NS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 MICRO SIGN, as Go accepts
  μs: 1_000n, // U+03BC GREEK SMALL LETTER MU
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** 1<<63: Go's bound on the unsigned sum before the sign is applied. */
const LIMIT = 1n << 63n;

/** The result of parsing a Go duration: milliseconds, or why the text is not one. */
export type ParsedDuration = { value: number; error?: undefined } | { value?: undefined; error: string };

/**
 * Parses Go duration text (`60s`, `1m30s`, `500ms`, `1.5h`, `-2s`, `0`) into milliseconds, step
 * for step like Go's `time.ParseDuration`: integer nanoseconds with Go's overflow bounds (int64),
 * fractions truncated to the nanosecond, and a bare number other than 0 needs a unit.
 */
export function parseGoDuration(text: string): ParsedDuration {
  const invalid = { error: `time: invalid duration ${quote(text)}` };
  let s = text;
  let neg = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    neg = s.startsWith("-");
    s = s.slice(1);
  }
  if (s === "0") return { value: 0 };
  if (s === "") return invalid;
  let total = 0n;
  while (s !== "") {
    // [0-9]*(\.[0-9]*)? then the unit: everything up to the next digit or dot.
    const m = /^([0-9]*)(?:\.([0-9]*))?([^0-9.]*)/.exec(s);
    const [whole = "", intDigits = "", fracDigits, unitText = ""] = m ?? [];
    if (intDigits === "" && (fracDigits ?? "") === "") return invalid;
    let v = BigInt(intDigits || "0");
    if (v > LIMIT) return invalid;
    if (unitText === "") return { error: `time: missing unit in duration ${quote(text)}` };
    const unit = NS_PER_UNIT[unitText];
    if (unit === undefined)
      return { error: `time: unknown unit ${quote(unitText)} in duration ${quote(text)}` };
    if (v > LIMIT / unit) return invalid;
    v *= unit;
    const { f, scale } = leadingFraction(fracDigits ?? "");
    // Go adds uint64(float64(f) * (float64(unit) / scale)): the same float64 steps here.
    if (f > 0n) v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
    if (v > LIMIT) return invalid;
    total += v;
    if (total > LIMIT) return invalid;
    s = s.slice(whole.length);
  }
  if (!neg && total > LIMIT - 1n) return invalid;
  return { value: Number(neg ? -total : total) / 1e6 };
}

/** Go's leadingFraction: the digits that fit in an int64, and 10^(their count) as a float64. */
function leadingFraction(digits: string): { f: bigint; scale: number } {
  let f = 0n;
  let scale = 1;
  for (const c of digits) {
    const next = f * 10n + BigInt(c);
    if (next > LIMIT) break; // Go ignores the digits past an overflow
    f = next;
    scale *= 10;
  }
  return { f, scale };
}

/** Go's time.quote: quote and backslash escaped, control and non-ASCII characters as UTF-8 `\xNN` bytes. */
function quote(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || c >= 0x80) {
      for (const b of new TextEncoder().encode(ch)) out += `\\x${b.toString(16).padStart(2, "0")}`;
    } else out += ch === '"' || ch === "\\" ? `\\${ch}` : ch;
  }
  return `"${out}"`;
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
