import type { StatusReport } from "@luci-machine-tokend/core";

/** One gauge of Go tokend's ts-mon metrics. */
export interface TokendMetric {
  /** ts-mon name, e.g. `luci/machine_tokend/update_outcome`. */
  name: string;
  description: string;
  /** `"us"` for microsecond values. */
  units?: string;
  value: string | number;
}

/**
 * The gauges Go tokend sets at the end of a run (luci-go status.go, SendMetrics), from its status
 * report: the version, outcome, reason and durations always; service version and token times when
 * known.
 */
export function tokendMetrics(report: StatusReport): TokendMetric[] {
  const metrics: TokendMetric[] = [
    {
      name: "luci/machine_tokend/version",
      description: "Major version of luci_machine_tokend executable",
      value: report.tokendVersion,
    },
  ];
  if (report.serviceVersion) {
    metrics.push({
      name: "luci/machine_tokend/service_version",
      description: "Identifier of the server version that generated the token",
      value: report.serviceVersion,
    });
  }
  const times: Array<[string, number | undefined, string]> = [
    ["token_expiry_ts", report.tokenExpiryTs, "Unix timestamp of when the token expires, in microsec"],
    [
      "last_update_ts",
      report.tokenLastUpdateTs,
      "Unix timestamp of when the token was successfully updated, in microsec",
    ],
    [
      "next_update_ts",
      report.tokenNextUpdateTs,
      "Unix timestamp of when the token must be updated next time, in microsec",
    ],
  ];
  for (const [name, seconds, description] of times) {
    if (seconds)
      metrics.push({
        name: `luci/machine_tokend/${name}`,
        description,
        units: "us",
        value: seconds * 1_000_000,
      });
  }
  metrics.push(
    {
      name: "luci/machine_tokend/update_outcome",
      description: "Overall outcome of the luci_machine_tokend invocation",
      value: report.updateOutcome ?? "",
    },
    {
      name: "luci/machine_tokend/update_reason",
      description: "Why the token was updated or 'TOKEN_IS_GOOD' if token is still valid",
      value: report.updateReason ?? "",
    },
    {
      name: "luci/machine_tokend/duration_total_us",
      description: "For how long luci_machine_tokend ran (including all local IO) in microsec",
      units: "us",
      value: report.totalDurationUs ?? 0,
    },
    {
      name: "luci/machine_tokend/duration_rpc_us",
      description: "For how long an RPC to backend ran in microsec",
      units: "us",
      value: report.rpcDurationUs ?? 0,
    },
  );
  return metrics;
}
