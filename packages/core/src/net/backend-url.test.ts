import { describe, expect, it } from "vitest";
import { backendBaseUrl } from "./backend-url.js";

describe("backendBaseUrl", () => {
  it.each([
    // Plain HTTP only for the loopback prefixes with a port (Go's rule, plus [::1]).
    ["localhost:8080", "http://localhost:8080"],
    ["127.0.0.1:9000", "http://127.0.0.1:9000"],
    ["[::1]:9000", "http://[::1]:9000"],
    // HTTPS for everything else, loopback names without a port included.
    ["localhost", "https://localhost"],
    ["127.0.0.1", "https://127.0.0.1"],
    ["[::1]", "https://[::1]"],
    ["luci-token-server.appspot.com", "https://luci-token-server.appspot.com"],
    ["luci-token-server.appspot.com:443", "https://luci-token-server.appspot.com:443"],
    ["tokens.example.com:8443", "https://tokens.example.com:8443"],
    ["localhost.example.com:80", "https://localhost.example.com:80"],
    ["127.0.0.10:80", "https://127.0.0.10:80"],
    ["10.0.0.1:80", "https://10.0.0.1:80"],
    ["[2001:db8::1]:443", "https://[2001:db8::1]:443"],
    ["LOCALHOST:8080", "https://LOCALHOST:8080"],
  ])("%s → %s", (backend, url) => {
    expect(backendBaseUrl(backend)).toBe(url);
  });

  it.each([
    ["", /expecting host\[:port\], without a scheme or path/],
    ["https://luci-token-server.appspot.com", /without a scheme or path/],
    ["http://localhost:8080", /without a scheme or path/],
    ["host/path", /without a scheme or path/],
    ["host:80/prpc", /without a scheme or path/],
    ["host\\path", /without a scheme or path/],
    ["user@host", /without a scheme or path/],
    ["host?x=1", /without a scheme or path/],
    ["host#frag", /without a scheme or path/],
    ["host name", /without a scheme or path/],
    [" host", /without a scheme or path/],
    ["host\t", /without a scheme or path/],
    ["host:notaport", /not a valid host\[:port\]/],
    ["localhost:99999", /not a valid host\[:port\]/],
    ["::1:8080", /not a valid host\[:port\]/],
    ["[::1", /not a valid host\[:port\]/],
  ])("refuses %j", (backend, message) => {
    expect(() => backendBaseUrl(backend)).toThrow(message);
    expect(() => backendBaseUrl(backend)).toThrow(`-backend ${JSON.stringify(backend)}`);
  });
});
