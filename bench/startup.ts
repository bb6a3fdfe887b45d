import type { BenchFixture } from "./fixture.js";
import { BIN } from "./fixture.js";
import { interleaved, peakRssKiB, timeProcess } from "./processes.js";
import { median } from "./stats.js";
import { fmt, type Row } from "./table.js";

/** Whole-process runs of the CLI, each a ratio to bare `node -e 0` measured alongside it. */
export function startupRows(fx: BenchFixture, runs: number): Row[] {
  const rows: Row[] = [];
  const ratioRow = (
    figure: string,
    series: { candidate: number[]; bare: number[] },
    max: number,
    unit: "ms" | "MiB",
  ) => {
    const [c, b] = [median(series.candidate), median(series.bare)];
    const scale = unit === "MiB" ? 1024 : 1;
    rows.push({
      figure,
      value: `${fmt(c / b)}× (${fmt(c / scale, 1)} vs ${fmt(b / scale, 1)} ${unit})`,
      target: `≤ ${max}×`,
      ok: c / b <= max,
    });
  };
  // 1. The token-is-good run: what every machine does every ten minutes.
  const good = fx.args();
  ratioRow("token-is-good run: wall / bare node", interleaved(runs, timeProcess, good), 1.5, "ms");
  ratioRow("token-is-good run: peak RSS / bare node", interleaved(runs, peakRssKiB, good), 1.5, "MiB");
  // 2. A full refresh: one MintMachineToken to the dev server in its own process, files written.
  const refresh = fx.args("-force-refresh");
  ratioRow(
    "full refresh (pRPC to the dev server): wall / bare node",
    interleaved(runs, timeProcess, refresh),
    2.5,
    "ms",
  );
  // 3. The usage text.
  ratioRow("-h: wall / bare node", interleaved(runs, timeProcess, [BIN, "-h"]), 1.5, "ms");
  return rows;
}
