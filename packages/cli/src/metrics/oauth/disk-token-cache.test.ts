import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recordingLogger } from "../../../../core/src/testing/recording-logger.js";
import { makeTempDir } from "../../../../core/src/testing/temp-dir.js";
import { createDiskTokenCache } from "./disk-token-cache.js";

const token = (accessToken: string, expiryMs = Date.now() + 3600_000) => ({
  accessToken,
  tokenType: "Bearer",
  expiryMs,
  idToken: "-",
  email: "a@p",
});

describe("createDiskTokenCache", () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let dir: string;
  beforeEach(async () => {
    tmp = await makeTempDir();
    dir = join(tmp.dir, "auth");
  });
  afterEach(() => tmp.remove());

  it("keeps every file whole under concurrent writers (the last one wins, as Go's); no temp file left", async () => {
    const caches = Array.from({ length: 12 }, () =>
      createDiskTokenCache({ dir, logger: recordingLogger(), now: Date.now }),
    );
    await Promise.all(caches.map((c, i) => c.put({ key: `k${i}`, scopes: ["s"] }, token(`t${i}`))));
    for (const name of ["tokens.json", "creds.json"]) {
      const file = JSON.parse(await readFile(join(dir, name), "utf8"));
      expect(file.cache.length).toBeGreaterThanOrEqual(1);
    }
    expect((await readdir(dir)).sort()).toEqual(["creds.json", "tokens.json"]);
  });

  it("drops tokens expired 2 hours ago and the file's unknown keys when it writes; keeps creds.json's last_update", async () => {
    await mkdir(dir, { mode: 0o700 });
    const old = {
      key: { key: "old" },
      token: { access_token: "o", expiry: new Date(Date.now() - 7300_000).toISOString() },
    };
    await writeFile(join(dir, "tokens.json"), JSON.stringify({ cache: [old], zz: 1 }), { mode: 0o600 });
    await writeFile(
      join(dir, "creds.json"),
      JSON.stringify({ cache: [], last_update: "2020-01-01T00:00:00Z" }),
      { mode: 0o600 },
    );
    const logger = recordingLogger();
    const cache = createDiskTokenCache({ dir, logger, now: Date.now });
    await cache.put({ key: "new", scopes: ["s"] }, token("n"));
    const tokens = JSON.parse(await readFile(join(dir, "tokens.json"), "utf8"));
    expect(tokens.cache.map((e: { key: { key: string } }) => e.key.key)).toEqual(["new"]);
    expect(tokens).not.toHaveProperty("zz");
    expect(logger.at("debug")).toContain("Cleaning up old token cache entry: old");
    expect(JSON.parse(await readFile(join(dir, "creds.json"), "utf8")).last_update).toBe(
      "2020-01-01T00:00:00Z",
    );
  });

  it("removes both files when the last token goes, as Go", async () => {
    const cache = createDiskTokenCache({ dir, logger: recordingLogger(), now: Date.now });
    const key = { key: "k", scopes: ["s"] };
    await cache.put(key, token("t"));
    expect(await cache.get(key)).toMatchObject({ accessToken: "t" });
    await cache.delete(key);
    expect(await readdir(dir)).toEqual([]);
    expect(await cache.get(key)).toBeUndefined();
  });
});
