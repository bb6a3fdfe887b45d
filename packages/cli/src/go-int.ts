/** An int flag's value, or the error text Go's flag package prints for it. */
export type ParsedGoInt = { value: bigint; error?: undefined } | { value?: undefined; error: string };

const PREFIX_BASES = new Map([
  ["b", 2n],
  ["o", 8n],
  ["x", 16n],
]);
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Parses an `int` flag like Go's flag package: strconv.ParseInt(text, 0, 64), so `0x10`, `0o17`,
 * `017` (octal), `0b101`, `1_000` and a sign are accepted; errors read `parse error` or
 * `value out of range` as Go's flag package words them. A bigint keeps all 64 bits.
 */
export function parseGoInt(text: string): ParsedGoInt {
  const syntax = { error: "parse error" };
  const range = { error: "value out of range" };
  const neg = text.startsWith("-");
  const unsigned = neg || text.startsWith("+") ? text.slice(1) : text;
  if (unsigned === "") return syntax;
  let base = 10n;
  let digits = unsigned;
  if (unsigned[0] === "0") {
    const prefix = unsigned.length >= 3 ? PREFIX_BASES.get(unsigned[1]?.toLowerCase() ?? "") : undefined;
    base = prefix ?? 8n;
    digits = unsigned.slice(prefix === undefined ? 1 : 2);
  }
  // Like Go's ParseUint: digit by digit, so an overflow is reported before a later bad character.
  let n = 0n;
  let underscores = false;
  for (const c of digits) {
    if (c === "_") {
      underscores = true;
      continue;
    }
    const d = digitValue(c);
    if (d === undefined || d >= base) return syntax;
    n = n * base + d;
    if (n > 0xffff_ffff_ffff_ffffn) return range;
  }
  if (underscores && !underscoresOk(unsigned)) return syntax;
  const value = neg ? -n : n;
  return value < INT64_MIN || value > INT64_MAX ? range : { value };
}

/** A digit in any base up to 36, ASCII only (Go's ParseUint works on bytes). */
function digitValue(c: string): bigint | undefined {
  const raw = c.length === 1 ? c.charCodeAt(0) : 0;
  if (raw >= 0x30 && raw <= 0x39) return BigInt(raw - 0x30);
  const lower = raw | 0x20; // Go's lower(): only ASCII letters land in a..z
  if (lower >= 0x61 && lower <= 0x7a) return BigInt(lower - 0x61 + 10);
  return undefined;
}

/** Go's underscoreOK: each `_` sits between two digits, or between a base prefix and a digit. */
function underscoresOk(text: string): boolean {
  const digit = /^0x/i.test(text) ? "[0-9a-f]" : "[0-9]";
  if (/^0[box]/i.test(text)) return new RegExp(`^(_?${digit})*$`, "i").test(text.slice(2));
  return new RegExp(`^${digit}(_?${digit})*$`, "i").test(text);
}
