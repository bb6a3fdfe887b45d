import { hostname as osHostname } from "node:os";
import type { Logger } from "@luci-machine-tokend/core";
import { errorMessage } from "@luci-machine-tokend/core/internal";
import type { AuthorizationFn } from "@luci-machine-tokend/core/ts-mon";
import type { TsMonOptions } from "../cli-options.js";
import { parseGoUrl } from "./go-url.js";
import type { TsMonConfig } from "./ts-mon-config.js";
import type { TsMonAuth, TsMonInitDeps } from "./ts-mon-init-deps.js";
import type { TsMonMonitor } from "./ts-mon-monitor.js";
import { tsMonRootLabels } from "./ts-mon-target.js";

/**
 * The monitor and target for a configured endpoint (initTsMon's second half): `file://` or
 * `https://` (ProdX, with its token source); anything else is Go's error.
 */
export async function monitorFor(
  endpoint: string,
  options: TsMonOptions,
  config: TsMonConfig,
  logger: Logger,
  deps: TsMonInitDeps,
): Promise<{ monitor: TsMonMonitor } | { error: string }> {
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
