import { hostname as osHostname } from "node:os";
import { fileURLToPath } from "node:url";
import type { Logger, StatusReport } from "@luci-machine-tokend/core";
import {
  errorMessage,
  fsErrorReason,
  isNotFoundError,
  readCapped,
  writeFileAtomic,
} from "@luci-machine-tokend/core/internal";
import type { TsMonOptions } from "../cli-options.js";
import { tokendMetrics } from "./tokend-metrics.js";

/** The keys of ts-mon's JSON config file that matter here. */
interface TsMonConfig {
  endpoint?: string;
  hostname?: string;
  region?: string;
}

/**
 * Reports the run's metrics the way Go tokend's ts-mon setup does: off unless an endpoint comes
 * from `-ts-mon-endpoint` or the config file; `file://PATH` writes a JSON dump of the gauges and
 * the task target; other endpoints (ProdX over https) are not implemented and only log a warning.
 * Never fails the run: every problem is logged.
 */
export async function pushTsMonMetrics(
  report: StatusReport,
  options: TsMonOptions,
  logger: Logger,
): Promise<void> {
  const config = await readTsMonConfig(options.configFile, logger);
  const endpoint = options.endpoint || config.endpoint || "";
  if (endpoint === "" || endpoint === "none") return;
  if (!endpoint.startsWith("file://")) {
    logger.log(
      "warning",
      `ts-mon endpoint ${JSON.stringify(endpoint)} is not supported (only file://PATH); metrics not sent`,
    );
    return;
  }
  const path = endpoint.startsWith("file:///") ? fileURLToPath(endpoint) : endpoint.slice("file://".length);
  if (path === "") {
    logger.log("warning", "ts-mon endpoint file:// names no file; metrics not written");
    return;
  }
  const dump = {
    target: tsMonTarget(options, config),
    metrics: tokendMetrics(report).map((m) => ({
      name: m.name,
      description: m.description,
      ...(m.units && { units: m.units }),
      value_type: typeof m.value === "number" ? "int64" : "string",
      value: m.value,
    })),
  };
  try {
    await writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(dump, null, 2)}\n`));
  } catch (err) {
    logger.log("error", `Failed to flush ts-mon metrics to ${path} - ${errorMessage(err)}`);
  }
}

/** The ts-mon task target: hostname and region default to the first two DNS labels of the host. */
export function tsMonTarget(options: TsMonOptions, config: TsMonConfig = {}) {
  const labels = osHostname().toLowerCase().split(".");
  return {
    type: options.targetType,
    service_name: options.taskServiceName,
    job_name: options.taskJobName,
    region: options.taskRegion || config.region || labels[1] || "unknown",
    hostname: options.taskHostname || config.hostname || labels[0] || "",
    task_num: options.taskNumber,
  };
}

async function readTsMonConfig(path: string, logger: Logger): Promise<TsMonConfig> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readCapped(path));
  } catch (err) {
    // A missing config file is normal: monitoring is simply off.
    if (!isNotFoundError(err))
      logger.log("warning", `Failed to read ts-mon config ${path} - ${fsErrorReason(err)}`);
    return {};
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as TsMonConfig) : {};
  } catch (err) {
    logger.log("warning", `Failed to parse ts-mon config ${path} - ${errorMessage(err)}`);
    return {};
  }
}
