/** Go's zero time.Time as JSON: what Go writes for a token without expiry. */
export const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * A time as Go's time.Time reads it from JSON (RFC 3339, checked as Go 1.26 checks it: fields in
 * range, a day that exists, a zone offset up to 24:60, a fraction after `.` or `,`, `Z` upper case).
 *
 * @returns milliseconds since the epoch (sub-millisecond digits dropped), or `zero` for Go's zero
 *   time (year 1, which Go treats as "no time"), or an error.
 */
export function parseGoTime(text: string): { ms: number; zero: boolean } | { error: string } {
  const m = RFC3339.exec(text);
  if (!m) return { error: `parsing time ${JSON.stringify(text)}: not RFC 3339` };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = m[7] ?? "";
  const range = (what: string) => ({ error: `parsing time ${JSON.stringify(text)}: ${what} out of range` });
  if (month < 1 || month > 12) return range("month");
  if (day < 1 || day > daysIn(year, month)) return range("day");
  if (hour > 23) return range("hour");
  if (minute > 59) return range("minute");
  if (second > 59) return range("second");
  let offsetMin = 0;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 24) return range("time zone offset hour");
    if (om > 60) return range("time zone offset minute");
    offsetMin = (m[8] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, Number(fraction.slice(0, 3).padEnd(3, "0")));
  const ms = utc.getTime() - offsetMin * 60_000;
  return { ms, zero: ms === GO_ZERO_MS };
}

/** Go's zero time in milliseconds (Date.UTC reads year 1 as 1901, so set the year itself). */
const GO_ZERO_MS = new Date(0).setUTCFullYear(1, 0, 1);

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** A time as Go's time.Time writes it to JSON in UTC (RFC 3339, fraction without trailing zeros). */
export function formatGoTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-12-07T21:09:29.661Z
  return iso.replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits ? `.${digits}Z` : "Z"));
}
