import type { Logger, StatusReport } from "@luci-machine-tokend/core";
import { errorMessage, statusReportToJson, writeFileAtomic } from "@luci-machine-tokend/core/internal";
import type { CliOptions } from "./cli-options.js";
import { prometheusText } from "./metrics/prometheus-text.js";
import { pushTsMonMetrics } from "./metrics/ts-mon.js";

const encoder = new TextEncoder();

/**
 * Writes what a finished run reports: ts-mon metrics, the Prometheus textfile and the status file,
 * each atomically. Like Go's deferred reporting, failures are logged and never change the exit code.
 */
export async function writeReportOutputs(
  report: StatusReport,
  options: CliOptions,
  logger: Logger,
  now: () => Date,
): Promise<void> {
  await pushTsMonMetrics(report, options.tsMon, logger);
  if (options.prometheusTextfile) {
    await writeOrLog(
      options.prometheusTextfile,
      prometheusText(report, now()),
      "Prometheus textfile",
      logger,
    );
  }
  if (options.statusFile) {
    await writeOrLog(options.statusFile, statusReportToJson(report), "status file", logger);
  }
}

async function writeOrLog(path: string, text: string, what: string, logger: Logger): Promise<void> {
  try {
    await writeFileAtomic(path, encoder.encode(text));
  } catch (err) {
    logger.log("error", `Failed to write the ${what} ${path} - ${errorMessage(err)}`);
  }
}
