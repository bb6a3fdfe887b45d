import type { Logger, StatusReport } from "@luci-machine-tokend/core";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import type { TsMonOptions } from "../cli-options.js";
import { loadTsMonConfig } from "./ts-mon-config.js";
import type { TsMonInitDeps } from "./ts-mon-init-deps.js";
import type { TsMonMonitor, TsMonSendDeps } from "./ts-mon-monitor.js";

export type { TsMonAuth, TsMonAuthSettings, TsMonInitDeps } from "./ts-mon-init-deps.js";
export type { TsMonMonitor, TsMonSendDeps };

/**
 * Sets ts-mon up before a run, as Go's tsmon.InitializeFromFlags: reads the config file (a
 * missing one is fine), takes the endpoint, credentials and act-as from the flags over the file,
 * and makes the monitor and the target. Logs as Go: info when no endpoint is set (or `none`), an
 * error `Failed to initialize tsmon - …` for anything wrong (the config file, the URL, the
 * credentials, the target), and then ts-mon stays off for the run. Never throws.
 *
 * @returns the monitor, or undefined when metrics are not sent.
 */
export async function initTsMon(
  options: TsMonOptions,
  logger: Logger,
  deps: TsMonInitDeps = {},
): Promise<TsMonMonitor | undefined> {
  const made = await makeMonitor(options, logger, deps);
  if (made !== undefined && "error" in made) {
    logger.log("error", `Failed to initialize tsmon - ${made.error}`);
    return undefined;
  }
  return made?.monitor;
}

async function makeMonitor(
  options: TsMonOptions,
  logger: Logger,
  deps: TsMonInitDeps,
): Promise<{ monitor: TsMonMonitor } | { error: string } | undefined> {
  const loaded = await loadTsMonConfig(options.configFile);
  if ("error" in loaded)
    return { error: `failed to load config file at [${options.configFile}]: ${loaded.error}` };
  const config = loaded.config;
  const endpoint = options.endpoint || config.endpoint;
  if (endpoint === "") {
    logger.log("info", "tsmon is disabled because no endpoint is configured");
    return undefined;
  }
  if (endpoint.toLowerCase() === "none") {
    logger.log("info", "tsmon is explicitly disabled");
    return undefined;
  }
  // The endpoint's monitor, target and credentials in their own chunk: most runs send no metrics,
  // and the token-is-good run is every machine's cost every ten minutes (BENCHMARKS.md).
  const { monitorFor } = await import("./ts-mon-setup.js");
  return monitorFor(endpoint, options, config, logger, deps);
}

/**
 * Sends a run's metrics after it, as Go's deferred SendMetrics + Flush: nothing when ts-mon is
 * off; otherwise one payload, with its own deadline (10 s, not the run's). A failure is logged
 * (`Failed to send tsmon metrics - …` at error level, after the monitor's own line) and never
 * changes the run's outcome. Loads protobuf-es and Connect only here. Never throws.
 */
export async function flushTsMon(
  monitor: TsMonMonitor | undefined,
  report: StatusReport,
  deps: TsMonSendDeps,
): Promise<void> {
  if (monitor === undefined) return;
  try {
    // Each monitor in its own chunk: a file:// dump loads no Connect.
    const { error } =
      monitor.kind === "file"
        ? await (await import("./ts-mon-file-monitor.js")).sendToFile(monitor, report, deps)
        : await (await import("./ts-mon-prodx-monitor.js")).sendToProdx(monitor, report, deps);
    if (error !== undefined) deps.logger.log("error", `Failed to send tsmon metrics - ${error}`);
  } catch (err) {
    deps.logger.log("error", `Failed to send tsmon metrics - ${errorMessage(err)}`);
  }
}
