import { describe, expect, it } from "vitest";
import { type ProxyEnv, proxyForUrl } from "./proxy-from-env.js";

const P = "http://proxy.corp:3128";
const proxied = (url: string, env: ProxyEnv) => proxyForUrl(new URL(url), env)?.href;

describe("proxyForUrl: which variable", () => {
  it.each<[string, string, ProxyEnv, string | undefined]>([
    ["nothing set", "https://a.example.com/", {}, undefined],
    ["HTTPS_PROXY for https", "https://a.example.com/", { HTTPS_PROXY: P }, `${P}/`],
    ["https_proxy for https", "https://a.example.com/", { https_proxy: P }, `${P}/`],
    [
      "HTTPS_PROXY wins over https_proxy",
      "https://a.example.com/",
      { HTTPS_PROXY: "http://upper:1", https_proxy: "http://lower:2" },
      "http://upper:1/",
    ],
    [
      "an empty HTTPS_PROXY falls through to https_proxy (Go's getEnvAny)",
      "https://a.example.com/",
      { HTTPS_PROXY: "", https_proxy: "http://lower:2" },
      "http://lower:2/",
    ],
    [
      "HTTP_PROXY is not used for https",
      "https://a.example.com/",
      { HTTP_PROXY: P, http_proxy: P },
      undefined,
    ],
    ["HTTP_PROXY for http", "http://a.example.com/", { HTTP_PROXY: P }, `${P}/`],
    ["http_proxy for http", "http://a.example.com/", { http_proxy: P }, `${P}/`],
    [
      "HTTP_PROXY wins over http_proxy",
      "http://a.example.com/",
      { HTTP_PROXY: "http://upper:1", http_proxy: "http://lower:2" },
      "http://upper:1/",
    ],
    ["HTTPS_PROXY is not used for http", "http://a.example.com/", { HTTPS_PROXY: P }, undefined],
  ])("%s", (_name, url, env, want) => {
    expect(proxied(url, env)).toBe(want);
  });
});

