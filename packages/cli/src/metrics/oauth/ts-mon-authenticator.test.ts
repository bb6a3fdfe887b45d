import { chmod, lstat, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  createServiceAccountKey,
  type FakeGceMetadata,
  type FakeIamCredentials,
  type FakeOAuthServer,
  startFakeGceMetadata,
  startFakeIamCredentials,
  startFakeOAuthServer,
  type TestServiceAccountKey,
} from "@luci-machine-tokend/dev-server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startConnectProxy } from "../../../../core/src/testing/connect-proxy.js";
import { recordingLogger } from "../../../../core/src/testing/recording-logger.js";
import { makeTempDir } from "../../../../core/src/testing/temp-dir.js";
import { makeTlsCa } from "../../../../core/src/testing/tls-fixtures.js";
import { secretsDir } from "./disk-token-cache.js";
import { GCE_METADATA_IP } from "./gce-metadata.js";
import { createGoogleHttp, type GoogleHttp } from "./google-http.js";
import {
  createTsMonAuthenticator,
  PRODXMON_SCOPE,
  type TsMonAuthDeps,
  tsMonAuth,
} from "./ts-mon-authenticator.js";

const CLOUD_SCOPES = [
  "https://www.googleapis.com/auth/cloud-platform",
  "https://www.googleapis.com/auth/userinfo.email",
];

let oauth: FakeOAuthServer;
let caFile: string;
let ca: Awaited<ReturnType<typeof makeTlsCa>>;
let sa: TestServiceAccountKey;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let shared: Awaited<ReturnType<typeof makeTempDir>>;
/** The clock of the fake OAuth server and of runs that shift time. */
let now = Date.now;

beforeAll(async () => {
  shared = await makeTempDir();
  ca = await makeTlsCa();
  caFile = shared.path("ca.pem");
  await writeFile(caFile, ca.certPem);
  oauth = await startFakeOAuthServer({ tls: await ca.issue({ ip: ["127.0.0.1"] }), now: () => now() });
  sa = createServiceAccountKey({ tokenUri: oauth.tokenUri });
  oauth.addServiceAccount(sa.email, sa.publicKeyPem);
});
afterAll(async () => {
  await oauth.close();
  await shared.remove();
});
beforeEach(async () => {
  tmp = await makeTempDir();
  oauth.grants.length = 0;
  oauth.requests.length = 0;
  oauth.setAnswer(undefined);
  now = Date.now;
});
afterEach(() => tmp.remove());

/** A run's authenticator: a temp HOME, the test CA, a recording logger. */
function authenticator(config: { credentials: string; actAs?: string }, deps: TsMonAuthDeps = {}) {
  const logger = recordingLogger();
  const env = { HOME: tmp.dir, SSL_CERT_FILE: caFile, ...deps.env };
  const auth = createTsMonAuthenticator({ actAs: "", ...config }, { ...deps, env, logger });
  return { auth, logger };
}

const seconds = (s: number) => AbortSignal.timeout(s * 1000);

async function keyFile(json = sa.json): Promise<string> {
  const path = tmp.path("sa.json");
  await writeFile(path, json);
  return path;
}

async function cacheFile(name = "tokens.json"): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(secretsDir(tmp.dir), name), "utf8"));
}

