import { Code, ConnectError } from "@connectrpc/connect";
import type { StatusReport } from "@luci-machine-tokend/core";
import { appendToFile, errnoCode, errorMessage, formatGoDuration } from "@luci-machine-tokend/core/internal";
import { goProtoText, insertMetrics, MetricsPayloadSchema } from "@luci-machine-tokend/core/ts-mon";
import { goPathError } from "./go-path-error.js";
import type { TsMonMonitor, TsMonSendDeps } from "./ts-mon-monitor.js";
import { tsMonPayload } from "./ts-mon-payload.js";

/**
 * Sends the report's metrics to the monitor as Go's ts-mon monitors do, logging as they log.
 * `file://`: the payload in Go's text format, logged at info (`Sending ts_mon metrics:` and the
 * text) and appended to the file if the URL has a path. ProdX: one Insert call, logged at debug
 * when sent (`tsmon: sent N cells in …`), as a warning when refused. Failures are returned as
 * Go's error text, for `Failed to send tsmon metrics - …`.
 */
export async function sendTsMon(
  monitor: TsMonMonitor,
  report: StatusReport,
  deps: TsMonSendDeps,
): Promise<{ error?: string }> {
  const payload = tsMonPayload(report, monitor.labels, deps.now());
  const cells = payload.metricsCollection[0]?.metricsDataSet.length ?? 0;
  if (monitor.kind === "file") {
    const text = goProtoText(MetricsPayloadSchema, payload);
    // Every string in the text is escaped to printable ASCII, so it may go out as it is.
    if (deps.writeRaw) {
      deps.logger.log("info", "Sending ts_mon metrics:");
      deps.writeRaw(text);
    } else {
      deps.logger.log("info", `Sending ts_mon metrics:\n${text}`);
    }
    if (monitor.path === "") return {};
    try {
      await appendToFile(monitor.path, new TextEncoder().encode(text), 0o664);
    } catch (err) {
      const writing = (err as NodeJS.ErrnoException).syscall === "write" && errnoCode(err) !== undefined;
      const error = goPathError(writing ? "write" : "open", monitor.path, err);
      deps.logger.log(
        "error",
        writing
          ? `Failed to write to the file ${monitor.path}: ${error}`
          : `Failed to open file ${monitor.path}: ${error}`,
      );
      return { error };
    }
    return {};
  }
  const started = Date.now();
  try {
    const response = await insertMetrics(payload, {
      host: monitor.host,
      port: monitor.port,
      accessToken: monitor.accessToken,
      timeoutMs: deps.timeoutMs,
      env: deps.env,
      logger: deps.logger,
    });
    const status = response.responseStatus;
    if (status !== undefined && status.code !== 0) {
      deps.logger.log(
        "warning",
        `tsmon: got non-OK response status - ${goRpcErrorText(status.code, status.message)}`,
      );
    }
    deps.logger.log("debug", `tsmon: sent ${cells} cells in ${formatGoDuration(Date.now() - started)}`);
    return {};
  } catch (err) {
    const error = err instanceof ConnectError ? goRpcErrorText(err.code, err.rawMessage) : errorMessage(err);
    deps.logger.log("warning", `tsmon: failed to send ${cells} cells - ${error}`);
    return { error };
  }
}

/** A gRPC status as grpc-go's error prints it: `rpc error: code = Unavailable desc = …`. */
export function goRpcErrorText(code: number, message: string): string {
  // Connect's code names are grpc-go's (codes.Code.String()).
  const name = Code[code] ?? `Code(${code})`;
  return `rpc error: code = ${name} desc = ${message}`;
}
