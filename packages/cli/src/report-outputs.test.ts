import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger, StatusReport } from "@luci-machine-tokend/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { durableWriteOf, recordingAtomicFs } from "../../core/src/testing/recording-fs.js";
import { type CliOptions, cliOptionsFromFlags } from "./cli-options.js";
import { parseGoFlags } from "./go-flags.js";
import { prometheusText } from "./metrics/prometheus-text.js";
import { writeReportOutputs } from "./report-outputs.js";

let dir: string;
let lines: string[];
const logger: Logger = { log: (level, m) => lines.push(`${level}: ${m}`) };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tokend-outputs-"));
  lines = [];
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const report: StatusReport = {
  tokendVersion: "1.3",
  serviceVersion: "dev-token-server/0.1.0",
  startedTs: 1700000000,
  totalDurationUs: 51234,
  rpcDurationUs: 40000,
  updateOutcome: "UPDATE_SUCCESS",
  updateReason: "NEW_TOKEN",
  logDump: "",
  tokenLastUpdateTs: 1700000000,
  tokenNextUpdateTs: 1700001800,
  tokenExpiryTs: 1700003600,
};

function options(...extra: string[]): CliOptions {
  const parsed = parseGoFlags([
    "-pkey-pem",
    "k",
    "-cert-pem",
    "c",
    "-backend",
    "b:1",
    "-token-file",
    "t",
    ...extra,
  ]);
  if (parsed.kind !== "values") throw new Error("bad flags");
  const checked = cliOptionsFromFlags(parsed.values);
  if ("error" in checked) throw new Error(checked.error);
  return checked.options;
}

describe("run outputs", () => {
  it("writes the status file and the Prometheus textfile atomically: write, fsync, close, rename, directory fsync", async () => {
    const events: string[] = [];
    const outputs = options(
      "-status-file",
      join(dir, "status.json"),
      "-prometheus-textfile",
      join(dir, "tokend.prom"),
    );
    await writeReportOutputs(report, outputs, logger, () => new Date(), {
      atomicFs: recordingAtomicFs(events, dir),
    });
    expect(events).toEqual([...durableWriteOf("tokend.prom"), ...durableWriteOf("status.json")]);
    expect(JSON.parse(await readFile(join(dir, "status.json"), "utf8")).update_outcome).toBe(
      "UPDATE_SUCCESS",
    );
  });

  it("sends the ts-mon metrics before writing the status file, which a failed push does not stop", async () => {
    const status = join(dir, "status.json");
    await writeReportOutputs(report, options("-status-file", status), logger, () => new Date(), {
      tsMon: { kind: "file", path: join(dir, "no-such-dir", "metrics.txt"), labels: [] },
    });
    expect(lines.filter((l) => l.startsWith("error:"))).toEqual([
      `error: Failed to open file ${join(dir, "no-such-dir", "metrics.txt")}: open ${join(dir, "no-such-dir", "metrics.txt")}: no such file or directory`,
      `error: Failed to send tsmon metrics - open ${join(dir, "no-such-dir", "metrics.txt")}: no such file or directory`,
    ]);
    expect(JSON.parse(await readFile(status, "utf8")).update_outcome).toBe("UPDATE_SUCCESS");
  });

  it("writes the status file and a node_exporter textfile", async () => {
    const status = join(dir, "status.json");
    const prom = join(dir, "tokend.prom");
    await writeReportOutputs(
      report,
      options("-status-file", status, "-prometheus-textfile", prom, "-ts-mon-config-file", join(dir, "x")),
      logger,
      () => new Date(1700000001_000),
    );
    expect(JSON.parse(await readFile(status, "utf8")).update_outcome).toBe("UPDATE_SUCCESS");
    const text = await readFile(prom, "utf8");
    expect(text).toContain('luci_machine_tokend_update_outcome{outcome="UPDATE_SUCCESS"} 1\n');
    expect(text).toContain("luci_machine_tokend_token_expiry_timestamp_seconds 1700003600\n");
    expect(text).toContain("luci_machine_tokend_last_run_timestamp_seconds 1700000001\n");
    expect(text).toContain("luci_machine_tokend_last_run_success 1\n");
  });

  it("logs and carries on when an output cannot be written", async () => {
    await writeReportOutputs(
      report,
      options("-status-file", join(dir, "missing", "status.json"), "-ts-mon-config-file", join(dir, "x")),
      logger,
      () => new Date(),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: Failed to write the status file .*missing\/status\.json - ENOENT/);
  });
});

describe("prometheusText", () => {
  it("is valid exposition text: HELP and TYPE per family, escaped labels, zero times left out", () => {
    const text = prometheusText(
      { ...report, tokenExpiryTs: undefined, serviceVersion: 'we"ird\\v' },
      new Date(0),
    );
    expect(text).toContain('luci_machine_tokend_info{version="1.3",service_version="we\\"ird\\\\v"} 1');
    expect(text).not.toContain("token_expiry_timestamp_seconds");
    for (const family of text.matchAll(/^# TYPE (\S+) gauge$/gm)) {
      expect(text).toMatch(new RegExp(`^# HELP ${family[1]} `, "m"));
    }
    expect(text.endsWith("\n")).toBe(true);
  });
});
