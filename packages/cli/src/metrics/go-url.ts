import { goQuote } from "../go-quote.js";

/** The parts of a URL that ts-mon reads, as Go's `url.Parse` gives them. */
export interface GoUrl {
  /** Lower case, e.g. `file`, `https`; empty when the text has none. */
  scheme: string;
  /** What follows `scheme:` when it is not a path starting with `/` (`file:metrics.txt`). */
  opaque: string;
  /** host[:port], unescaped; empty without `//`. */
  host: string;
  /** The path, unescaped (`%2f` is `/`); empty for `file://metrics.txt`. */
  path: string;
}

/**
 * Parses an endpoint as Go's `net/url.Parse` does, with its error texts (`parse "…": …`): the
 * fragment and query are cut off, `scheme://authority/path` split, the path and host unescaped.
 * So `file:///abs` has path `/abs`, `file://name` has host `name` and no path, `file:name` is
 * opaque. Covers what an endpoint can hold; the user-info part is checked, not returned.
 */
export function parseGoUrl(raw: string): { url: GoUrl } | { error: string } {
  const hash = raw.indexOf("#");
  const main = hash >= 0 ? raw.slice(0, hash) : raw;
  const parsed = parseMain(main);
  if ("error" in parsed) return { error: `parse ${goQuote(main)}: ${parsed.error}` };
  if (hash >= 0) {
    const fragment = unescapeUrl(raw.slice(hash + 1), "fragment");
    if (typeof fragment !== "string") return { error: `parse ${goQuote(raw)}: ${fragment.error}` };
  }
  return parsed;
}

function parseMain(text: string): { url: GoUrl } | { error: string } {
  if ([...text].some((ch) => ch < " " || ch === "\x7f"))
    return { error: "net/url: invalid control character in URL" };
  const url: GoUrl = { scheme: "", opaque: "", host: "", path: "" };
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(text);
  if (text.startsWith(":")) return { error: "missing protocol scheme" };
  let rest = text;
  if (scheme) {
    url.scheme = scheme[0].slice(0, -1).toLowerCase();
    rest = text.slice(scheme[0].length);
  }
  const query = rest.indexOf("?");
  if (query >= 0) rest = rest.slice(0, query);
  if (!rest.startsWith("/")) {
    if (url.scheme !== "") {
      url.opaque = rest; // a rootless path, e.g. file:metrics.txt
      return { url };
    }
    if (rest.split("/")[0]?.includes(":")) return { error: "first path segment in URL cannot contain colon" };
  }
  if ((url.scheme !== "" || !rest.startsWith("///")) && rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    const authority = slash >= 0 ? rest.slice(2, slash) : rest.slice(2);
    rest = slash >= 0 ? rest.slice(slash) : "";
    const host = parseAuthority(authority);
    if (typeof host !== "string") return host;
    url.host = host;
  }
  const path = unescapeUrl(rest, "path");
  if (typeof path !== "string") return path;
  url.path = path;
  return { url };
}

function parseAuthority(authority: string): string | { error: string } {
  const at = authority.lastIndexOf("@");
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (typeof host !== "string" || at < 0) return host;
  const userinfo = authority.slice(0, at);
  if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo)) return { error: "net/url: invalid userinfo" };
  const colon = userinfo.indexOf(":");
  for (const part of colon < 0 ? [userinfo] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)]) {
    const decoded = unescapeUrl(part, "userinfo");
    if (typeof decoded !== "string") return decoded;
  }
  return host;
}

function parseHost(host: string): string | { error: string } {
  let port = "";
  if (host.startsWith("[")) {
    const close = host.lastIndexOf("]");
    if (close < 0) return { error: "missing ']' in host" };
    port = host.slice(close + 1);
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) port = host.slice(colon);
  }
  if (port !== "" && !/^:\d*$/.test(port)) return { error: `invalid port ${goQuote(port)} after host` };
  return unescapeUrl(host, "host");
}

type Mode = "path" | "host" | "userinfo" | "fragment";

/** Go's url.unescape: `%XX` decoded to bytes, then read as UTF-8; a bad escape is an error. */
function unescapeUrl(text: string, mode: Mode): string | { error: string } {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; ) {
    const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
    if (ch === "%") {
      const escaped = text.slice(i, i + 3);
      const value = /^%[0-9A-Fa-f]{2}$/.test(escaped) ? Number.parseInt(escaped.slice(1), 16) : undefined;
      // Go allows escapes in a host only for bytes outside ASCII (and %25 before a zone).
      if (value === undefined || (mode === "host" && value < 0x80 && value !== 0x25)) {
        return { error: `invalid URL escape ${goQuote(escaped)}` };
      }
      bytes.push(value);
      i += 3;
      continue;
    }
    i += ch.length;
    if (mode === "host" && ch < "\x80" && !HOST_CHARS.test(ch)) {
      return { error: `invalid character ${goQuote(ch)} in host name` };
    }
    bytes.push(...Buffer.from(ch, "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** ASCII characters Go lets stand unescaped in a host (shouldEscape in host mode). */
const HOST_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"]$/;
