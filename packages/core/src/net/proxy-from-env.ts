import { isIP } from "node:net";

/** Proxy environment variables, as Go's net/http reads them. */
export interface ProxyEnv {
  HTTPS_PROXY?: string;
  https_proxy?: string;
  HTTP_PROXY?: string;
  http_proxy?: string;
  NO_PROXY?: string;
  no_proxy?: string;
}

/**
 * The proxy for a request URL, or undefined to connect directly, following Go's
 * ProxyFromEnvironment: HTTPS_PROXY for https, HTTP_PROXY for http (upper case first), NO_PROXY
 * exclusions (`*`, hosts, `.domain` suffixes, IPs, CIDRs, optional `:port`); loopback is never
 * proxied. A proxy value without a scheme means `http://`.
 */
export function proxyForUrl(url: URL, env: ProxyEnv = process.env as ProxyEnv): URL | undefined {
  const https = url.protocol === "https:";
  const raw = https ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!raw) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (https ? "443" : "80");
  if (isLoopback(host) || excluded(host, port, env.NO_PROXY ?? env.no_proxy ?? "")) return undefined;
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new Error(`invalid proxy address ${JSON.stringify(raw)} in the environment`);
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127\./.test(host);
}

function excluded(host: string, port: string, noProxy: string): boolean {
  for (let entry of noProxy.split(",").map((e) => e.trim().toLowerCase())) {
    if (entry === "") continue;
    if (entry === "*") return true;
    if (entry.includes("/")) {
      if (isIP(host) && inCidr(host, entry)) return true;
      continue;
    }
    let entryPort = "";
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m && !isIP(entry)) [, entry = "", entryPort = ""] = m;
    entry = entry.replace(/^\[|\]$/g, "");
    if (entryPort !== "" && entryPort !== port) continue;
    if (entry.startsWith(".") ? host.endsWith(entry) : host === entry || host.endsWith(`.${entry}`))
      return true;
  }
  return false;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = "", bitsText = ""] = cidr.split("/");
  const bits = Number(bitsText);
  if (isIP(base) !== 4 || isIP(ip) !== 4 || !(bits >= 0 && bits <= 32)) return false;
  const toInt = (a: string) => a.split(".").reduce((n, p) => (n << 8) + Number(p), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}
