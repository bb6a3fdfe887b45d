import { hostname as osHostname } from "node:os";
import type { Logger, StatusReport } from "@luci-machine-tokend/core";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import type { AuthorizationFn } from "@luci-machine-tokend/core/ts-mon";
import type { TsMonOptions } from "../cli-options.js";
import { parseGoUrl } from "./go-url.js";
import { loadTsMonConfig } from "./ts-mon-config.js";
import type { TsMonMonitor, TsMonSendDeps } from "./ts-mon-monitor.js";
import { tsMonRootLabels } from "./ts-mon-target.js";

export type { TsMonMonitor, TsMonSendDeps };

/** The ts-mon credentials settings: `-ts-mon-credentials`/`credentials`, `-ts-mon-act-as`/`act_as`. */
export interface TsMonAuthSettings {
  /** A service-account JSON key, `:gce`, or "" for none. */
  credentials: string;
  /** A service account to act as, or "". */
  actAs: string;
}

/**
 * Makes the ProdX token source at start-up, as Go's
 * `auth.NewAuthenticator(…, SilentLogin, …).PerRPCCredentials()` does: it throws Go's error when
 * no token can be had without a person (`interactive login is required`), which leaves ts-mon off.
 * The token itself is asked for at each push, within its deadline, as the `authorization` header.
 */
export type TsMonAuth = (settings: TsMonAuthSettings) => AuthorizationFn | Promise<AuthorizationFn>;

/** What ts-mon's set-up touches; all optional. */
export interface TsMonInitDeps {
  /** The OS host name (target defaults); default os.hostname(). */
  hostname?: () => string;
  /**
   * Makes the ProdX token source; default luci-go's authenticator as Go tokend has it (service
   * account key, `:gce`, `act_as`, the token cache in `$HOME/.config/chrome_infra/auth`).
   */
  auth?: TsMonAuth;
  /**
   * Read by the token source and the push: HOME, GCE_METADATA_HOST, HTTPS_PROXY, NO_PROXY,
   * SSL_CERT_FILE, SSL_CERT_DIR; default `process.env`.
   */
  env?: Record<string, string | undefined>;
}

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
  const monitorFailed = (error: string) => ({ error: `failed to initialize monitor: ${error}` });
  const parsed = parseGoUrl(endpoint);
  if ("error" in parsed) return monitorFailed(parsed.error);
  const { url } = parsed;
  let monitor: DistributiveOmit<TsMonMonitor, "labels">;
  switch (url.scheme) {
    case "file":
      monitor = { kind: "file", path: url.path };
      break;
    case "https": {
      // The path (e.g. "/v1:insert" of old configs) is ignored: only host and port matter.
      const { host, port } = hostAndPort(url.host);
      let authorization: AuthorizationFn;
      try {
        const auth = deps.auth ?? (await luciAuth(deps.env ?? process.env, logger));
        authorization = await auth({
          credentials: options.credentials || config.credentials,
          actAs: options.actAs || config.actAs,
        });
      } catch (err) {
        return monitorFailed(errorMessage(err));
      }
      monitor = { kind: "prodx", host, port: port === "" ? 443 : Number(port), authorization };
      break;
    }
    case "http":
      // Credentials are never sent in clear text.
      return monitorFailed(`unsupported tsmon endpoint url: ${endpoint}`);
    default:
      return monitorFailed(`unknown tsmon endpoint url: ${endpoint}`);
  }
  const target = tsMonRootLabels(options, config, (deps.hostname ?? osHostname)());
  if ("error" in target) return { error: `failed to configure target from flags: ${target.error}` };
  return { monitor: { ...monitor, labels: target.labels } };
}

/** The real token source, in its own chunk: only an https:// endpoint loads it (start-up cost). */
async function luciAuth(env: Record<string, string | undefined>, logger: Logger): Promise<TsMonAuth> {
  const { tsMonAuth } = await import("./oauth/ts-mon-authenticator.js");
  return tsMonAuth({ env, logger });
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Go's URL.Hostname() and Port(): brackets of an IPv6 address removed, port "" when absent. */
function hostAndPort(host: string): { host: string; port: string } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(host) ?? /^(.*?)(?::(\d*))?$/.exec(host);
  const name = m?.[1] ?? host;
  return { host: name.replace(/^\[|\]$/g, ""), port: m?.[2] ?? "" };
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
