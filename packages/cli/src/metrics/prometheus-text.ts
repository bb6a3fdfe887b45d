import type { StatusReport } from "@luci-machine-tokend/core";

/**
 * The run's gauges in Prometheus text format for node_exporter's textfile collector, named the
 * Prometheus way: `luci_machine_tokend_` prefix, seconds with `_timestamp_seconds`/`_seconds`,
 * outcome, reason and versions as labels of info-style gauges.
 */
export function prometheusText(report: StatusReport, finishedAt: Date): string {
  const out: string[] = [];
  const gauge = (name: string, help: string, samples: Array<[Record<string, string>, number]>) => {
    if (samples.length === 0) return;
    out.push(`# HELP luci_machine_tokend_${name} ${help}`, `# TYPE luci_machine_tokend_${name} gauge`);
    for (const [labels, value] of samples)
      out.push(`luci_machine_tokend_${name}${labelText(labels)} ${value}`);
  };
  const seconds = (value: number | undefined): Array<[Record<string, string>, number]> =>
    value ? [[{}, value]] : [];
  gauge("info", "Version of the tokend and of the token server that made the token.", [
    [{ version: report.tokendVersion, service_version: report.serviceVersion ?? "" }, 1],
  ]);
  gauge("update_outcome", "Outcome of the last run (the label); always 1.", [
    [{ outcome: report.updateOutcome ?? "" }, 1],
  ]);
  gauge("update_reason", "Why the token was or was not updated in the last run (the label); always 1.", [
    [{ reason: report.updateReason ?? "" }, 1],
  ]);
  gauge("token_expiry_timestamp_seconds", "Unix time when the token expires.", seconds(report.tokenExpiryTs));
  gauge(
    "last_update_timestamp_seconds",
    "Unix time when the token was last updated.",
    seconds(report.tokenLastUpdateTs),
  );
  gauge(
    "next_update_timestamp_seconds",
    "Unix time when the token must be updated next.",
    seconds(report.tokenNextUpdateTs),
  );
  gauge("duration_total_seconds", "How long the last run took, local IO included.", [
    [{}, (report.totalDurationUs ?? 0) / 1e6],
  ]);
  gauge("duration_rpc_seconds", "How long the MintMachineToken RPC took, retries included.", [
    [{}, (report.rpcDurationUs ?? 0) / 1e6],
  ]);
  gauge("last_run_timestamp_seconds", "Unix time when the last run finished.", [
    [{}, finishedAt.getTime() / 1000],
  ]);
  gauge("last_run_success", "1 if the last run ended with the token good or refreshed, else 0.", [
    [{}, report.updateOutcome === "TOKEN_IS_GOOD" || report.updateOutcome === "UPDATE_SUCCESS" ? 1 : 0],
  ]);
  return `${out.join("\n")}\n`;
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`,
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}
