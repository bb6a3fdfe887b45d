import { goJsonStringify } from "@luci-machine-tokend/core/internal";
import { goJsonField } from "./go-json-field.js";
import { formatGoTime, GO_ZERO_TIME, parseGoTime } from "./go-time.js";

/** Where a token sits in luci-go's token cache: the auth method and its parameters, and the scopes. */
export interface CacheKey {
  /** `service_account/<email>/<key id>`, `iam/<email>`, `gce/<account>`, … */
  key: string;
  /** The OAuth scopes, sorted; null when the file has none (Go's nil, not equal to []). */
  scopes: readonly string[] | null;
}

/** An OAuth access token as luci-go caches it. */
export interface CachedToken {
  accessToken: string;
  /** As the server sent it ("Bearer", "bearer", "" …). */
  tokenType: string;
  /** Expiry in ms since the epoch; undefined for Go's zero time (a token that never expires). */
  expiryMs?: number;
  /** "-" when there is none (luci-go's NoIDToken). */
  idToken: string;
  /** The account's email, or "-" when unknown. */
  email: string;
}

/** One entry of the file: its JSON as read (kept for writing back) and what it says. */
export interface CacheEntry {
  json: Record<string, unknown>;
  key: CacheKey;
  token: CachedToken & { refreshToken: string };
  lastUpdateMs?: number;
}

/** A parsed cache file: its entries, and its `last_update` as written. */
export interface CacheFile {
  entries: CacheEntry[];
  lastUpdate?: string;
}

/** Access tokens that expired this long ago are dropped when the file is written (luci-go's GC). */
const ACCESS_TOKEN_MAX_AGE_MS = 2 * 3600_000;
/** Refresh tokens (never ours, kept for `luci-auth`) unused this long are dropped. */
const REFRESH_TOKEN_MAX_AGE_MS = 14 * 24 * 3600_000;

class BrokenCacheError extends Error {}

/**
 * Reads `tokens.json`/`creds.json` as luci-go's DiskTokenCache decodes them (Go's encoding/json into
 * its structs): the file's and a key's and a token's field names match case-insensitively, an
 * entry's own names exactly; every known field must have its Go type (a string, a list of strings,
 * an RFC 3339 time, an integer) or be null. A file that breaks these rules is "broken".
 *
 * @returns the entries, or the reason the file is broken (luci-go then treats it as empty).
 */
export function parseCacheFile(text: string): CacheFile | { broken: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { broken: "not valid JSON" };
  }
  try {
    if (value === null) return { entries: [] };
    const file = goStruct(value, "the file");
    const cache = goJsonField(file, "cache");
    const lastUpdate = goJsonField(file, "last_update");
    if (lastUpdate !== undefined && lastUpdate !== null) goTime(lastUpdate, "last_update");
    if (cache !== undefined && cache !== null && !Array.isArray(cache))
      throw new BrokenCacheError('"cache" is not a list');
    const entries = ((cache ?? []) as unknown[]).map(parseEntry);
    return { entries, ...(typeof lastUpdate === "string" && { lastUpdate }) };
  } catch (err) {
    if (err instanceof BrokenCacheError) return { broken: err.message };
    throw err;
  }
}

function parseEntry(value: unknown): CacheEntry {
  // Go panics on a null entry; here it makes the file broken, as any other non-object.
  const json = goStruct(value, "an entry");
  const key = goStructOrNull(json.key, "key");
  const token = goStructOrNull(json.token, "token");
  const lastUpdate = json.last_update == null ? undefined : goTime(json.last_update, "last_update");
  const expiry = goJsonField(token, "expiry");
  const expiresIn = goJsonField(token, "expires_in");
  if (expiresIn != null && !Number.isSafeInteger(expiresIn))
    throw new BrokenCacheError('"expires_in" is not an integer');
  if (json.metadata != null && (typeof json.metadata !== "object" || Array.isArray(json.metadata)))
    throw new BrokenCacheError('"metadata" is not an object');
  const scopes = goJsonField(key, "scopes");
  if (scopes != null && !(Array.isArray(scopes) && scopes.every((s) => typeof s === "string")))
    throw new BrokenCacheError('"scopes" is not a list of strings');
  const expiryTime = expiry == null ? undefined : goTime(expiry, "expiry");
  return {
    json,
    key: { key: goString(goJsonField(key, "key"), "key"), scopes: (scopes as string[] | null) ?? null },
    token: {
      accessToken: goString(goJsonField(token, "access_token"), "access_token"),
      tokenType: goString(goJsonField(token, "token_type"), "token_type"),
      refreshToken: goString(goJsonField(token, "refresh_token"), "refresh_token"),
      ...(expiryTime !== undefined && !expiryTime.zero && { expiryMs: expiryTime.ms }),
      idToken: goString(json.id_token, "id_token"),
      email: goString(json.email, "email"),
    },
    ...(lastUpdate !== undefined && !lastUpdate.zero && { lastUpdateMs: lastUpdate.ms }),
  };
}

