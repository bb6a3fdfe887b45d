import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchFixture } from "./fixture.js";
import { alternate, type Command, peakKiB, wallMs } from "./peer.js";
import { fmt, type Row } from "./table.js";

/** The single executable `npm run sea` builds (`npm run bench` builds it first where it can). */
const SEA = fileURLToPath(
  new URL(`../dist-sea/luci_machine_tokend-${process.platform}-${process.arch}`, import.meta.url),
);

const mib = (bytes: number) => fmt(bytes / 2 ** 20, 1);

/**
 * The single executable beside the npm CLI, bare Node and (with LUCI_GO_TOKEND) the Go binary, on
 * the same token file, key and server: `-h`, the token-is-good run and a refresh, wall time and
 * peak RSS (GNU time for all four); and the file sizes. Reported only.
 */
export function seaRows(fx: BenchFixture, runs: number): Row[] {
  if (!existsSync(SEA)) {
    return [
      { figure: "single executable", value: "not measured: not built (npm run sea)", target: "reported" },
    ];
  }
  const go = process.env.LUCI_GO_TOKEND;
  const size = `${mib(statSync(SEA).size)} MiB (node ${mib(statSync(process.execPath).size)} MiB + the CLI)`;
  const rows: Row[] = [
    {
      figure: "single executable: file size",
      value: go ? `${size}; Go ${mib(statSync(go).size)} MiB` : size,
      target: "reported",
    },
  ];
  const cases: Array<[string, string[]]> = [
    ["-h", ["-h"]],
    ["token-is-good run", fx.args().slice(1)],
    ["full refresh", fx.args("-force-refresh").slice(1)],
  ];
  const names = ["single executable", "npm CLI", "bare node", ...(go ? ["Go"] : [])];
  for (const [name, flags] of cases) {
    const commands: Command[] = [
      [SEA, ...flags],
      [process.execPath, fx.args()[0] as string, ...flags],
      [process.execPath, "-e", "0"],
      ...(go ? [[go, ...flags] as Command] : []),
    ];
    const list = (values: number[], unit: string, scale: number) =>
      `${values.map((v, i) => `${names[i]} ${fmt(v / scale, 1)}`).join(", ")} ${unit}`;
    rows.push(
      {
        figure: `single executable, ${name}: wall`,
        value: list(alternate(runs, wallMs, commands), "ms", 1),
        target: "reported",
      },
      {
        figure: `single executable, ${name}: peak RSS`,
        value: list(alternate(runs, peakKiB, commands), "MiB", 1024),
        target: "reported",
      },
    );
  }
  return rows;
}