describe("service-account key", () => {
  it("posts the JWT bearer grant to the key's token_uri once, then uses luci-go's disk cache", async () => {
    const credentials = await keyFile();
    const first = authenticator({ credentials });
    await first.auth.init(seconds(10));
    const token = await first.auth.accessToken(seconds(10));
    expect(oauth.issued(token)).toBe(true);
    expect(oauth.grants).toHaveLength(1);
    expect(oauth.grants[0]?.claims).toMatchObject({
      iss: sa.email,
      scope: PRODXMON_SCOPE,
      aud: oauth.tokenUri,
    });
    expect(oauth.grants[0]?.header).toEqual({ alg: "RS256", typ: "JWT", kid: sa.privateKeyId });

    // The next run (a new process) finds it on disk: no grant.
    const second = authenticator({ credentials });
    await second.auth.init(seconds(10));
    expect(await second.auth.authorization(seconds(10))).toBe(`Bearer ${token}`);
    expect(oauth.grants).toHaveLength(1);

    const tokens = await cacheFile();
    expect(tokens).toMatchObject({
      cache: [
        {
          key: { key: `service_account/${sa.email}/${sa.privateKeyId}`, scopes: [PRODXMON_SCOPE] },
          token: { access_token: token, token_type: "Bearer" },
          id_token: "-",
          email: sa.email,
        },
      ],
    });
    expect((await cacheFile("creds.json")).last_update).toBe("1970-01-01T00:00:00Z");
    // A secret: 0600 files in 0700 directories, parents included; no temp file left.
    const dir = secretsDir(tmp.dir);
    for (const d of [dir, join(tmp.dir, ".config"), join(tmp.dir, ".config", "chrome_infra")])
      expect((await lstat(d)).mode & 0o777).toBe(0o700);
    for (const f of ["tokens.json", "creds.json"])
      expect((await lstat(join(dir, f))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual(["creds.json", "tokens.json"]);
  });

  it("refreshes a cached token 10 s before expiry, and in the 5 s before that at random, as luci-go", async () => {
    const credentials = await keyFile();
    let at = Date.now();
    now = () => at;
    const run = async (random: number) => {
      const { auth } = authenticator({ credentials }, { now, random: () => random });
      await auth.init(seconds(10));
      return auth.accessToken(seconds(10));
    };
    const first = await run(0.5);
    const expiry = at + 3599_000;
    at = expiry - 16_000; // 16 s left: kept whatever the dice
    expect(await run(0.99)).toBe(first);
    at = expiry - 12_000; // 12 s left: refreshed when the draw is above 2 s of the 5
    expect(await run(0.1)).toBe(first);
    expect(oauth.grants).toHaveLength(1);
    const second = await run(0.9);
    expect(second).not.toBe(first);
    at += 3599_000 - 9_000; // 9 s left of the new one: always refreshed
    expect(await run(0)).not.toBe(second);
    expect(oauth.grants).toHaveLength(3);
  });

  it("errors at the push, not at start-up, for a key that cannot be read, with luci-go's lines", async () => {
    const { auth, logger } = authenticator({ credentials: tmp.path("missing.json") });
    await auth.init(seconds(10)); // as Go: PerRPCCredentials() succeeds
    await expect(auth.accessToken(seconds(10))).rejects.toThrow(
      /^failed to refresh auth token: invalid or unavailable service account credentials$/,
    );
    // The Go binary's lines, in its order: the key read at start-up, again when the push finds no
    // token in memory (luci-go's currentToken reads the cache again), and for the refresh.
    const loadFailed = `Failed to load private key JSON - open ${tmp.path("missing.json")}: no such file or directory`;
    const cacheFailed =
      "Failed to read auth token from cache: invalid or unavailable service account credentials";
    expect(logger.lines.filter((l) => l.level !== "debug").map((l) => l.message)).toEqual([
      loadFailed,
      cacheFailed,
      loadFailed,
      cacheFailed,
      loadFailed,
    ]);
  });

  it("never quotes the key file in an error", async () => {
    const credentials = await keyFile(sa.json.replace("{", "{ oops"));
    const { auth, logger } = authenticator({ credentials });
    await auth.init(seconds(10));
    await expect(auth.accessToken(seconds(10))).rejects.toThrow(
      /invalid or unavailable service account credentials/,
    );
    expect(JSON.stringify(logger.lines)).not.toContain("PRIVATE KEY");
    expect(logger.at("error")).toContain(`Failed to load private key JSON - ${credentials}: not valid JSON`);
  });

  it("drops a cached token and gives bad credentials when the endpoint answers 400 (not retried)", async () => {
    const credentials = await keyFile();
    now = () => Date.now() - 3600_000;
    const { auth: a } = authenticator({ credentials }, { now });
    await a.init(seconds(10));
    await a.accessToken(seconds(10)); // cached, expired by now
    now = Date.now;
    oauth.setAnswer({
      status: 400,
      json: { error: "invalid_grant", error_description: "Invalid JWT Signature." },
    });
    const { auth, logger } = authenticator({ credentials });
    await auth.init(seconds(10));
    await expect(auth.accessToken(seconds(10))).rejects.toThrow(
      "failed to refresh auth token: invalid or unavailable service account credentials",
    );
    expect(oauth.requests).toHaveLength(2);
    expect(logger.at("warning").join("\n")).toMatch(
      /Invalid or revoked service account key - oauth2: cannot fetch token: 400 Bad Request Response: \{"error":"invalid_grant"/,
    );
    // As luci-go: a token there was (the expired one) is refreshed, not minted.
    expect(logger.at("warning")).toContain(
      "Failed to refresh the token: invalid or unavailable service account credentials",
    );
    await expect(readFile(join(secretsDir(tmp.dir), "tokens.json"))).rejects.toThrow(/ENOENT/);
  });

  it("retries a 500 or an answer that is not JSON as luci-go does, but only until the push's deadline", async () => {
    oauth.setAnswer({ status: 200, body: "<html>", contentType: "text/html" });
    const { auth, logger } = authenticator({ credentials: await keyFile() });
    await auth.init(seconds(10));
    const started = Date.now();
    await expect(auth.accessToken(AbortSignal.timeout(1500))).rejects.toThrow(
      /^failed to refresh auth token: oauth2: cannot fetch token: the answer is not JSON$/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(oauth.requests.length).toBeGreaterThanOrEqual(2); // retried (after 10 ms, 20 ms, 40 ms …)
    expect(logger.at("warning")).toContain(
      "Error when creating token - oauth2: cannot fetch token: the answer is not JSON",
    );
  });

  it("takes a token without expires_in as one that never expires, as Go", async () => {
    oauth.setAnswer({ status: 200, json: { access_token: "forever", token_type: "Bearer" } });
    const credentials = await keyFile();
    const first = authenticator({ credentials });
    await first.auth.init(seconds(10));
    expect(await first.auth.accessToken(seconds(10))).toBe("forever");
    expect((await cacheFile()).cache).toMatchObject([{ token: { expiry: "0001-01-01T00:00:00Z" } }]);
    const second = authenticator({ credentials }, { now: () => Date.now() + 30 * 86400_000 });
    await second.auth.init(seconds(10));
    expect(await second.auth.accessToken(seconds(10))).toBe("forever");
    expect(oauth.requests).toHaveLength(1);
  });

  it("refuses an answer without access_token as Go: an expired token", async () => {
    oauth.setAnswer({ status: 200, json: { expires_in: 3600 } });
    const { auth } = authenticator({ credentials: await keyFile() });
    await auth.init(seconds(10));
    await expect(auth.accessToken(seconds(10))).rejects.toThrow(
      "failed to refresh auth token: got an expired token after the refresh",
    );
  });

  it("posts to a plain-http token_uri on loopback only", async () => {
    const plain = await startFakeOAuthServer({ serviceAccounts: { [sa.email]: sa.publicKeyPem } });
    try {
      const key = JSON.parse(sa.json);
      const { auth } = authenticator({
        credentials: await keyFile(JSON.stringify({ ...key, token_uri: plain.tokenUri })),
      });
      await auth.init(seconds(10));
      expect(plain.issued(await auth.accessToken(seconds(10)))).toBe(true);
      expect(plain.grants[0]?.claims.aud).toBe(plain.tokenUri);

      const far = authenticator({
        credentials: await keyFile(
          JSON.stringify({ ...key, private_key_id: "another", token_uri: "http://oauth.example.com/token" }),
        ),
      });
      await far.auth.init(seconds(10));
      await expect(far.auth.accessToken(seconds(2))).rejects.toThrow(
        'failed to refresh auth token: oauth2: cannot fetch token: Post "http://oauth.example.com/token": only https (or http to a loopback host) is used',
      );
    } finally {
      await plain.close();
    }
  });

  it("tsMonAuth: Go's start-up error from set-up, the authorization header at the push", async () => {
    const env = { HOME: tmp.dir, SSL_CERT_FILE: caFile };
    await expect(tsMonAuth({ env })({ credentials: "", actAs: "" })).rejects.toThrow(
      "interactive login is required",
    );
    const authorization = await tsMonAuth({ env })({ credentials: await keyFile(), actAs: "" });
    expect(oauth.requests).toHaveLength(0);
    const [scheme, token = ""] = (await authorization(seconds(10))).split(" ");
    expect(scheme).toBe("Bearer");
    expect(oauth.issued(token)).toBe(true);
  });

  it("without credentials: Go's start-up error, with or without act_as", async () => {
    for (const actAs of ["", "x@p.iam.gserviceaccount.com"]) {
      const { auth } = authenticator({ credentials: "", actAs });
      await expect(auth.init(seconds(10))).rejects.toThrow(/^interactive login is required$/);
      await expect(auth.accessToken(seconds(1))).rejects.toThrow(/^interactive login is required$/);
    }
  });
});

describe("the disk cache is a secret", () => {
  it("mints again, and overwrites, a cache that is broken (warned, as luci-go)", async () => {
    const dir = secretsDir(tmp.dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, "tokens.json"), '{"cache":[', { mode: 0o600 });
    const { auth, logger } = authenticator({ credentials: await keyFile() });
    await auth.init(seconds(10));
    await auth.accessToken(seconds(10));
    expect(logger.at("warning")).toContain(
      `The token cache ${join(dir, "tokens.json")} is broken: not valid JSON`,
    );
    expect((await cacheFile()).cache).toHaveLength(1);
  });

  it("does not read a cache file through a FIFO, nor wait on it", async () => {
    const dir = secretsDir(tmp.dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { execFileSync } = await import("node:child_process");
    execFileSync("mkfifo", [join(dir, "tokens.json")]);
    const { auth, logger } = authenticator({ credentials: await keyFile() });
    await auth.init(seconds(10));
    expect(logger.at("warning").join("\n")).toMatch(
      /Failed to read auth token from cache: .*tokens\.json: not a regular file \(it is a FIFO\)/,
    );
    expect(oauth.issued(await auth.accessToken(seconds(10)))).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)("does not follow another user's symlink to a cache", async () => {
    const dir = secretsDir(tmp.dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const planted = tmp.path("planted.json");
    await writeFile(
      planted,
      JSON.stringify({
        cache: [
          {
            key: { key: `service_account/${sa.email}/${sa.privateKeyId}`, scopes: [PRODXMON_SCOPE] },
            token: { access_token: "planted", expiry: "2099-01-01T00:00:00Z" },
          },
        ],
      }),
    );
    await symlink(planted, join(dir, "tokens.json"));
    const { lchown } = await import("node:fs/promises");
    await lchown(join(dir, "tokens.json"), 65534, 65534);
    const { auth } = authenticator({ credentials: await keyFile() });
    await auth.init(seconds(10));
    expect(await auth.accessToken(seconds(10))).not.toBe("planted");
  });

  it.skipIf(process.getuid?.() !== 0)(
    "does not take a token from another user's file in the cache",
    async () => {
      const dir = secretsDir(tmp.dir);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const cached = {
        key: { key: `service_account/${sa.email}/${sa.privateKeyId}`, scopes: [PRODXMON_SCOPE] },
        token: { access_token: "planted", expiry: "2099-01-01T00:00:00Z" },
      };
      await writeFile(join(dir, "tokens.json"), JSON.stringify({ cache: [cached] }), { mode: 0o600 });
      const { chown } = await import("node:fs/promises");
      await chown(join(dir, "tokens.json"), 65534, 65534);
      const { auth, logger } = authenticator({ credentials: await keyFile() });
      await auth.init(seconds(10));
      expect(await auth.accessToken(seconds(10))).not.toBe("planted");
      expect(logger.at("warning").join("\n")).toMatch(
        /tokens\.json: owned by uid 65534, not this user: not read/,
      );
    },
  );

  it("does not use a cache directory others can write to", async () => {
    const dir = secretsDir(tmp.dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o777);
    const { auth, logger } = authenticator({ credentials: await keyFile() });
    await auth.init(seconds(10));
    await auth.accessToken(seconds(10));
    expect(logger.at("warning").join("\n")).toMatch(/writable by others \(mode 777\): not used/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe(":gce", () => {
  let gce: FakeGceMetadata;
  beforeAll(async () => {
    gce = await startFakeGceMetadata();
  });
  afterAll(() => gce.close());
  beforeEach(() => {
    gce.requests.length = 0;
    gce.setAnswer(undefined);
  });

  it("asks the metadata server for the account at start-up and for the token at the push; nothing on disk", async () => {
    const { auth } = authenticator({ credentials: ":gce" }, { env: { GCE_METADATA_HOST: gce.hostPort } });
    await auth.init(seconds(10));
    const base = "/computeMetadata/v1/instance/service-accounts/default";
    expect(gce.requests.map((r) => r.url)).toEqual([`${base}/email`, `${base}/scopes`]);
    expect(gce.requests.every((r) => r.headers["metadata-flavor"] === "Google")).toBe(true);
    const token = await auth.accessToken(seconds(10));
    expect(gce.issued(token)).toBe(true);
    expect(gce.requests.at(-1)?.url).toBe(`${base}/token`);
    await expect(readdir(secretsDir(tmp.dir))).rejects.toThrow(/ENOENT/);
  });

  it("fails at start-up when the account lacks the scope, with luci-go's text", async () => {
    const narrow = await startFakeGceMetadata({ scopes: ["https://www.googleapis.com/auth/userinfo.email"] });
    try {
      const { auth, logger } = authenticator(
        { credentials: ":gce" },
        { env: { GCE_METADATA_HOST: narrow.hostPort } },
      );
      await expect(auth.init(seconds(10))).rejects.toThrow(
        /^can't get access token for the given account and scopes$/,
      );
      expect(logger.at("warning")[0]).toMatch(
        /GCE service account "default" doesn't have required scope "https:\/\/www.googleapis.com\/auth\/prodxmon"/,
      );
    } finally {
      await narrow.close();
    }
  });

  it("off GCE (no GCE_METADATA_HOST, no Metadata-Flavor answer): bad credentials at once, as luci-go", async () => {
    // What a machine off GCE meets at 169.254.169.254: nothing, or a network's own refusal.
    const refusing = createServer((_req, res) => res.writeHead(403).end("resolve_deny: denied destination"));
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    const hostPort = `127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    const real = createGoogleHttp({ env: {}, logger: recordingLogger() });
    const http: GoogleHttp = (request, signal) =>
      real({ ...request, url: request.url.replace(GCE_METADATA_IP, hostPort) }, signal);
    try {
      const { auth, logger } = authenticator({ credentials: ":gce" }, { http });
      const started = Date.now();
      await expect(auth.init(seconds(10))).rejects.toThrow(
        /^invalid or unavailable service account credentials$/,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(logger.at("warning")).toEqual([]); // not retried
      await new Promise((resolve) => refusing.close(resolve));
      const unreachable = authenticator({ credentials: ":gce" }, { http });
      await expect(unreachable.auth.init(seconds(10))).rejects.toThrow(
        /^invalid or unavailable service account credentials$/,
      );
    } finally {
      if (refusing.listening) refusing.close();
    }
  });

  it("retries a failing metadata server at start-up only until the deadline it is given", async () => {
    gce.setAnswer({ status: 500, body: "boom" });
    const { auth } = authenticator({ credentials: ":gce" }, { env: { GCE_METADATA_HOST: gce.hostPort } });
    await expect(auth.init(AbortSignal.timeout(500))).rejects.toThrow(/^compute: Received 500 `boom`$/);
  });
});

describe("act_as", () => {
  let iam: FakeIamCredentials;
  const target = "target@fake-project.iam.gserviceaccount.com";
  beforeAll(async () => {
    iam = await startFakeIamCredentials({ acceptBaseToken: (t) => oauth.issued(t), accounts: [target] });
  });
  afterAll(() => iam.close());
  beforeEach(() => {
    iam.requests.length = 0;
  });

  it("exchanges a cloud-scoped base token for the account's through generateAccessToken, both cached", async () => {
    const credentials = await keyFile();
    const deps = { iamEndpoint: iam.url };
    const { auth } = authenticator({ credentials, actAs: target }, deps);
    await auth.init(seconds(10));
    const token = await auth.accessToken(seconds(10));
    expect(iam.tokens.map((t) => t.accessToken)).toEqual([token]);
    expect(oauth.grants[0]?.claims.scope).toBe(CLOUD_SCOPES.join(" "));
    const call = iam.requests[0];
    expect(call?.url).toBe(
      `/v1/projects/-/serviceAccounts/target%40fake-project.iam.gserviceaccount.com:generateAccessToken?alt=json`,
    );
    expect(call?.headers.authorization).toBe(`Bearer ${oauth.grants[0]?.accessToken}`);
    expect(call?.headers["content-type"]).toBe("application/json");
    expect(call?.body).toBe(`{"scope":["${PRODXMON_SCOPE}"]}`);
    expect((await cacheFile()).cache).toMatchObject([
      { key: { key: `service_account/${sa.email}/${sa.privateKeyId}`, scopes: CLOUD_SCOPES } },
      {
        key: { key: `iam/${target}`, scopes: [PRODXMON_SCOPE] },
        email: target,
        token: { access_token: token },
      },
    ]);
    const again = authenticator({ credentials, actAs: target }, deps);
    await again.auth.init(seconds(10));
    expect(await again.auth.accessToken(seconds(10))).toBe(token);
    expect(iam.requests).toHaveLength(1);
    expect(oauth.grants).toHaveLength(1);
  });

  it("acts from the GCE account too: its token in memory only, the account's on disk", async () => {
    const gce = await startFakeGceMetadata();
    const accepting = await startFakeIamCredentials({ acceptBaseToken: (t) => gce.issued(t) });
    try {
      const { auth } = authenticator(
        { credentials: ":gce", actAs: target },
        { iamEndpoint: accepting.url, env: { GCE_METADATA_HOST: gce.hostPort } },
      );
      await auth.init(seconds(10));
      const token = await auth.accessToken(seconds(10));
      expect(accepting.requests[0]?.headers.authorization).toBe(`Bearer ${gce.tokens[0]}`);
      expect((await cacheFile()).cache).toMatchObject([
        { key: { key: `iam/${target}` }, token: { access_token: token } },
      ]);
    } finally {
      await Promise.all([gce.close(), accepting.close()]);
    }
  });

  it("reaches IAM through HTTPS_PROXY (a CONNECT tunnel), verified with the trust roots of SSL_CERT_FILE", async () => {
    const proxy = await startConnectProxy();
    const tlsIam = await startFakeIamCredentials({
      tls: await ca.issue({ dns: ["iamcredentials.test"] }),
      acceptBaseToken: (t) => oauth.issued(t),
    });
    try {
      const port = new URL(tlsIam.url).port;
      const { auth } = authenticator(
        { credentials: await keyFile(), actAs: target },
        { iamEndpoint: `https://iamcredentials.test:${port}`, env: { HTTPS_PROXY: proxy.url.href } },
      );
      await auth.init(seconds(10));
      expect(await auth.accessToken(seconds(10))).toBe(tlsIam.tokens[0]?.accessToken);
      expect(proxy.tunnels.map((t) => t.target)).toEqual([`iamcredentials.test:${port}`]); // loopback OAuth: direct
    } finally {
      await Promise.all([proxy.close(), tlsIam.close()]);
    }
  });

  it("gives IAM's refusal as google-api-go words it, not retried", async () => {
    const { auth } = authenticator(
      { credentials: await keyFile(), actAs: "other@p.iam.gserviceaccount.com" },
      { iamEndpoint: iam.url },
    );
    await auth.init(seconds(10));
    await expect(auth.accessToken(seconds(10))).rejects.toThrow(
      "failed to refresh auth token: googleapi: Error 403: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
    );
    expect(iam.requests).toHaveLength(1);
  });
});
