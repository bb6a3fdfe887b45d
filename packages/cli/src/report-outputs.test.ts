import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger, StatusReport } from "@luci-machine-tokend/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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
  it("writes ts-mon's gauges as a JSON dump for -ts-mon-endpoint file://PATH", async () => {
    const path = join(dir, "metrics.json");
    const config = join(dir, "none.json");
    await writeReportOutputs(
      report,
      options(
        "-ts-mon-endpoint",
        `file://${path}`,
        "-ts-mon-config-file",
        config,
        "-ts-mon-task-hostname",
        "bot-1",
        "-ts-mon-task-region",
        "lab",
      ),
      logger,
      () => new Date(),
    );
    const dump = JSON.parse(await readFile(path, "utf8"));
    expect(dump.target).toEqual({
      type: "task",
      service_name: "luci_machine_tokend",
      job_name: "default",
      region: "lab",
      hostname: "bot-1",
      task_num: 0,
    });
    const byName = Object.fromEntries(
      dump.metrics.map((m: { name: string; value: unknown }) => [m.name, m.value]),
    );
    expect(byName).toEqual({
      "luci/machine_tokend/version": "1.3",
      "luci/machine_tokend/service_version": "dev-token-server/0.1.0",
      "luci/machine_tokend/token_expiry_ts": 1700003600_000000,
      "luci/machine_tokend/last_update_ts": 1700000000_000000,
      "luci/machine_tokend/next_update_ts": 1700001800_000000,
      "luci/machine_tokend/update_outcome": "UPDATE_SUCCESS",
      "luci/machine_tokend/update_reason": "NEW_TOKEN",
      "luci/machine_tokend/duration_total_us": 51234,
      "luci/machine_tokend/duration_rpc_us": 40000,
    });
    expect(lines).toEqual([]);
  });

  it("takes the endpoint from the ts-mon config file, and only warns for endpoints it cannot serve", async () => {
    const config = join(dir, "ts-mon.json");
    const path = join(dir, "from-config.json");
    await writeFile(config, JSON.stringify({ endpoint: `file://${path}`, hostname: "cfg-host" }));
    await writeReportOutputs(report, options("-ts-mon-config-file", config), logger, () => new Date());
    expect(JSON.parse(await readFile(path, "utf8")).target.hostname).toBe("cfg-host");
    await writeReportOutputs(
      report,
      options("-ts-mon-endpoint", "https://prodxmon.example.com/api", "-ts-mon-config-file", config),
      logger,
      () => new Date(),
    );
    expect(lines).toEqual([
      'warning: ts-mon endpoint "https://prodxmon.example.com/api" is not supported (only file://PATH); metrics not sent',
    ]);
  });

  it("a bad ts-mon endpoint is one warning, and the status file is still written (it used to crash the run)", async () => {
    const status = join(dir, "status.json");
    const config = join(dir, "ts-mon.json");
    await writeFile(config, '{"endpoint": 5, "hostname": "root_only_secret"}');
    const cases: Array<[string[], string]> = [
      [
        ["-ts-mon-config-file", config],
        `warning: Failed to parse ts-mon config ${config} - "endpoint" is not a string; the file is ignored`,
      ],
      [
        ["-ts-mon-endpoint", "file:///tmp/a%2fb", "-ts-mon-config-file", join(dir, "x")],
        'warning: ts-mon endpoint "file:///tmp/a%2fb" names no file (File URL path must not include encoded / characters); metrics not written',
      ],
    ];
    for (const [flags, warning] of cases) {
      lines = [];
      await rm(status, { force: true });
      await writeReportOutputs(report, options("-status-file", status, ...flags), logger, () => new Date());
      expect(lines).toEqual([warning]);
      expect(JSON.parse(await readFile(status, "utf8")).update_outcome).toBe("UPDATE_SUCCESS");
    }
    // A config that is not JSON is not quoted either.
    await writeFile(config, "root:$6$SECRET:19000::::::");
    lines = [];
    await writeReportOutputs(report, options("-ts-mon-config-file", config), logger, () => new Date());
    expect(lines).toEqual([`warning: Failed to parse ts-mon config ${config} - not valid JSON`]);
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
