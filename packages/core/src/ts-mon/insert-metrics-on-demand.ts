import type { MonitoringInsertResponse } from "../gen/google/internal/prodx/mon/v1/service_pb.js";
import type { MetricsPayload } from "../gen/ts_mon/proto/metrics_pb.js";
import type { InsertMetricsOptions } from "./insert-metrics.js";

/**
 * Pushes one payload to ProdX over gRPC (see ./insert-metrics.ts for what it does), loading
 * Connect on the first call only: a program that imports `core/ts-mon` for the text format (a
 * `file://` endpoint) does not pay for the gRPC client. A dynamic import stays a chunk boundary
 * in every bundle built from core (the CLI's too).
 *
 * @returns the service's answer; its `responseStatus` may still say the payload was refused.
 * @throws ConnectError for a failed call; a failed token is `Unauthenticated`.
 */
export async function insertMetrics(
  payload: MetricsPayload,
  options: InsertMetricsOptions,
): Promise<MonitoringInsertResponse> {
  const { insertMetrics: insert } = await import("./insert-metrics.js");
  return insert(payload, options);
}
