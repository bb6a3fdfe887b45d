import type { AtomicWriteFs, Logger, StatusReport } from "@luci-machine-tokend/core";
import { errorMessage, statusReportToJson, writeFileAtomic } from "@luci-machine-tokend/core/internal";
import type { CliOptions } from "./cli-options.js";
import { flushTsMon, type TsMonMonitor } from "./metrics/ts-mon.js";
import type { TsMonSendDeps } from "./metrics/ts-mon-monitor.js";

const encoder = new TextEncoder();

/** How a finished run's outputs are written: the ts-mon monitor set up before it, and its deps. */
export interface ReportOutputDeps extends Omit<TsMonSendDeps, "logger" | "now"> {
  /** From initTsMon before the run; undefined when ts-mon is off. */
  tsMon?: TsMonMonitor;
  /** File operations of the atomic writes; default node:fs. */
  atomicFs?: Partial<AtomicWriteFs>;
}

/**
 * Writes what a finished run reports: ts-mon metrics (Go's deferred SendMetrics), then the
 * Prometheus textfile and the status file, each atomically. Like Go's deferred reporting,
 * failures are logged and never change the exit code.
 */
export async function writeReportOutputs(
  report: StatusReport,
  options: CliOptions,
  logger: Logger,
  now: () => Date,
  deps: ReportOutputDeps = {},
): Promise<void> {
  const { tsMon, atomicFs, ...sendDeps } = deps;
  await flushTsMon(tsMon, report, { ...sendDeps, logger, now });
  const write = (path: string, text: string, what: string) => writeOrLog(path, text, what, logger, atomicFs);
  if (options.prometheusTextfile) {
    // Loaded only for runs that write it (start-up cost: BENCHMARKS.md).
    const { prometheusText } = await import("./metrics/prometheus-text.js");
    await write(options.prometheusTextfile, prometheusText(report, now()), "Prometheus textfile");
  }
  if (options.statusFile) await write(options.statusFile, statusReportToJson(report), "status file");
}

async function writeOrLog(
  path: string,
  text: string,
  what: string,
  logger: Logger,
  fs: Partial<AtomicWriteFs> | undefined,
): Promise<void> {
  try {
    await writeFileAtomic(path, encoder.encode(text), { fs });
  } catch (err) {
    logger.log("error", `Failed to write the ${what} ${path} - ${errorMessage(err)}`);
  }
}
