import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { StatusReport } from "@luci-machine-tokend/core";
import {
  type MetricsDataSet,
  MetricsDataSetSchema,
  type MetricsPayload,
  MetricsPayloadSchema,
  StreamKind,
  ValueType,
} from "@luci-machine-tokend/core/ts-mon";
import { tokendMetrics } from "./tokend-metrics.js";
import type { RootLabel } from "./ts-mon-target.js";

/** What ts-mon puts before a metric name that does not start with `/`. */
export const METRIC_NAME_PREFIX = "/chrome/infra/";

/**
 * The payload Go tokend's flush sends (monitor/serialize.go SerializeCells): one collection for
 * the target, `/chrome/infra/presence/up` (true, set by ts-mon's standard callback) and the
 * tokend gauges of the report (status.go SendMetrics), each a GAUGE of its value type with its
 * description, `annotations {unit: "us", timestamp: true}` for the microsecond values, and one
 * point whose start and end are `now`. Go sends the data sets in a random order (it walks a Go
 * map); ours is fixed: presence first, then the gauges in the order Go sets them.
 */
export function tsMonPayload(report: StatusReport, labels: readonly RootLabel[], now: Date): MetricsPayload {
  const at = timestampFromDate(now);
  const dataSet = (
    name: string,
    description: string,
    value: string | number | boolean,
    unit?: string,
  ): MetricsDataSet =>
    create(MetricsDataSetSchema, {
      metricName: name.startsWith("/") ? name : `${METRIC_NAME_PREFIX}${name}`,
      streamKind: StreamKind.GAUGE,
      valueType:
        typeof value === "boolean"
          ? ValueType.BOOL
          : typeof value === "number"
            ? ValueType.INT64
            : ValueType.STRING,
      description,
      // Every unit tokend uses is a time unit, so Go sets timestamp: true.
      ...(unit !== undefined && { annotations: { unit, timestamp: true } }),
      data: [
        {
          value:
            typeof value === "boolean"
              ? { case: "boolValue", value }
              : typeof value === "number"
                ? { case: "int64Value", value: BigInt(value) }
                : { case: "stringValue", value },
          startTimestamp: at,
          endTimestamp: at,
        },
      ],
    });
  return create(MetricsPayloadSchema, {
    metricsCollection: [
      {
        metricsDataSet: [
          dataSet("presence/up", "Set to True when the program is running, missing otherwise.", true),
          ...tokendMetrics(report).map((m) => dataSet(m.name, m.description, m.value, m.units)),
        ],
        rootLabels: labels.map(([key, value]) => ({
          key,
          value:
            typeof value === "boolean"
              ? { case: "boolValue" as const, value }
              : typeof value === "bigint"
                ? { case: "int64Value" as const, value }
                : { case: "stringValue" as const, value },
        })),
      },
    ],
  });
}
