import { describe, expect, it } from "vitest";
import { type StatusReport, statusReportToJson } from "./status-report.js";

const full: StatusReport = {
  tokendVersion: "1.3",
  serviceVersion: "luci-token-server/12345-abcdef0",
  startedTs: 1422936306,
  totalDurationUs: 512345,
  rpcDurationUs: 498765,
  updateOutcome: "UPDATE_SUCCESS",
  updateReason: "TOKEN_EXPIRES",
  failureError: "boom",
  logDump: "\nDUMP LOG:\n  debug: RPC x\n",
  tokenLastUpdateTs: 1422936306,
  tokenNextUpdateTs: 1422938106,
  tokenExpiryTs: 1422939906,
};

describe("statusReportToJson", () => {
  it("writes every key in Go's order with a 2-space indent and no trailing newline", () => {
    expect(statusReportToJson(full)).toBe(
      [
        "{",
        '  "tokend_version": "1.3",',
        '  "service_version": "luci-token-server/12345-abcdef0",',
        '  "started_ts": 1422936306,',
        '  "total_duration_us": 512345,',
        '  "rpc_duration_us": 498765,',
        '  "update_outcome": "UPDATE_SUCCESS",',
        '  "update_reason": "TOKEN_EXPIRES",',
        '  "failure_error": "boom",',
        '  "log_dump": "\\nDUMP LOG:\\n  debug: RPC x\\n",',
        '  "token_last_update_ts": 1422936306,',
        '  "token_next_update_ts": 1422938106,',
        '  "token_expiry_ts": 1422939906',
        "}",
      ].join("\n"),
    );
  });

  it("omits empty and zero fields but always writes started_ts and log_dump", () => {
    const json = statusReportToJson({
      tokendVersion: "1.3",
      serviceVersion: "",
      startedTs: 0,
      totalDurationUs: 0,
      rpcDurationUs: 0,
      updateOutcome: undefined,
      failureError: "",
      logDump: "",
      tokenLastUpdateTs: 0,
      tokenNextUpdateTs: 0,
      tokenExpiryTs: 0,
    });
    expect(json).toBe('{\n  "tokend_version": "1.3",\n  "started_ts": 0,\n  "log_dump": ""\n}');
  });

  it("escapes <, > and & like Go's encoding/json", () => {
    const json = statusReportToJson({
      tokendVersion: "1.3",
      startedTs: 1,
      logDump: "",
      failureError: "<a> & b",
    });
    expect(json).toContain('"failure_error": "\\u003ca\\u003e \\u0026 b"');
    expect(json).not.toMatch(/[<>&]/);
    expect(JSON.parse(json).failure_error).toBe("<a> & b");
  });

  it("escapes U+2028 and U+2029 too", () => {
    const json = statusReportToJson({ tokendVersion: "1.3", startedTs: 1, logDump: "a\u2028b\u2029" });
    expect(json).toContain('"log_dump": "a\\u2028b\\u2029"');
  });

  it("parses back as JSON with the same values", () => {
    expect(JSON.parse(statusReportToJson(full))).toMatchObject({
      started_ts: 1422936306,
      rpc_duration_us: 498765,
    });
    expect(statusReportToJson(full).endsWith("\n")).toBe(false);
  });
});
