import { readFileSync } from "node:fs";
import { interleaved, peakRssKiB, timeProcess } from "./processes.js";
import { median } from "./stats.js";
import { fmt, type Row } from "./table.js";

const CORE = "@luci-machine-tokend/core";

/** Targets of the package root (issue #13): a library import costs little more than Node itself. */
const ROOT_MAX = { wall: 1.5, rss: 1.2 };

/** The specifiers of core's exports map: the root and each subpath (package.json aside). */
function coreEntryPoints(): string[] {
  const pkg = JSON.parse(readFileSync(new URL("../packages/core/package.json", import.meta.url), "utf8"));
  return Object.keys(pkg.exports as Record<string, unknown>)
    .filter((key) => key !== "./package.json")
    .map((key) => (key === "." ? CORE : `${CORE}${key.slice(1)}`));
}

/** `node -e 'import "<specifier>"'` from the repository (resolved through the exports map, built dist). */
function importArgs(specifier: string): string[] {
  return ["--input-type=module", "-e", `import ${JSON.stringify(specifier)};`];
}

/**
 * Whole-process cost of importing each entry point of core, as ratios to bare `node -e 0` run
 * alternately with it (wall time and peak RSS). The root has targets; subpaths are reported.
 */
export function importCostRows(runs: number, specifiers = coreEntryPoints()): Row[] {
  const rows: Row[] = [];
  for (const specifier of specifiers) {
    const args = importArgs(specifier);
    const max = specifier === CORE ? ROOT_MAX : undefined;
    for (const [what, measure, unit, limit] of [
      ["wall", timeProcess, "ms", max?.wall],
      ["peak RSS", peakRssKiB, "MiB", max?.rss],
    ] as const) {
      const series = interleaved(runs, measure, args);
      const [c, b] = [median(series.candidate), median(series.bare)];
      const scale = unit === "MiB" ? 1024 : 1;
      rows.push({
        figure: `import("${specifier}"): ${what} / bare node`,
        value: `${fmt(c / b)}× (${fmt(c / scale, 1)} vs ${fmt(b / scale, 1)} ${unit})`,
        target: limit === undefined ? "reported" : `≤ ${limit}×`,
        ok: limit === undefined ? undefined : c / b <= limit,
      });
    }
  }
  return rows;
}
