/**
 * LUCI's ts-mon monitoring: its protos as buf generated them (names and numbers are LUCI's:
 * `MetricsPayload` and what it holds, the ProdX `MonitoringService` and its Insert messages,
 * `google.rpc.Status`), the protobuf text format Go's ts-mon writes to `file://` endpoints, and the
 * gRPC push to ProdX. Importing this entry loads protobuf-es; Connect is loaded by the first push.
 * The CLI loads it only when a ts-mon endpoint is configured.
 *
 * @module @luci-machine-tokend/core/ts-mon
 */

export * from "./gen/google/internal/prodx/mon/v1/service_pb.js";
export * from "./gen/google/rpc/status_pb.js";
export * from "./gen/ts_mon/proto/metrics_pb.js";
export { goFloatText, goProtoText, goQuotedBytes } from "./ts-mon/go-proto-text.js";
export type { AuthorizationFn, InsertMetricsOptions } from "./ts-mon/insert-metrics.js";
export { insertMetrics } from "./ts-mon/insert-metrics-on-demand.js";
