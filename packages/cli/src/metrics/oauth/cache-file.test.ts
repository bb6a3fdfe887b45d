import { describe, expect, it } from "vitest";
import {
  type CacheEntry,
  isOldEntry,
  mergeCacheFiles,
  newCacheEntry,
  parseCacheFile,
  sameCacheKey,
  serializeCacheFile,
} from "./cache-file.js";
import { formatGoTime, parseGoTime } from "./go-time.js";

const KEY = {
  key: "service_account/a@p.iam.gserviceaccount.com/k1",
  scopes: ["https://www.googleapis.com/auth/prodxmon"],
};
const file = (token: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cache: [{ key: KEY, token, ...extra }] });
const entries = (text: string): CacheEntry[] => {
  const parsed = parseCacheFile(text);
  if ("broken" in parsed) throw new Error(parsed.broken);
  return parsed.entries;
};

describe("parseCacheFile reads what luci-go reads (each row checked against the Go binary)", () => {
  it.each([
    ["an RFC 3339 offset", "2099-01-01T05:00:00+05:00", Date.UTC(2099, 0, 1)],
    ["a comma before the fraction", "2099-01-01T00:00:00,5Z", Date.UTC(2099, 0, 1) + 500],
    ["an offset of 24 hours", "2099-01-01T00:00:00+24:00", Date.UTC(2098, 11, 31)],
    ["an offset minute of 60", "2099-01-01T00:00:00+05:60", Date.UTC(2098, 11, 31, 18)],
    ["twelve fraction digits", "2099-01-01T00:00:00.123456789123Z", Date.UTC(2099, 0, 1) + 123],
    ["-00:00", "2099-01-01T00:00:00-00:00", Date.UTC(2099, 0, 1)],
    ["29 February of a leap year", "2096-02-29T00:00:00Z", Date.UTC(2096, 1, 29)],
  ])("accepts an expiry with %s", (_, expiry, ms) => {
    expect(entries(file({ access_token: "t", expiry }))[0]?.token.expiryMs).toBe(ms);
  });

  it.each([
    ["lower-case t and z", '"2099-01-01t00:00:00z"'],
    ["a space for T", '"2099-01-01 00:00:00Z"'],
    ["a dot without digits", '"2099-01-01T00:00:00.Z"'],
    ["hour 24", '"2099-01-01T24:00:00Z"'],
    ["30 February", '"2099-02-30T00:00:00Z"'],
    ["29 February of 2100", '"2100-02-29T00:00:00Z"'],
    ["second 60", '"2099-01-01T00:00:60Z"'],
    ["an offset of 25 hours", '"2099-01-01T00:00:00+25:00"'],
    ["an offset minute of 61", '"2099-01-01T00:00:00+05:61"'],
    ["no zone", '"2099-01-01T00:00:00"'],
    ["+0000", '"2099-01-01T00:00:00+0000"'],
    ["a leading space", '" 2099-01-01T00:00:00Z"'],
    ["a number", "5"],
    ["an empty string", '""'],
  ])("finds the file broken for an expiry with %s", (_, expiry) => {
    const text = `{"cache":[{"key":${JSON.stringify(KEY)},"token":{"access_token":"t","expiry":${expiry}}}]}`;
    expect(parseCacheFile(text)).toHaveProperty("broken");
  });

  it.each([
    ["not JSON", '{"cache":['],
    ["a list", "[]"],
    ["a null entry (Go panics)", '{"cache":[null]}'],
    ["a byte-order mark", `\ufeff${file({ access_token: "t" })}`],
    ["a number for a string", file({ access_token: 5 })],
    ["a fraction for expires_in", file({ access_token: "t", expires_in: 1.5 })],
  ])("finds the file broken when it is %s", (_, text) => {
    expect(parseCacheFile(text)).toHaveProperty("broken");
  });

  it("reads no expiry, a null one and Go's zero time as a token that never expires", () => {
    for (const token of [
      { access_token: "t" },
      { access_token: "t", expiry: null },
      { access_token: "t", expiry: "0001-01-01T00:00:00Z" },
    ])
      expect(entries(file(token))[0]?.token).not.toHaveProperty("expiryMs");
  });

  it("matches the file's, a key's and a token's field names case-insensitively, an entry's exactly", () => {
    const text = JSON.stringify({
      CACHE: [
        {
          key: { KEY: KEY.key, Scopes: KEY.scopes },
          token: { Access_Token: "t", EXPIRY: "2099-01-01T00:00:00Z" },
        },
      ],
    });
    expect(entries(text)[0]).toMatchObject({
      key: KEY,
      token: { accessToken: "t", expiryMs: Date.UTC(2099, 0, 1) },
    });
    expect(entries(JSON.stringify({ cache: [{ KEY: KEY, Token: { access_token: "t" } }] }))[0]?.key.key).toBe(
      "",
    );
  });

  it("reads null, an empty object and a null list as an empty cache", () => {
    for (const text of ["null", "{}", '{"cache":null}']) expect(entries(text)).toEqual([]);
  });
});