describe("proxyForUrl: the proxy value", () => {
  it.each([
    ["proxy.corp:3128", "http://proxy.corp:3128/"],
    ["localhost:3128", "http://localhost:3128/"],
    ["10.0.0.1:8080", "http://10.0.0.1:8080/"],
    ["http://proxy.corp:3128", "http://proxy.corp:3128/"],
    ["https://proxy.corp", "https://proxy.corp/"],
    ["http://user:pa%3Ass@proxy.corp:3128", "http://user:pa%3Ass@proxy.corp:3128/"],
    ["socks5://proxy.corp:1080", "socks5://proxy.corp:1080"],
  ])("%s → %s", (raw, want) => {
    expect(proxied("https://a.example.com/", { HTTPS_PROXY: raw })).toBe(want);
  });

  it.each(["proxy corp:3128", "http://[bad", "proxy.corp:99999"])("throws for %j", (raw) => {
    expect(() => proxied("https://a.example.com/", { HTTPS_PROXY: raw })).toThrow(
      `invalid proxy address ${JSON.stringify(raw)} in the environment`,
    );
  });

  it.each([
    ["http://bob:s3cretPW@proxy.corp:99999", "http://***@proxy.corp:99999"],
    ["bob:s3cretPW@[bad", "***@[bad"],
    // A login with a bad escape: refused before any agent decodes it (Go's url.Parse refuses it too).
    ["http://bob:s3cret%PW@proxy.corp:3128", "http://***@proxy.corp:3128"],
    ["http://b%ob:s3cretPW@proxy.corp:3128", "http://***@proxy.corp:3128"],
    ["http://bob:s3cret/PW@x@[bad", "http://***@[bad"],
  ])("never prints the user info of a bad proxy address: %j", (raw, shown) => {
    const error = (() => {
      try {
        proxied("https://a.example.com/", { HTTPS_PROXY: raw });
      } catch (err) {
        return String(err);
      }
    })();
    expect(error).toBe(`Error: invalid proxy address ${JSON.stringify(shown)} in the environment`);
    expect(error).not.toMatch(/s3cret|bob/);
  });

  it("reads process.env by default", () => {
    const saved = { ...process.env };
    try {
      for (const k of ["HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"]) delete process.env[k];
      process.env.HTTPS_PROXY = "envproxy:1";
      expect(proxyForUrl(new URL("https://a.example.com/"))?.href).toBe("http://envproxy:1/");
      process.env.NO_PROXY = "example.com";
      expect(proxyForUrl(new URL("https://a.example.com/"))).toBeUndefined();
    } finally {
      for (const k of ["HTTPS_PROXY", "NO_PROXY"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});

describe("proxyForUrl: loopback is never proxied", () => {
  it.each([
    "https://localhost/",
    "https://localhost:8443/",
    "https://LOCALHOST/",
    "https://tokens.localhost/",
    "https://127.0.0.1/",
    "https://127.0.0.2:9000/",
    "https://127.255.255.254/",
    "https://[::1]/",
    "https://[0:0:0:0:0:0:0:1]:8443/",
    "https://[::ffff:127.0.0.1]/",
    "http://127.0.0.1:8080/",
  ])("%s", (url) => {
    expect(proxied(url, { HTTPS_PROXY: P, HTTP_PROXY: P })).toBeUndefined();
  });

  it.each([
    "https://128.0.0.1/",
    "https://[::2]/",
    "https://[::ffff:10.0.0.1]/",
    "https://localhost.example.com/",
    "https://mylocalhost/",
  ])("but %s is", (url) => {
    expect(proxied(url, { HTTPS_PROXY: P })).toBe(`${P}/`);
  });
});

describe("proxyForUrl: NO_PROXY", () => {
  // [NO_PROXY, URL, bypasses the proxy]
  it.each<[string, string, boolean]>([
    ["*", "https://anything.example.org/", true],
    [" * ", "https://anything.example.org/", true],
    ["other.org, *", "https://anything.example.org/", true],
    ["*.", "https://anything.example.org/", false],
    // "example.com" matches that name and all subdomains.
    ["example.com", "https://example.com/", true],
    ["example.com", "https://sub.example.com/", true],
    ["example.com", "https://a.b.example.com/", true],
    ["example.com", "https://notexample.com/", false],
    ["example.com", "https://example.com.evil.org/", false],
    ["EXAMPLE.com", "https://Sub.Example.COM/", true],
    // ".example.com" matches subdomains only; so does "*.example.com".
    [".example.com", "https://sub.example.com/", true],
    [".example.com", "https://example.com/", false],
    ["*.example.com", "https://sub.example.com/", true],
    ["*.example.com", "https://example.com/", false],
    // Lists: commas, spaces, empty entries.
    ["foo.org,, example.com ,bar.org", "https://sub.example.com/", true],
    ["foo.org,bar.org", "https://sub.example.com/", false],
    ["", "https://sub.example.com/", false],
    // host:port entries match that port only (the URL's default port counts).
    ["example.com:443", "https://sub.example.com/", true],
    ["example.com:443", "https://sub.example.com:8443/", false],
    ["example.com:8443", "https://sub.example.com:8443/", true],
    ["example.com:80", "http://example.com/", true],
    [".example.com:443", "https://example.com/", false],
    // IPs: that address only, in any spelling; optional port.
    ["10.1.2.3", "https://10.1.2.3/", true],
    ["10.1.2.3", "https://10.1.2.4/", false],
    ["10.1.2.3:443", "https://10.1.2.3/", true],
    ["10.1.2.3:8443", "https://10.1.2.3/", false],
    // As in Go, an entry that is not an address is a name suffix, even against an address.
    ["1.2.3", "https://10.1.2.3/", true],
    ["2001:db8::1", "https://[2001:db8::1]/", true],
    ["2001:DB8:0:0::1", "https://[2001:db8::1]:8443/", true],
    ["[2001:db8::1]", "https://[2001:db8::1]/", true],
    ["[2001:db8::1]:443", "https://[2001:db8::1]/", true],
    ["[2001:db8::1]:8443", "https://[2001:db8::1]/", false],
    ["2001:db8::2", "https://[2001:db8::1]/", false],
    ["::ffff:10.1.2.3", "https://10.1.2.3/", true],
    ["10.1.2.3", "https://[::ffff:10.1.2.3]/", true],
    // CIDRs match addresses, never names; ports are ignored.
    ["10.0.0.0/8", "https://10.200.3.4:8443/", true],
    ["10.0.0.0/8", "https://11.0.0.1/", false],
    ["192.168.1.0/24", "https://192.168.1.255/", true],
    ["192.168.1.0/24", "https://192.168.2.1/", false],
    ["192.168.1.0/23", "https://192.168.1.7/", true],
    ["0.0.0.0/0", "https://8.8.8.8/", true],
    ["10.1.2.3/32", "https://10.1.2.3/", true],
    ["10.1.2.3/32", "https://10.1.2.2/", false],
    ["10.0.0.0/8", "https://ten.example.com/", false],
    ["10.0.0.0/33", "https://10.0.0.1/", false],
    ["10.0.0.0/x", "https://10.0.0.1/", false],
    ["2001:db8::/32", "https://[2001:db8:ffff::1]/", true],
    ["2001:db8::/32", "https://[2001:db9::1]/", false],
    ["2001:db8:abcd::/48", "https://[2001:db8:abcd:12::1]/", true],
    ["2001:db8:abcd::/49", "https://[2001:db8:abcd:8000::1]/", false],
    ["2001:db8::/129", "https://[2001:db8::1]/", false],
    ["2001:db8::/32", "https://10.0.0.1/", false],
  ])("NO_PROXY=%j, %s → direct: %s", (noProxy, url, direct) => {
    const env = { HTTPS_PROXY: P, HTTP_PROXY: P, NO_PROXY: noProxy };
    expect(proxied(url, env)).toBe(direct ? undefined : `${P}/`);
  });

  it("reads no_proxy when NO_PROXY is unset or empty, NO_PROXY first", () => {
    const url = "https://sub.example.com/";
    expect(proxied(url, { HTTPS_PROXY: P, no_proxy: "example.com" })).toBeUndefined();
    expect(proxied(url, { HTTPS_PROXY: P, NO_PROXY: "", no_proxy: "example.com" })).toBeUndefined();
    expect(proxied(url, { HTTPS_PROXY: P, NO_PROXY: "other.org", no_proxy: "example.com" })).toBe(`${P}/`);
  });

  it("does not look at the proxy value when the host is excluded", () => {
    expect(proxied("https://sub.example.com/", { HTTPS_PROXY: "bad value", NO_PROXY: "*" })).toBeUndefined();
    expect(proxied("https://localhost/", { HTTPS_PROXY: "bad value" })).toBeUndefined();
  });
});
