import { backendBaseUrl, PROTOCOLS, type Protocol } from "@luci-machine-tokend/core/offline";
import { REQUIRED_FLAGS } from "./flags.js";
import type { FlagValues } from "./go-flags.js";

/** ts-mon settings: how and where metrics are reported. */
export interface TsMonOptions {
  configFile: string;
  endpoint: string;
  credentials: string;
  actAs: string;
  flush: string;
  targetType: string;
  taskServiceName: string;
  taskJobName: string;
  taskRegion: string;
  taskHostname: string;
  taskNumber: number;
  autogenHostname: boolean;
}

/** Everything a tokend run needs to know, after the flags are checked. */
export interface TokendOptions {
  pkeyPem: string;
  certPem: string;
  backend: string;
  tokenFile: string;
  tokenFileCopies: string[];
  statusFile?: string;
  /** Overall deadline of the run; also the cap on one retry delay. */
  timeoutMs: number;
  forceRefresh: boolean;
  protocol: Protocol;
  caBundle?: string;
  pkeyPassphraseFile?: string;
  /** Mode of token files before the umask. */
  tokenFileMode: number;
  prometheusTextfile?: string;
  tsMon: TsMonOptions;
  /** Only print what would be done. */
  dryRun: boolean;
  /** Shell command run after the token changed. */
  exec?: string;
  execTimeoutMs: number;
  /** Keep running and refresh on schedule. */
  daemon: boolean;
  /** host:port of the daemon's /healthz and /metrics. */
  listenHealth?: string;
  /** Upper bound of the random wait before a one-shot run. */
  splayMs: number;
}

/** Options, or Go's complaint about the first missing required flag. */
export type TokendOptionsResult = { options: TokendOptions } | { error: string };

/** Checks required flags in Go's order and fills in defaults. */
export function tokendOptionsFromFlags(values: FlagValues): TokendOptionsResult {
  const str = (name: string) => values.get(name) as string | undefined;
  for (const name of REQUIRED_FLAGS) {
    if (!str(name)) return { error: `-${name} is required` };
  }
  try {
    backendBaseUrl(str("backend") ?? "");
  } catch (_err) {
    return { error: `invalid value "${str("backend")}" for flag -backend: expecting host[:port]` };
  }
  const listen = str("listen-health");
  if (listen && values.get("daemon") !== true) return { error: "-listen-health needs -daemon" };
  if (listen && !/^(\[[^\]]+\]|[^:]+):\d+$/.test(listen)) {
    return { error: `invalid value "${listen}" for flag -listen-health: expecting host:port` };
  }
  const protocol = str("protocol") ?? "prpc";
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    return {
      error: `invalid value "${protocol}" for flag -protocol: expecting one of ${PROTOCOLS.join(", ")}`,
    };
  }
  const defaultConfig =
    process.platform === "win32" ? "C:\\chrome-infra\\ts-mon.json" : "/etc/chrome-infra/ts-mon.json";
  return {
    options: {
      pkeyPem: str("pkey-pem") ?? "",
      certPem: str("cert-pem") ?? "",
      backend: str("backend") ?? "",
      tokenFile: str("token-file") ?? "",
      tokenFileCopies: (values.get("token-file-copy") as string[] | undefined) ?? [],
      statusFile: str("status-file") || undefined,
      timeoutMs: (values.get("timeout") as number | undefined) ?? 60_000,
      forceRefresh: values.get("force-refresh") === true,
      protocol: protocol as Protocol,
      caBundle: str("ca-bundle") || undefined,
      pkeyPassphraseFile: str("pkey-passphrase-file") || undefined,
      tokenFileMode: (values.get("token-file-mode") as number | undefined) ?? 0o644,
      prometheusTextfile: str("prometheus-textfile") || undefined,
      dryRun: values.get("dry-run") === true,
      exec: str("exec") || undefined,
      execTimeoutMs: (values.get("exec-timeout") as number | undefined) ?? 30_000,
      daemon: values.get("daemon") === true,
      listenHealth: str("listen-health") || undefined,
      splayMs: (values.get("splay") as number | undefined) ?? 0,
      tsMon: {
        configFile: str("ts-mon-config-file") ?? defaultConfig,
        endpoint: str("ts-mon-endpoint") ?? "",
        credentials: str("ts-mon-credentials") ?? "",
        actAs: str("ts-mon-act-as") ?? "",
        flush: str("ts-mon-flush") ?? "manual",
        targetType: str("ts-mon-target-type") ?? "task",
        taskServiceName: str("ts-mon-task-service-name") ?? "luci_machine_tokend",
        taskJobName: str("ts-mon-task-job-name") ?? "default",
        taskRegion: str("ts-mon-task-region") ?? "",
        taskHostname: str("ts-mon-task-hostname") ?? "",
        taskNumber: (values.get("ts-mon-task-number") as number | undefined) ?? 0,
        autogenHostname: values.get("ts-mon-autogen-hostname") === true,
      },
    },
  };
}