describe("the entries luci-go uses", () => {
  it("takes tokens.json's entry over creds.json's, and creds.json's under other keys", () => {
    const tokens = parseCacheFile(file({ access_token: "new" }));
    const creds = parseCacheFile(
      JSON.stringify({
        cache: [
          { key: KEY, token: { access_token: "old" } },
          { key: { key: "other" }, token: { access_token: "o" } },
        ],
      }),
    );
    if ("broken" in tokens || "broken" in creds) throw new Error("broken");
    expect(mergeCacheFiles(tokens, creds).map((e) => e.token.accessToken)).toEqual(["new", "o"]);
  });

  it("tells a missing scope list from an empty one, as Go's DeepEqual", () => {
    expect(sameCacheKey({ key: "k", scopes: null }, { key: "k", scopes: [] })).toBe(false);
    expect(sameCacheKey({ key: "k", scopes: ["a", "b"] }, { key: "k", scopes: ["a", "b"] })).toBe(true);
    expect(sameCacheKey({ key: "k", scopes: ["b", "a"] }, { key: "k", scopes: ["a", "b"] })).toBe(false);
  });

  it("drops access tokens expired 2 hours ago, by last_update when they have no expiry", () => {
    const now = Date.UTC(2026, 11, 7, 12);
    const at = (expiry: number | undefined, lastUpdate?: number, refresh = "") =>
      ({
        token: { expiryMs: expiry, refreshToken: refresh },
        lastUpdateMs: lastUpdate,
      }) as unknown as CacheEntry;
    expect(isOldEntry(at(now - 7200_000), now)).toBe(true);
    expect(isOldEntry(at(now - 7100_000), now)).toBe(false);
    expect(isOldEntry(at(undefined, now - 7300_000), now)).toBe(true);
    expect(isOldEntry(at(undefined, undefined), now)).toBe(true);
    expect(isOldEntry(at(now - 86400_000, undefined, "r"), now)).toBe(false);
  });
});

describe("writing", () => {
  it("writes an entry as luci-go: its field order, metadata and unknown fields of the old entry kept", () => {
    const old = entries(file({ access_token: "x" }, { zextra: 1, metadata: { m: 1 }, aextra: "v" }))[0];
    const now = Date.UTC(2026, 11, 7, 21, 9, 30, 660);
    const entry = newCacheEntry(
      KEY,
      { accessToken: "t<&>", tokenType: "Bearer", expiryMs: now + 3599_000, idToken: "-", email: "a@p" },
      now,
      old,
    );
    const text = serializeCacheFile([entry], formatGoTime(now));
    expect(Object.keys(JSON.parse(text).cache[0])).toEqual([
      "key",
      "token",
      "id_token",
      "email",
      "metadata",
      "last_update",
      "aextra",
      "zextra",
    ]);
    expect(text).toContain('"access_token": "t\\u003c\\u0026\\u003e"');
    expect(text).toContain('"expiry": "2026-12-07T22:09:29.66Z"');
    expect(text.endsWith("}")).toBe(true);
    expect(entries(text)[0]?.token.accessToken).toBe("t<&>");
  });

  it("writes Go's zero time for a token without expiry, and leaves out an empty token_type", () => {
    const entry = newCacheEntry(KEY, { accessToken: "t", tokenType: "", idToken: "-", email: "-" }, 0);
    expect(entry.json.token).toEqual({ access_token: "t", expiry: "0001-01-01T00:00:00Z" });
  });

  it("formats times as Go's RFC 3339 with nanoseconds, trailing zeros dropped", () => {
    expect(formatGoTime(Date.UTC(2026, 0, 2, 3, 4, 5, 0))).toBe("2026-01-02T03:04:05Z");
    expect(formatGoTime(Date.UTC(2026, 0, 2, 3, 4, 5, 100))).toBe("2026-01-02T03:04:05.1Z");
    expect(parseGoTime("0001-01-01T00:00:00Z")).toEqual({ ms: -62135596800000, zero: true });
  });
});
