import { toJson } from "@bufbuild/protobuf";
import { type MetricsPayload, MetricsPayloadSchema } from "@luci-machine-tokend/core/ts-mon";

/**
 * ts-mon's text-format dump (what a `file://` endpoint receives), made comparable between runs and
 * implementations: one entry per payload, each data set's block with its times, durations and
 * token times masked (`N`; `nanos` lines dropped, as a whole millisecond has none), and the data
 * sets sorted (Go sends them in a random order).
 */
export function comparableTsMonText(text: string): string[] {
  const payloads = text.split(/^(?=metrics_collection: <$)/m).filter((p) => p !== "");
  return payloads.map((payload) => {
    const lines = payload.split("\n").filter((l) => !/^\s+nanos: \d+$/.test(l));
    const dataSets: string[] = [];
    const rest: string[] = [];
    let current: string[] | undefined;
    for (const line of lines) {
      if (line === "  metrics_data_set: <") current = [];
      if (current) {
        current.push(line.replace(/^(\s+(?:seconds|int64_value)): -?\d+$/, "$1: N"));
        if (line === "  >") {
          dataSets.push(current.join("\n"));
          current = undefined;
        }
      } else {
        rest.push(line);
      }
    }
    return [...dataSets.sort(), ...rest].join("\n");
  });
}

/**
 * A decoded payload (from the fake ProdX) made comparable the same way: as proto3 JSON, data sets
 * sorted by name, each point's int64 value (times and durations) and timestamps masked.
 */
export function comparableTsMonPayload(payload: MetricsPayload | undefined): unknown {
  if (payload === undefined) return undefined;
  const json = toJson(MetricsPayloadSchema, payload) as {
    metricsCollection?: Array<{
      metricsDataSet?: Array<{ metricName?: string; data?: Array<Record<string, unknown>> }>;
    }>;
  };
  for (const collection of json.metricsCollection ?? []) {
    collection.metricsDataSet?.sort((a, b) => (a.metricName ?? "").localeCompare(b.metricName ?? ""));
    for (const dataSet of collection.metricsDataSet ?? []) {
      for (const point of dataSet.data ?? []) {
        for (const key of ["int64Value", "startTimestamp", "endTimestamp"])
          if (key in point) point[key] = "N";
      }
    }
  }
  return json;
}
