import { Code, ConnectError } from "@connectrpc/connect";
import type { StatusReport } from "@luci-machine-tokend/core";
import { errorMessage, formatGoDuration } from "@luci-machine-tokend/core/internal";
import { insertMetrics } from "@luci-machine-tokend/core/ts-mon";
import type { TsMonMonitor, TsMonSendDeps } from "./ts-mon-monitor.js";
import { tsMonPayload } from "./ts-mon-payload.js";

/**
 * Go ts-mon's gRPC monitor (monitor/grpc.go), for an `https://` endpoint: one Insert call to
 * ProdX (core's insertMetrics), logged at debug when sent (`tsmon: sent N cells in …`), a warning
 * for a non-OK response status, and a warning `tsmon: failed to send N cells - …` when it fails.
 *
 * @returns Go's error text when the call failed.
 */
export async function sendToProdx(
  monitor: Extract<TsMonMonitor, { kind: "prodx" }>,
  report: StatusReport,
  deps: TsMonSendDeps,
): Promise<{ error?: string }> {
  const payload = tsMonPayload(report, monitor.labels, deps.now());
  const cells = payload.metricsCollection[0]?.metricsDataSet.length ?? 0;
  const started = performance.now();
  try {
    const response = await insertMetrics(payload, {
      host: monitor.host,
      port: monitor.port,
      authorization: monitor.authorization,
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
    deps.logger.log(
      "debug",
      `tsmon: sent ${cells} cells in ${formatGoDuration(performance.now() - started)}`,
    );
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
