import { describe, expect, it } from "vitest";
import { cliOptionsFromFlags } from "./cli-options.js";
import { parseGoFlags } from "./go-flags.js";

const REQUIRED = ["-pkey-pem", "k", "-cert-pem", "c", "-backend", "b:1", "-token-file", "t"];

function options(extra: string[]) {
  const parsed = parseGoFlags([...REQUIRED, ...extra]);
  if (parsed.kind !== "values") throw new Error(JSON.stringify(parsed));
  const checked = cliOptionsFromFlags(parsed.values);
  if ("error" in checked) throw new Error(checked.error);
  return checked.options;
}

describe("cliOptionsFromFlags", () => {
  it("fills in the defaults of the flag table", () => {
    expect(options([])).toMatchObject({
      timeoutMs: 60_000,
      execTimeoutMs: 30_000,
      splayMs: 0,
      protocol: "prpc",
      tokenFileMode: 0o644,
      tokenFileCopies: [],
      statusFile: undefined,
      forceRefresh: false,
      tsMon: {
        flush: "manual",
        targetType: "task",
        taskServiceName: "luci_machine_tokend",
        taskJobName: "default",
        taskNumber: 0,
        endpoint: "",
      },
    });
  });

  it("keeps -timeout 0 and negative timeouts: Go runs with a deadline already past", () => {
    expect(options(["-timeout", "0"]).timeoutMs).toBe(0);
    expect(options(["-timeout", "-1s"]).timeoutMs).toBe(-1000);
  });

  it("reports -ts-mon-task-number as ts-mon's int32, as the Go binary's metrics do", () => {
    expect(options(["-ts-mon-task-number", "0x10"]).tsMon.taskNumber).toBe(16);
    expect(options(["-ts-mon-task-number", "4294967297"]).tsMon.taskNumber).toBe(1);
    expect(options(["-ts-mon-task-number", "9223372036854775807"]).tsMon.taskNumber).toBe(-1);
  });

  it("names the first missing required flag in Go's order, counting an empty value as missing", () => {
    const parsed = parseGoFlags(["-pkey-pem=", "-cert-pem", "c"]);
    if (parsed.kind !== "values") throw new Error("parse");
    expect(cliOptionsFromFlags(parsed.values)).toEqual({ error: "-pkey-pem is required" });
  });
});
