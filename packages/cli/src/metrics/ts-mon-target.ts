import type { TsMonOptions } from "../cli-options.js";
import type { TsMonConfig } from "./ts-mon-config.js";

/** One root label of a ts-mon target: ts-mon sends strings, int64s and bools. */
export type RootLabel = [key: string, value: string | bigint | boolean];

/** Labels ProdX sets itself; ts-mon sends them too, so that no data is lost if it stops. */
const PROXY_LABELS: RootLabel[] = [
  ["proxy_environment", "pa"],
  ["acquisition_name", "mon-chrome-infra"],
  ["proxy_zone", "atl"],
];

/**
 * The root labels of the target the metrics describe, as Go's tsmon builds them
 * (InitializeFromFlags, target.Flags.SetDefaultsFromHostname, target.NewFromFlags, PopulateProto),
 * ending with `is_tsmon` as its serializer adds it. Which value wins, first to last: the flag
 * (`-ts-mon-task-hostname`, `-ts-mon-device-region`, …), the config file's `hostname`/`region`,
 * then the OS host name: its first DNS label (lower case) is the host, its second the region
 * (`unknown` for a name without a dot). `-ts-mon-autogen-hostname` or the file's
 * `autogen_hostname` prefixes the host with `autogen:`. The device target's network is the digits
 * of a Chrome-infra bot name (`vm123-m4` → `4`).
 *
 * @returns the labels, or Go's error for a task target without a service or job name.
 */
export function tsMonRootLabels(
  flags: TsMonOptions,
  config: TsMonConfig,
  osHostname: string,
): { labels: RootLabel[] } | { error: string } {
  const sys = systemNames(osHostname);
  const autogen = (name: string) =>
    flags.autogenHostname || config.autogenHostname ? `autogen:${name}` : name;
  if (flags.targetType === "task") {
    if (flags.taskServiceName === "")
      return { error: "--ts-mon-task-service-name must be provided when using --ts-mon-target-type=task" };
    if (flags.taskJobName === "")
      return { error: "--ts-mon-task-job-name must be provided when using --ts-mon-target-type=task" };
    return {
      labels: [
        ...PROXY_LABELS,
        ["service_name", flags.taskServiceName],
        ["job_name", flags.taskJobName],
        ["data_center", flags.taskRegion || config.region || sys.region],
        ["host_name", autogen(flags.taskHostname || config.hostname || sys.hostname)],
        ["task_num", BigInt(flags.taskNumber)],
        ["is_tsmon", true],
      ],
    };
  }
  return {
    labels: [
      ...PROXY_LABELS,
      ["pop", ""],
      ["alertable", true],
      ["realm", "ACQ_CHROME"],
      ["asn", 0n],
      ["metro", flags.deviceRegion || config.region || sys.region],
      ["role", flags.deviceRole],
      ["hostname", autogen(flags.deviceHostname || config.hostname || sys.hostname)],
      ["vendor", ""],
      ["hostgroup", flags.deviceNetwork || chromeInfraNetwork(sys.hostname)],
      ["is_tsmon", true],
    ],
  };
}

/** Host and region from the OS host name, as ts-mon's getFQDN (`unknown` for what is missing). */
function systemNames(osHostname: string): { hostname: string; region: string } {
  if (osHostname === "") return { hostname: "unknown", region: "unknown" };
  const parts = osHostname.split(".");
  if (parts.length > 1)
    return { hostname: (parts[0] as string).toLowerCase(), region: (parts[1] as string).toLowerCase() };
  return { hostname: osHostname.toLowerCase(), region: "unknown" };
}

/** The network number in a Chrome-infra bot's name (ts-mon's getNetwork), or "". */
function chromeInfraNetwork(hostname: string): string {
  return /^([\w-]*?-[acm]|master)(\d+)a?$/.exec(hostname)?.[2] ?? "";
}
