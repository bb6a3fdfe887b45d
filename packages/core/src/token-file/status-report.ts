import { goJsonStringify } from "./go-json.js";
import type { UpdateOutcome, UpdateReason } from "./outcome.js";

/**
 * What a tokend run reports: the content of Go tokend's status file. Times are Unix seconds,
 * durations microseconds. Optional fields are left out of the JSON when unset or zero, as in Go.
 */
export interface StatusReport {
  /** Version of the tokend (`"1.3"`). */
  tokendVersion: string;
  /** The token server's `<app-id>/<version>`, when an answer carried it. */
  serviceVersion?: string;
  /** When the run started. */
  startedTs: number;
  /** Wall time of the whole run. */
  totalDurationUs?: number;
  /** Wall time of the MintMachineToken call, retries included; absent when no RPC was made. */
  rpcDurationUs?: number;
  /** How the run ended. */
  updateOutcome?: UpdateOutcome;
  /** Why the token was or was not refreshed. */
  updateReason?: UpdateReason;
  /** Text of the error that failed the run. */
  failureError?: string;
  /** The run's log, `"\nDUMP LOG:\n"` then one `  <level>: <message>` line each; `""` if empty. */
  logDump: string;
  /** `last_update` of the token now on disk (the new one, or the old one if none was saved). */
  tokenLastUpdateTs?: number;
  /** `next_update` of that token. */
  tokenNextUpdateTs?: number;
  /** `expiry` of that token. */
  tokenExpiryTs?: number;
}

/**
 * Serializes a status report like Go's encoding/json.MarshalIndent of tokend's StatusReport: keys
 * in Go's order, 2-space indent, omitted when empty or zero (`log_dump` and `started_ts` never),
 * `<`, `>`, `&`, U+2028 and U+2029 escaped, no trailing newline.
 */
export function statusReportToJson(report: StatusReport): string {
  const ordered: Record<string, string | number> = { tokend_version: report.tokendVersion };
  const put = (key: string, value: string | number | undefined) => {
    if (value !== undefined && value !== "" && value !== 0) ordered[key] = value;
  };
  put("service_version", report.serviceVersion);
  ordered.started_ts = report.startedTs;
  put("total_duration_us", report.totalDurationUs);
  put("rpc_duration_us", report.rpcDurationUs);
  put("update_outcome", report.updateOutcome);
  put("update_reason", report.updateReason);
  put("failure_error", report.failureError);
  ordered.log_dump = report.logDump;
  put("token_last_update_ts", report.tokenLastUpdateTs);
  put("token_next_update_ts", report.tokenNextUpdateTs);
  put("token_expiry_ts", report.tokenExpiryTs);
  return goJsonStringify(ordered, 2);
}
