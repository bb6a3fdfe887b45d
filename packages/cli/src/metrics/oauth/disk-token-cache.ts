import { lstat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@luci-machine-tokend/core";
import {
  errnoCode,
  fsErrorReason,
  isTrustedOwner,
  readRegularFile,
  writeFileAtomic,
} from "@luci-machine-tokend/core/internal";
import { makePrivateDirs } from "../../make-private-dirs.js";
import {
  type CachedToken,
  type CacheEntry,
  type CacheFile,
  type CacheKey,
  isOldEntry,
  mergeCacheFiles,
  newCacheEntry,
  parseCacheFile,
  sameCacheKey,
  serializeCacheFile,
} from "./cache-file.js";
import { formatGoTime } from "./go-time.js";

/** Where luci-go keeps cached tokens (chromeinfra.SecretsDir): `$HOME/.config/chrome_infra/auth`. */
export function secretsDir(home: string): string {
  return join(home, ".config", "chrome_infra", "auth");
}

/** luci-go's token cache on disk, shared with Go programs of the same user. */
export interface TokenCache {
  /** The cached token under `key`, or undefined. @throws when the cache cannot be read. */
  get(key: CacheKey): Promise<CachedToken | undefined>;
  /** Stores (or replaces) the token under `key`. */
  put(key: CacheKey, token: CachedToken): Promise<void>;
  /** Removes the token under `key`, if there. */
  delete(key: CacheKey): Promise<void>;
}

/** Options of {@link createDiskTokenCache}. */
export interface DiskTokenCacheOptions {
  /** The secrets directory (see {@link secretsDir}). */
  dir: string;
  /** Hears of broken files (warning) and dropped entries (debug), as luci-go logs them. */
  logger: Logger;
  /** The clock, for `last_update` and dropping old entries. */
  now: () => number;
}

/** Largest cache file read; luci-go's holds a few entries of ~600 bytes. Bigger ones are broken. */
const MAX_CACHE_FILE_BYTES = 1 << 20;

/** creds.json's `last_update` when it had none: luci-go's "seventies were better". */
const LEGACY_EPOCH = "1970-01-01T00:00:00Z";

/**
 * luci-go's DiskTokenCache, file for file: tokens are read from `tokens.json` and, under keys it
 * lacks, from the older `creds.json`; every change writes both (creds.json keeping its own
 * `last_update`), after dropping access tokens expired for 2 hours. A broken file is logged and
 * read as empty, so the next write replaces it. Unlike Go: files are written atomically
 * (O_EXCL|O_NOFOLLOW temp file, fsync, rename) with mode 0600 in a directory made 0700 (parents
 * too, as Go's MkdirAll); a file that is not regular (a FIFO, another user's symlink), another
 * user's file, and a directory others can write to are refused, so nobody else can choose the
 * token this user sends.
 */
export function createDiskTokenCache(options: DiskTokenCacheOptions): TokenCache {
  const { dir, logger, now } = options;
  const tokensPath = join(dir, "tokens.json");
  const credsPath = join(dir, "creds.json");

  async function readFile(path: string): Promise<CacheFile> {
    let bytes: Uint8Array;
    try {
      const read = await readRegularFile(path, MAX_CACHE_FILE_BYTES);
      if (!isTrustedOwner(read.stats.uid))
        throw new Error(`${path}: owned by uid ${read.stats.uid}, not this user: not read`);
      bytes = read.bytes;
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return { entries: [] };
      if (err instanceof Error && /larger than/.test(err.message)) {
        logger.log("warning", `The token cache ${path} is broken: ${err.message}`);
        return { entries: [] };
      }
      throw new Error(`${path}: ${fsErrorReason(err)}`, { cause: err });
    }
    const parsed = parseCacheFile(new TextDecoder().decode(bytes));
    if ("broken" in parsed) {
      logger.log("warning", `The token cache ${path} is broken: ${parsed.broken}`);
      return { entries: [] };
    }
    return parsed;
  }

  async function readBoth(): Promise<{ entries: CacheEntry[]; legacyLastUpdate: string }> {
    await checkDir(dir, false);
    const creds = await readFile(credsPath);
    const tokens = await readFile(tokensPath);
    return { entries: mergeCacheFiles(tokens, creds), legacyLastUpdate: creds.lastUpdate ?? LEGACY_EPOCH };
  }

  /** Reads, lets `change` edit the entries, writes both files if it says so. */
  async function update(change: (entries: CacheEntry[]) => boolean): Promise<void> {
    const { entries, legacyLastUpdate } = await readBoth();
    if (!change(entries)) return;
    const nowMs = now();
    const kept = entries.filter((e) => {
      const old = isOldEntry(e, nowMs);
      if (old) logger.log("debug", `Cleaning up old token cache entry: ${e.key.key}`);
      return !old;
    });
    await makePrivateDirs(dir);
    await checkDir(dir, true);
    await writeCacheFile(
      credsPath,
      kept,
      legacyLastUpdate === "0001-01-01T00:00:00Z" ? LEGACY_EPOCH : legacyLastUpdate,
    );
    await writeCacheFile(tokensPath, kept, formatGoTime(nowMs));
  }

  async function writeCacheFile(path: string, entries: CacheEntry[], lastUpdate: string): Promise<void> {
    if (entries.length === 0) {
      // Nothing left: luci-go removes the file.
      await unlink(path).catch((err: unknown) => {
        if (errnoCode(err) !== "ENOENT") throw err;
      });
      return;
    }
    await writeFileAtomic(path, new TextEncoder().encode(serializeCacheFile(entries, lastUpdate)), {
      mode: 0o600,
    });
  }

  return {
    async get(key) {
      const { entries } = await readBoth();
      const entry = entries.find((e) => sameCacheKey(e.key, key));
      if (entry === undefined) return undefined;
      const { refreshToken: _, ...token } = entry.token;
      return token;
    },
    put(key, token) {
      return update((entries) => {
        const at = entries.findIndex((e) => sameCacheKey(e.key, key));
        const entry = newCacheEntry(key, token, now(), entries[at]);
        if (at >= 0) entries[at] = entry;
        else entries.push(entry);
        return true;
      });
    },
    delete(key) {
      return update((entries) => {
        const at = entries.findIndex((e) => sameCacheKey(e.key, key));
        if (at < 0) return false;
        entries.splice(at, 1);
        return true;
      });
    },
  };
}

/**
 * The secrets directory must be this user's (or root's) and closed to others: whoever can write
 * to it can choose the token sent. Missing is fine until `mustExist` (after it was made).
 */
async function checkDir(dir: string, mustExist: boolean): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(dir);
  } catch (err) {
    if (errnoCode(err) === "ENOENT" && !mustExist) return;
    throw new Error(`${dir}: ${fsErrorReason(err)}`, { cause: err });
  }
  if (!st.isDirectory()) throw new Error(`${dir}: not a directory`);
  if (!isTrustedOwner(st.uid)) throw new Error(`${dir}: owned by uid ${st.uid}, not this user: not used`);
  if (process.platform !== "win32" && (st.mode & 0o022) !== 0)
    throw new Error(`${dir}: writable by others (mode ${(st.mode & 0o777).toString(8)}): not used`);
}
