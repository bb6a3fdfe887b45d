import { describe, expect, it } from "vitest";
import { parseGoUrl } from "./go-url.js";

// Each row was given to the Go binary as -ts-mon-endpoint: a file:// row says where it wrote
// (path) or that it wrote nothing (""), an error row is its `Failed to initialize tsmon` text.
describe("parseGoUrl (Go's net/url.Parse, as ts-mon's endpoint)", () => {
  it.each([
    ["file:///tmp/m.txt", { scheme: "file", host: "", path: "/tmp/m.txt" }],
    ["FILE:///tmp/up.txt", { scheme: "file", path: "/tmp/up.txt" }],
    ["file://metrics.txt", { scheme: "file", host: "metrics.txt", path: "" }],
    ["file://host/tmp/h.txt", { scheme: "file", host: "host", path: "/tmp/h.txt" }],
    ["file:rel.txt", { scheme: "file", opaque: "rel.txt", path: "" }],
    ["file:", { scheme: "file", path: "" }],
    ["file://", { scheme: "file", path: "" }],
    ["file:///tmp/a%2fb", { path: "/tmp/a/b" }],
    ["file:///tmp/%41b", { path: "/tmp/Ab" }],
    ["file:///tmp/q.txt?x=1#f", { path: "/tmp/q.txt" }],
    ["file:///tmp/sp ace", { path: "/tmp/sp ace" }],
    ["https://prodxmon-pa.googleapis.com/v1:insert", { scheme: "https", host: "prodxmon-pa.googleapis.com" }],
    ["https://[::1]:8443/x", { host: "[::1]:8443" }],
    ["https://h:99999/x", { host: "h:99999" }],
    ["metrics.txt", { scheme: "", path: "metrics.txt" }],
  ])("%j", (raw, parts) => {
    const parsed = parseGoUrl(raw);
    expect(parsed).toHaveProperty("url");
    expect((parsed as { url: object }).url).toMatchObject(parts);
  });

  it.each([
    ["file:///tmp/%zz", 'parse "file:///tmp/%zz": invalid URL escape "%zz"'],
    ["file:///tmp/%4", 'parse "file:///tmp/%4": invalid URL escape "%4"'],
    ["https://[::1", `parse "https://[::1": missing ']' in host`],
    ["https://h:x/", 'parse "https://h:x/": invalid port ":x" after host'],
    ["https://h%41/", 'parse "https://h%41/": invalid URL escape "%41"'],
    ["https://h o/", 'parse "https://h o/": invalid character " " in host name'],
    ["file:///tmp/c\x01", 'parse "file:///tmp/c\\x01": net/url: invalid control character in URL'],
    ["://x", 'parse "://x": missing protocol scheme'],
    ["a:b/c:d", undefined],
    ["/a:b", undefined],
    ["a b:c", 'parse "a b:c": first path segment in URL cannot contain colon'],
    ["file:///x#%zz", 'parse "file:///x#%zz": invalid URL escape "%zz"'],
  ])("%j: %s", (raw, error) => {
    const parsed = parseGoUrl(raw);
    if (error === undefined) expect(parsed).toHaveProperty("url");
    else expect(parsed).toEqual({ error });
  });
});
