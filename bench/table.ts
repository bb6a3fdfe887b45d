/** One line of the bench table: a figure, what was measured, its target, and whether it is met. */
export interface Row {
  figure: string;
  value: string;
  target: string;
  /** undefined: reported only, no target. */
  ok?: boolean;
}

/** Prints the rows as one aligned table; returns how many targets were missed. */
export function printTable(title: string, rows: Row[]): number {
  const cells = rows.map((r) => [r.figure, r.value, r.target, r.ok === undefined ? "" : r.ok ? "yes" : "NO"]);
  const all = [["figure", "measured", "target", "met"], ...cells];
  const widths = [0, 1, 2].map((i) => Math.max(...all.map((c) => c[i]?.length ?? 0)));
  const line = (c: string[]) =>
    c
      .map((s, i) => s.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  console.log(`\n${title}\n`);
  for (const c of all) console.log(line(c));
  const missed = rows.filter((r) => r.ok === false).length;
  console.log(missed === 0 ? "\nevery target met" : `\n${missed} target(s) missed`);
  return missed;
}

/** A number with a fixed count of decimals. */
export const fmt = (n: number, digits = 2) => n.toFixed(digits);

/** An integer with thousands separators. */
export const count = (n: number) => Math.round(n).toLocaleString("en-US");
