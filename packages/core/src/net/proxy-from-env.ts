/**
 * node:net's isIP, loaded on first use: importing node:net costs 2-3 MiB of RSS, which a program
 * that imports the package root and never connects should not pay (bench/import-cost.ts).
 */
const isIP = (text: string): number => process.getBuiltinModule("node:net").isIP(text);

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
  // Go's getEnvAny: the first variable that is set and non-empty wins.
  const raw = https ? env.HTTPS_PROXY || env.https_proxy : env.HTTP_PROXY || env.http_proxy;
  if (!raw) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (https ? "443" : "80");
  if (isLoopback(host) || excluded(host, port, env.NO_PROXY || env.no_proxy || "")) return undefined;
  try {
    const proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
    // The agents decode the login; a bad escape (`p%ss`) is a bad address, as Go's url.Parse says.
    decodeURIComponent(proxy.username);
    decodeURIComponent(proxy.password);
    return proxy;
  } catch {
    throw new Error(`invalid proxy address ${JSON.stringify(withoutUserInfo(raw))} in the environment`);
  }
}

/**
 * A proxy value fit to print: any `user:password@` (up to the last `@`, as a value that does not
 * parse may hold one anywhere) becomes `***@`. Logs and the status file are world-readable.
 */
function withoutUserInfo(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, "$1***@");
}

/** True for `localhost` (and `*.localhost`), 127.0.0.0/8 (also IPv4-mapped) and ::1; `host` without brackets, lower case. */
export function isLoopback(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const ip = ipBytes(host);
  if (ip === undefined) return false;
  // 127.0.0.0/8 (also IPv4-mapped, as Go's IP.IsLoopback) or ::1.
  return isMappedV4(ip) ? ip[12] === 127 : ip.every((b, i) => b === (i === 15 ? 1 : 0));
}

function excluded(host: string, port: string, noProxy: string): boolean {
  const hostIp = ipBytes(host);
  for (let entry of noProxy.split(",").map((e) => e.trim().toLowerCase())) {
    if (entry === "") continue;
    if (entry === "*") return true;
    if (entry.includes("/")) {
      if (hostIp && inCidr(hostIp, entry)) return true;
      continue;
    }
    let entryPort = "";
    const m = /^(.*):(\d+)$/.exec(entry);
    if (m && !isIP(entry)) [, entry = "", entryPort = ""] = m;
    entry = entry.replace(/^\[|\]$/g, "");
    if (entry === "" || (entryPort !== "" && entryPort !== port)) continue;
    const entryIp = ipBytes(entry);
    if (entryIp !== undefined) {
      // An IP entry matches that address only, in any spelling (Go's IP.Equal).
      if (hostIp?.every((b, i) => b === entryIp[i])) return true;
      continue;
    }
    // Go: "*.example.com" is ".example.com", which matches subdomains only.
    if (entry.startsWith("*.")) entry = entry.slice(1);
    if (entry.startsWith(".") ? host.endsWith(entry) : host === entry || host.endsWith(`.${entry}`))
      return true;
  }
  return false;
}

/** An IP address as 16 bytes (IPv4 as IPv4-mapped IPv6), or undefined for anything else. */
function ipBytes(text: string): number[] | undefined {
  const family = isIP(text);
  if (family === 4) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...text.split(".").map(Number)];
  if (family !== 6) return undefined;
  let normalized: string;
  try {
    // The URL parser expands embedded IPv4 and lowercases: "::FFFF:1.2.3.4" → "::ffff:102:304".
    normalized = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined; // a zone id ("fe80::1%eth0") or similar: never matched
  }
  const groups = (s: string | undefined) =>
    s === undefined || s === "" ? [] : s.split(":").map((g) => Number.parseInt(g, 16));
  const [head, tail] = normalized.split("::");
  const hi = groups(head);
  const lo = groups(tail);
  const all = [...hi, ...new Array<number>(8 - hi.length - lo.length).fill(0), ...lo];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function isMappedV4(ip: number[]): boolean {
  return ip.slice(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
}

/** Whether `ip` (16 bytes) is in `cidr`, IPv4 (`10.0.0.0/8`) or IPv6 (`2001:db8::/32`). */
function inCidr(ip: number[], cidr: string): boolean {
  const [base = "", bitsText = ""] = cidr.split("/");
  const net = ipBytes(base);
  const family = isIP(base);
  if (net === undefined || !/^\d+$/.test(bitsText) || Number(bitsText) > (family === 4 ? 32 : 128)) {
    return false;
  }
  const bits = Number(bitsText) + (family === 4 ? 96 : 0);
  for (let i = 0; i < 16; i++) {
    const mask = (0xff << (8 - Math.max(0, Math.min(8, bits - 8 * i)))) & 0xff;
    if (((ip[i] ?? 0) & mask) !== ((net[i] ?? 0) & mask)) return false;
  }
  return true;
}
