import type { Protocol } from "@luci-machine-tokend/core";
import { backendBaseUrl } from "@luci-machine-tokend/core/internal";
import { FLAGS, REQUIRED_FLAGS } from "./flags.js";
import { type FlagValues, flagDefault } from "./go-flags.js";
import { goQuote } from "./go-quote.js";
import type { ResolvedTokendOptions } from "./tokend-options.js";

/** ts-mon settings: how and where metrics are reported. */
export interface TsMonOptions {
  configFile: string;
  endpoint: string;
  credentials: string;
  actAs: string;
  flush: string;
  targetType: string;
  deviceHostname: string;
  deviceRegion: string;
  deviceRole: string;
  deviceNetwork: string;
  taskServiceName: string;
  taskJobName: string;
  taskRegion: string;
  taskHostname: string;
  taskNumber: number;
  autogenHostname: boolean;
}

/** The options of the command line: a run's, and what the CLI does around runs. */
export interface CliOptions extends ResolvedTokendOptions {
  tsMon: TsMonOptions;
  /** Only print what would be done. */
  dryRun: boolean;
  /** Keep running and refresh on schedule. */
  daemon: boolean;
  /** host:port of the daemon's /healthz and /metrics. */
  listenHealth?: string;
  /** Upper bound of the random wait before a one-shot run. */
  splayMs: number;
}

/** Options, or Go's complaint about the first missing required flag. */
export type CliOptionsResult = { options: CliOptions } | { error: string };

/** Checks required flags in Go's order and fills in the defaults of the flag table. */
export function cliOptionsFromFlags(values: FlagValues): CliOptionsResult {
  const get = (name: string) => {
    const spec = FLAGS.get(name);
    if (spec === undefined) throw new Error(`no flag -${name}`);
    return values.get(name) ?? flagDefault(spec);
  };
  const str = (name: string) => String(get(name));
  const optional = (name: string) => str(name) || undefined;
  const ms = (name: string) => Number(get(name));
  const bool = (name: string) => get(name) === true;
  for (const name of REQUIRED_FLAGS) {
    if (str(name) === "") return { error: `-${name} is required` };
  }
  try {
    backendBaseUrl(str("backend"));
  } catch (_err) {
    return { error: `invalid value ${goQuote(str("backend"))} for flag -backend: expecting host[:port]` };
  }
  const listen = optional("listen-health");
  if (listen && !bool("daemon")) return { error: "-listen-health needs -daemon" };
  if (listen && !/^(\[[^\]]+\]|[^:]+):\d+$/.test(listen)) {
    return { error: `invalid value ${goQuote(listen)} for flag -listen-health: expecting host:port` };
  }
  const copies = get("token-file-copy");
  return {
    options: {
      pkeyPem: str("pkey-pem"),
      certPem: str("cert-pem"),
      backend: str("backend"),
      tokenFile: str("token-file"),
      tokenFileCopies: Array.isArray(copies) ? copies : [],
      statusFile: optional("status-file"),
      timeoutMs: ms("timeout"),
      forceRefresh: bool("force-refresh"),
      protocol: str("protocol") as Protocol, // the parser took only PROTOCOLS
      caBundle: optional("ca-bundle"),
      pkeyPassphraseFile: optional("pkey-passphrase-file"),
      tokenFileMode: ms("token-file-mode"),
      prometheusTextfile: optional("prometheus-textfile"),
      dryRun: bool("dry-run"),
      exec: optional("exec"),
      execTimeoutMs: ms("exec-timeout"),
      daemon: bool("daemon"),
      listenHealth: listen,
      splayMs: ms("splay"),
      tsMon: {
        configFile: str("ts-mon-config-file"),
        endpoint: str("ts-mon-endpoint"),
        credentials: str("ts-mon-credentials"),
        actAs: str("ts-mon-act-as"),
        flush: str("ts-mon-flush"),
        targetType: str("ts-mon-target-type"),
        deviceHostname: str("ts-mon-device-hostname"),
        deviceRegion: str("ts-mon-device-region"),
        deviceRole: str("ts-mon-device-role"),
        deviceNetwork: str("ts-mon-device-network"),
        taskServiceName: str("ts-mon-task-service-name"),
        taskJobName: str("ts-mon-task-job-name"),
        taskRegion: str("ts-mon-task-region"),
        taskHostname: str("ts-mon-task-hostname"),
        // Go parses an int64 and ts-mon keeps int32(n): 2^32+1 reports 1, as the Go binary does.
        taskNumber: Number(BigInt.asIntN(32, get("ts-mon-task-number") as bigint)),
        autogenHostname: bool("ts-mon-autogen-hostname"),
      },
    },
  };
}
