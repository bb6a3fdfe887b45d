import { readFileSync } from "node:fs";
import type { StatusReport } from "@luci-machine-tokend/core";
import { goProtoText, MetricsPayloadSchema } from "@luci-machine-tokend/core/ts-mon";
import { describe, expect, it } from "vitest";
import { cliOptionsFromFlags } from "../cli-options.js";
import { parseGoFlags } from "../go-flags.js";
import { tsMonPayload } from "./ts-mon-payload.js";
import { tsMonRootLabels } from "./ts-mon-target.js";

/**
 * What the Go binary appended to `-ts-mon-endpoint file://…` after minting a token from a server
 * whose service_version was `dev/1"a\\b<newline>c<tab>é`, with `-ts-mon-task-hostname` `h"o\st<newline>x`,
 * `-ts-mon-task-number -5`, on a host named `vm`.
 */
const GO_TEXT = readFileSync(new URL("testdata/go-ts-mon-payload.txt", import.meta.url), "utf8");

const REPORT: StatusReport = {
  tokendVersion: "1.3",
  startedTs: 1_796_677_632,
  serviceVersion: 'dev/1"a\\\\b\nc\té',
  updateOutcome: "UPDATE_SUCCESS",
  updateReason: "NEW_TOKEN",
  tokenExpiryTs: 1_796_681_232,
  tokenLastUpdateTs: 1_796_677_632,
  tokenNextUpdateTs: 1_796_679_432,
  totalDurationUs: 195_152,
  rpcDurationUs: 192_712,
  logDump: "",
};

function flags(...args: string[]) {
  const parsed = parseGoFlags([
    "-pkey-pem",
    "k",
    "-cert-pem",
    "c",
    "-backend",
    "b",
    "-token-file",
    "t",
    ...args,
  ]);
  if (parsed.kind !== "values") throw new Error("bad flags");
  const checked = cliOptionsFromFlags(parsed.values);
  if ("error" in checked) throw new Error(checked.error);
  return checked.options.tsMon;
}

describe("the ts-mon payload in Go's text format", () => {
  it("is byte for byte what the Go binary wrote (data sets in Go's order of that run)", () => {
    const target = tsMonRootLabels(
      flags("-ts-mon-task-hostname", 'h"o\\st\nx', "-ts-mon-task-number", "-5"),
      { endpoint: "", credentials: "", actAs: "", autogenHostname: false, hostname: "", region: "" },
      "vm",
    );
    if ("error" in target) throw new Error(target.error);
    const payload = tsMonPayload(REPORT, target.labels, new Date(0));
    const collection = payload.metricsCollection[0];
    if (collection === undefined) throw new Error("no collection");
    // Go's clock has nanoseconds, and Go walks a map: set both as that run had them.
    const goOrder = [...GO_TEXT.matchAll(/metric_name: "([^"]+)"/g)].map((m) => m[1]);
    collection.metricsDataSet.sort((a, b) => goOrder.indexOf(a.metricName) - goOrder.indexOf(b.metricName));
    for (const dataSet of collection.metricsDataSet) {
      for (const point of dataSet.data) {
        for (const ts of [point.startTimestamp, point.endTimestamp]) {
          if (ts) Object.assign(ts, { seconds: 1_796_677_632n, nanos: 905_497_637 });
        }
      }
    }
    expect(collection.metricsDataSet.map((d) => d.metricName)).toEqual(goOrder);
    expect(goProtoText(MetricsPayloadSchema, payload)).toBe(GO_TEXT);
  });

  it("leaves out the gauges Go leaves out: no service version or token times when unknown", () => {
    const payload = tsMonPayload(
      {
        tokendVersion: "1.3",
        startedTs: 1,
        updateOutcome: "CANT_READ_KEY",
        updateReason: "NEW_TOKEN",
        logDump: "",
      },
      [],
      new Date(1_000),
    );
    expect(payload.metricsCollection[0]?.metricsDataSet.map((d) => d.metricName)).toEqual([
      "/chrome/infra/presence/up",
      "/chrome/infra/luci/machine_tokend/version",
      "/chrome/infra/luci/machine_tokend/update_outcome",
      "/chrome/infra/luci/machine_tokend/update_reason",
      "/chrome/infra/luci/machine_tokend/duration_total_us",
      "/chrome/infra/luci/machine_tokend/duration_rpc_us",
    ]);
  });
});