/** The entries luci-go reads: those of tokens.json, then those of creds.json under other keys. */
export function mergeCacheFiles(tokens: CacheFile, creds: CacheFile): CacheEntry[] {
  const merged = [...tokens.entries];
  for (const entry of creds.entries) {
    if (!merged.some((e) => sameCacheKey(e.key, entry.key))) merged.push(entry);
  }
  return merged;
}

/** Go's reflect.DeepEqual of two CacheKeys: a nil scope list differs from an empty one. */
export function sameCacheKey(a: CacheKey, b: CacheKey): boolean {
  if (a.key !== b.key) return false;
  if (a.scopes === null || b.scopes === null) return a.scopes === b.scopes;
  return a.scopes.length === b.scopes.length && a.scopes.every((s, i) => s === b.scopes?.[i]);
}

/** The entry luci-go writes for a token it minted: its key order, unknown fields of the old entry kept after. */
export function newCacheEntry(
  key: CacheKey,
  token: CachedToken,
  nowMs: number,
  old?: CacheEntry,
): CacheEntry {
  const json: Record<string, unknown> = {
    key: { key: key.key, ...(key.scopes !== null && key.scopes.length > 0 && { scopes: [...key.scopes] }) },
    token: {
      access_token: token.accessToken,
      ...(token.tokenType !== "" && { token_type: token.tokenType }),
      expiry: token.expiryMs === undefined ? GO_ZERO_TIME : formatGoTime(token.expiryMs),
    },
    id_token: token.idToken,
    email: token.email,
  };
  // As luci-go: metadata carried over from the token it replaces; empty metadata is not written.
  const metadata = old?.json.metadata;
  if (metadata != null && Object.keys(metadata).length > 0) json.metadata = metadata;
  json.last_update = formatGoTime(nowMs);
  const known = new Set(["key", "token", "id_token", "email", "metadata", "last_update"]);
  for (const name of Object.keys(old?.json ?? {}).sort()) {
    if (!known.has(name)) json[name] = old?.json[name];
  }
  return { json, key, token: { ...token, refreshToken: "" }, lastUpdateMs: nowMs };
}

/** Entries luci-go would drop as garbage when writing at `nowMs`. */
export function isOldEntry(entry: CacheEntry, nowMs: number): boolean {
  const maxAge = entry.token.refreshToken !== "" ? REFRESH_TOKEN_MAX_AGE_MS : ACCESS_TOKEN_MAX_AGE_MS;
  const since = entry.token.expiryMs ?? entry.lastUpdateMs ?? Number.NEGATIVE_INFINITY;
  return nowMs - since >= maxAge;
}

/** The file's text as luci-go writes it (two-space indent, no final newline). */
export function serializeCacheFile(entries: readonly CacheEntry[], lastUpdate: string): string {
  return goJsonStringify({ cache: entries.map((e) => e.json), last_update: lastUpdate }, 2);
}

function goStruct(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new BrokenCacheError(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function goStructOrNull(value: unknown, name: string): Record<string, unknown> {
  return value == null ? {} : goStruct(value, `"${name}"`);
}

function goString(value: unknown, name: string): string {
  if (value == null) return "";
  if (typeof value !== "string") throw new BrokenCacheError(`"${name}" is not a string`);
  return value;
}

function goTime(value: unknown, name: string): { ms: number; zero: boolean } {
  if (typeof value !== "string") throw new BrokenCacheError(`"${name}" is not a time string`);
  const parsed = parseGoTime(value);
  if ("error" in parsed) throw new BrokenCacheError(`"${name}": ${parsed.error}`);
  return parsed;
}
