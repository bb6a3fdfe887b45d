import { execFileSync } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DevServer, ProdxInsert, TestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { secretsDir } from "../metrics/oauth/disk-token-cache.js";
import {
  ACT_AS,
  type GoogleStandIns,
  IAM_HOST_PORT,
  startGoogleStandIns,
} from "../testing/google-stand-ins.js";
import { runCli } from "../testing/run-cli.js";
import { startTestTokenServer } from "../testing/test-token-server.js";
import { createTokendFixture, type TokendFixture } from "../testing/tokend-fixture.js";

// The built CLI in a child process pushes its metrics to ProdX as a bot does, with an OAuth token
// from loopback stand-ins for Google (see testing/google-stand-ins.ts); no Go binary needed.

let pki: TestPki;
let server: DevServer;
let google: GoogleStandIns;
let fx: TokendFixture;

beforeAll(async () => {
  [{ pki, server }, google] = await Promise.all([startTestTokenServer(), startGoogleStandIns()]);
});
afterAll(() => Promise.all([server?.close(), google?.close()]));
beforeEach(async () => {
  fx = await createTokendFixture(pki);
  google.reset();
  server.requests.length = 0;
});
afterEach(() => fx.cleanup());

/** A run of the CLI with its HOME in the fixture and the stand-ins' CA as the system's roots. */
const run = (args: string[], env: Record<string, string> = {}) =>
  runCli(fx.args(server.backend, ...args), {
    env: {
      HOME: fx.path("home"),
      SSL_CERT_FILE: google.caFile,
      SSL_CERT_DIR: "",
      GCE_METADATA_HOST: "",
      HTTPS_PROXY: "",
      https_proxy: "",
      NO_PROXY: "",
      no_proxy: "",
      ...env,
    },
  });

/** A string gauge's value in a pushed payload, e.g. `update_outcome`. */
const gauge = (insert: ProdxInsert | undefined, name: string) =>
  insert?.payload?.metricsCollection[0]?.metricsDataSet.find(
    (d) => d.metricName === `/chrome/infra/luci/machine_tokend/${name}`,
  )?.data[0]?.value.value;

describe("ts-mon over https:// from the CLI", () => {
  it("a service-account key (from the config file, then the flag): one OAuth grant for two runs, the token cached 0600 in a 0700 directory", async () => {
    await writeFile(
      fx.path("ts-mon.json"),
      JSON.stringify({ endpoint: google.prodx.endpoint, credentials: google.keyFile }),
    );
    const first = await run(["-ts-mon-config-file", fx.path("ts-mon.json")]);
    expect(first.code).toBe(0);
    // The token is good now: no MintMachineToken, but the metrics still go out, with the cached token.
    const second = await run([
      "-ts-mon-endpoint",
      google.prodx.endpoint,
      "-ts-mon-credentials",
      google.keyFile,
    ]);
    expect(second.code).toBe(0);
    for (const r of [first, second]) expect(r.stderr).not.toMatch(/Failed to (initialize|send) tsmon/);
    expect(server.requests).toHaveLength(1);
    expect(google.oauth.grants).toHaveLength(1);
    expect(google.oauth.grants[0]?.claims.scope).toBe("https://www.googleapis.com/auth/prodxmon");
    const bearer = `Bearer ${google.oauth.grants[0]?.accessToken}`;
    expect(google.prodx.inserts.map((i) => [i.authorization, gauge(i, "update_outcome")])).toEqual([
      [bearer, "UPDATE_SUCCESS"],
      [bearer, "TOKEN_IS_GOOD"],
    ]);
    expect(JSON.parse(await readFile(fx.statusPath, "utf8")).update_outcome).toBe("TOKEN_IS_GOOD");

    const dir = secretsDir(fx.path("home"));
    for (const d of [join(fx.path("home"), ".config"), join(fx.path("home"), ".config/chrome_infra"), dir])
      expect([d, (await stat(d)).mode & 0o777]).toEqual([d, 0o700]);
    expect((await stat(join(dir, "tokens.json"))).mode & 0o777).toBe(0o600);
    const cache = JSON.parse(await readFile(join(dir, "tokens.json"), "utf8"));
    expect(cache.cache).toMatchObject([
      {
        key: { key: `service_account/${google.key.email}/${google.key.privateKeyId}` },
        token: { access_token: google.oauth.grants[0]?.accessToken },
      },
    ]);
  });

  it(":gce (GCE_METADATA_HOST) and act_as (IAM reached through HTTPS_PROXY): each push sends its token", async () => {
    const gce = await run(["-ts-mon-endpoint", google.prodx.endpoint, "-ts-mon-credentials", ":gce"], {
      GCE_METADATA_HOST: google.gce.hostPort,
    });
    expect([gce.code, gce.stderr]).toEqual([0, expect.stringMatching(/\] tsmon: sent 10 cells in /)]);
    expect(google.prodx.inserts[0]?.authorization).toBe(`Bearer ${google.gce.tokens[0]}`);

    const args = ["-ts-mon-endpoint", google.prodx.endpoint, "-ts-mon-credentials", google.keyFile];
    const acting = await run([...args, "-ts-mon-act-as", ACT_AS], { HTTPS_PROXY: google.proxy.url.href });
    expect([acting.code, acting.stderr]).toEqual([0, expect.stringMatching(/\] tsmon: sent \d+ cells in /)]);
    expect(google.proxy.tunnels.map((t) => t.target)).toEqual([IAM_HOST_PORT]);
    expect(google.iam.tokens).toMatchObject([{ account: ACT_AS }]);
    expect(google.prodx.inserts[1]?.authorization).toBe(`Bearer ${google.iam.tokens[0]?.accessToken}`);

    // An account IAM refuses: Go's lines, the run unharmed.
    const refused = await run([...args, "-ts-mon-act-as", "other@fake-project.iam.gserviceaccount.com"], {
      HTTPS_PROXY: google.proxy.url.href,
    });
    expect(refused.code).toBe(0);
    expect(refused.stderr).toMatch(
      /\] Failed to send tsmon metrics - rpc error: code = Unauthenticated desc = transport: per-RPC creds failed due to error: failed to refresh auth token: googleapi: Error 403: Permission 'iam\.serviceAccounts\.getAccessToken' denied/,
    );
    expect(google.prodx.inserts).toHaveLength(2);
  });

  it("a FIFO at -ts-mon-credentials neither blocks the run nor the push (Go's waits on it before the run, for good)", async () => {
    const fifo = fx.path("sa.json");
    execFileSync("mkfifo", [fifo]);
    const r = await run(["-ts-mon-endpoint", google.prodx.endpoint, "-ts-mon-credentials", fifo]);
    expect(r.code).toBe(0);
    expect(JSON.parse(await readFile(fx.statusPath, "utf8")).update_outcome).toBe("UPDATE_SUCCESS");
    expect(r.stderr).toContain(
      `] Failed to load private key JSON - open ${fifo}: not a regular file (it is a FIFO)\n`,
    );
    expect(r.stderr).toMatch(
      /\] Failed to send tsmon metrics - rpc error: code = Unauthenticated desc = transport: per-RPC creds failed due to error: failed to refresh auth token: invalid or unavailable service account credentials\n/,
    );
    expect(google.prodx.inserts).toEqual([]);
  });
});
