import { hostname as osHostname } from "node:os";
import { fileURLToPath } from "node:url";
import type { Logger, StatusReport } from "@luci-machine-tokend/core";
import {
  errorMessage,
  fsErrorReason,
  isNotFoundError,
  printableError,
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
 * Never fails the run and never throws: every problem is logged (as Go logs them), so the status
 * file is still written after it.
 */
export async function pushTsMonMetrics(
  report: StatusReport,
  options: TsMonOptions,
  logger: Logger,
): Promise<void> {
  try {
    await push(report, options, logger);
  } catch (err) {
    logger.log("warning", `ts-mon metrics not sent - ${printableError(err)}`);
  }
}

async function push(report: StatusReport, options: TsMonOptions, logger: Logger): Promise<void> {
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
  let path: string;
  try {
    path = endpoint.startsWith("file:///") ? fileURLToPath(endpoint) : endpoint.slice("file://".length);
  } catch (err) {
    // e.g. an encoded slash ("file:///tmp/a%2fb"): Node has no file path for it.
    logger.log(
      "warning",
      `ts-mon endpoint ${JSON.stringify(endpoint)} names no file (${printableError(err)}); metrics not written`,
    );
    return;
  }
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // V8's message would quote the file.
    logger.log("warning", `Failed to parse ts-mon config ${path} - not valid JSON`);
    return {};
  }
  const config = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  // As Go's decoder: these keys are strings (null leaves one unset); otherwise the file is not used.
  const bad = CONFIG_STRINGS.find((k) => config[k] != null && typeof config[k] !== "string");
  if (bad !== undefined) {
    logger.log(
      "warning",
      `Failed to parse ts-mon config ${path} - "${bad}" is not a string; the file is ignored`,
    );
    return {};
  }
  return config as TsMonConfig;
}

const CONFIG_STRINGS = ["endpoint", "hostname", "region"] as const;
