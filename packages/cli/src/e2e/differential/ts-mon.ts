import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type DiffResult,
  type DiffWorkspace,
  expectSame,
  IMPLS,
  type Impl,
  runBoth,
  runImpl,
} from "../../testing/differential.js";
import {
  ACT_AS,
  comparableGrant,
  type GoogleStandIns,
  IAM_HOST_PORT,
  startGoogleStandIns,
  tsMonLines,
} from "../../testing/google-stand-ins.js";
import { comparableTsMonPayload, comparableTsMonText } from "../../testing/ts-mon-text.js";
import type { DiffContext } from "./context.js";

/** ts-mon metrics: Go's text format for file://, the same payload pushed to ProdX. */
export function tsMonScenarios(suite: { ctx: DiffContext; ws: DiffWorkspace }): void {
  describe("ts-mon", () => {
    it("file://PATH: both append Go's text format, one payload per run, the same text (numbers masked)", async () => {
      const { ctx, ws } = suite;
      const metrics = (impl: Impl) => join(ws.dir(impl), "metrics.txt");
      const args = (impl: Impl) => [
        ...ws.args(impl, ctx.dev.backend),
        "-ts-mon-endpoint",
        `file://${metrics(impl)}`,
      ];
      expectSame(await runBoth(ws, args, { serverCalls: ctx.mints }));
      expectSame(await runBoth(ws, args, { serverCalls: ctx.mints }));
      const [go, ts] = await Promise.all([readFile(metrics("go"), "utf8"), readFile(metrics("ts"), "utf8")]);
      expect(comparableTsMonText(go)).toHaveLength(2);
      expect(comparableTsMonText(ts)).toEqual(comparableTsMonText(go));
    });

    it("file://name (a host, no path): neither writes a file, both log the payload", async () => {
      const { ctx, ws } = suite;
      // Each run in its own directory, where a relative file would land.
      const run = (impl: Impl) =>
        runImpl(
          impl,
          [...ws.args(impl, ctx.dev.backend), "-ts-mon-endpoint", "file://metrics.txt"],
          ws.dir(impl),
          {
            serverCalls: ctx.mints,
            cwd: ws.dir(impl),
          },
        );
      const result = { go: await run("go"), ts: await run("ts") };
      expectSame(result);
      for (const impl of ["go", "ts"] as const) {
        expect(result[impl].observation.files).not.toContain("metrics.txt");
        expect(result[impl].result.stderr).toMatch(/\] Sending ts_mon metrics:\nmetrics_collection: <\n/);
      }
    });

    describe("https:// (ProdX over gRPC), OAuth from loopback fakes", () => {
      let google: GoogleStandIns;
      beforeAll(async () => {
        google = await startGoogleStandIns();
      });
      afterAll(() => google?.close());
      beforeEach(() => google.reset());

      /** Each implementation's flags, pushing to the fake ProdX with `extra` credentials flags. */
      const pushArgs =
        (...extra: string[]) =>
        (impl: Impl) => [
          ...suite.ws.args(impl, suite.ctx.dev.backend),
          ...["-ts-mon-endpoint", google.prodx.endpoint],
          ...extra,
        ];
      /** The environment of a run: the test CA as the system's roots, a HOME for the token cache. */
      const envFor = (home: string, extra: Record<string, string> = {}) => ({
        SSL_CERT_FILE: google.caFile,
        SSL_CERT_DIR: "",
        HOME: home,
        GCE_METADATA_HOST: "",
        NO_PROXY: "",
        no_proxy: "",
        ...extra,
      });
      /** Runs `first`, then the other, in the same HOME, with the key file as credentials. */
      const inOneHome = async (first: Impl) => {
        const { ws, ctx } = suite;
        const home = join(ws.root, "home");
        const args = pushArgs("-ts-mon-credentials", google.keyFile);
        const order: Impl[] = first === "go" ? ["go", "ts"] : ["ts", "go"];
        const runs = {} as DiffResult;
        for (const impl of order)
          runs[impl] = await runImpl(impl, args(impl), ws.dir(impl), {
            serverCalls: ctx.mints,
            env: envFor(home),
          });
        expectSame(runs);
        return runs;
      };
      /** Both pushed once, after the run, the same payload (times and durations masked). */
      const expectSamePushes = () => {
        expect(google.prodx.inserts).toHaveLength(2);
        const [a, b] = google.prodx.inserts;
        expect(comparableTsMonPayload(b?.payload)).toEqual(comparableTsMonPayload(a?.payload));
        expect(a?.payload?.metricsCollection[0]?.metricsDataSet).toHaveLength(10);
        return google.prodx.inserts.map((i) => i.authorization);
      };

      it("key file: Go mints and caches the OAuth token, ours sends it from the cache (no grant); the same payload and grpc-timeout", async () => {
        const runs = await inOneHome("go");
        expect(google.oauth.grants).toHaveLength(1);
        const token = `Bearer ${google.oauth.grants[0]?.accessToken}`;
        expect(expectSamePushes()).toEqual([token, token]);
        for (const impl of IMPLS) expect(runs[impl].result.stderr).toMatch(/\] tsmon: sent 10 cells in /);
        for (const insert of google.prodx.inserts) {
          // Go: "9888701u"; ours "9990m": both the rest of the push's own 10 s.
          const [, value = "", unit = ""] = /^(\d+)([umS])$/.exec(insert.grpcTimeout ?? "") ?? [];
          const ms = Number(value) / ({ u: 1000, m: 1, S: 0.001 }[unit] ?? Number.NaN);
          expect(ms).toBeGreaterThan(8_000);
          expect(ms).toBeLessThanOrEqual(10_000);
        }
      });

      it("key file: ours mints and caches the OAuth token, Go sends it from the cache (no grant)", async () => {
        await inOneHome("ts");
        expect(google.oauth.grants).toHaveLength(1);
        const token = `Bearer ${google.oauth.grants[0]?.accessToken}`;
        expect(expectSamePushes()).toEqual([token, token]);
      });

      it(":gce: the same metadata calls (GCE_METADATA_HOST), each sends the VM's token", async () => {
        const { ws, ctx } = suite;
        const calls: Record<Impl, unknown[]> = { go: [], ts: [] };
        const runs = await runBoth(ws, pushArgs("-ts-mon-credentials", ":gce"), {
          serverCalls: ctx.mints,
          envFor: (impl) => envFor(join(ws.root, `home-${impl}`), { GCE_METADATA_HOST: google.gce.hostPort }),
          after: (impl) => {
            calls[impl] = google.gce.requests.map((r) => [r.method, r.url, r.headers["metadata-flavor"]]);
            google.gce.requests.length = 0;
          },
        });
        expectSame(runs);
        expect(calls.ts).toEqual(calls.go);
        expect(calls.go).toHaveLength(3); // email and scopes at start-up, the token at the push
        expect(expectSamePushes()).toEqual(google.gce.tokens.map((t) => `Bearer ${t}`));
        // Neither caches a GCE token on disk.
        for (const impl of IMPLS) expect(existsSync(join(ws.root, `home-${impl}`, ".config"))).toBe(false);
      });

      it("act_as: the same JWT grant for the base token and the same generateAccessToken call (IAM reached through HTTPS_PROXY), each sends the account's token", async () => {
        const { ws, ctx } = suite;
        const runs = await runBoth(
          ws,
          pushArgs("-ts-mon-credentials", google.keyFile, "-ts-mon-act-as", ACT_AS),
          {
            serverCalls: ctx.mints,
            envFor: (impl) => envFor(join(ws.root, `home-${impl}`), { HTTPS_PROXY: google.proxy.url.href }),
          },
        );
        expectSame(runs);
        const [go, ts] = google.oauth.requests.map(comparableGrant);
        expect(google.oauth.grants).toHaveLength(2);
        expect(ts).toEqual(go);
        expect(go?.claims.scope).toBe(
          "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email",
        );
        const [goIam, tsIam] = google.iam.requests.map((r) => ({
          method: r.method,
          url: r.url,
          contentType: r.headers["content-type"],
          scheme: r.headers.authorization?.split(" ")[0],
          body: r.body,
          status: r.status,
        }));
        expect(tsIam).toEqual(goIam);
        expect(goIam?.status).toBe(200);
        expect(google.proxy.tunnels.map((t) => t.target)).toEqual([IAM_HOST_PORT, IAM_HOST_PORT]);
        expect(expectSamePushes()).toEqual(google.iam.tokens.map((t) => `Bearer ${t.accessToken}`));
      });

      // Go's lines when no token can be had: at start-up (ts-mon off for the run) or at the push.
      it.each([
        { name: "no credentials", flags: () => [] },
        {
          name: "a key file that is not there",
          flags: () => ["-ts-mon-credentials", "/nonexistent/sa.json"],
        },
        {
          name: "the token endpoint refusing the grant (400)",
          flags: () => ["-ts-mon-credentials", google.keyFile],
          set: () =>
            google.oauth.setAnswer({
              status: 400,
              json: { error: "invalid_grant", error_description: "Invalid JWT Signature." },
            }),
        },
        {
          name: "IAM refusing act_as (403)",
          flags: () => [
            "-ts-mon-credentials",
            google.keyFile,
            "-ts-mon-act-as",
            "other@fake-project.iam.gserviceaccount.com",
          ],
        },
      ] as Array<{ name: string; flags: () => string[]; set?: () => void }>)(
        "ts-mon error lines, $name: Go's, and the run's outcome unchanged",
        async ({ flags, set }) => {
          const { ws, ctx } = suite;
          set?.();
          const runs = await runBoth(ws, pushArgs(...flags()), {
            serverCalls: ctx.mints,
            envFor: (impl) => envFor(join(ws.root, `home-${impl}`), { HTTPS_PROXY: google.proxy.url.href }),
          });
          expectSame(runs);
          expect(google.prodx.inserts).toEqual([]);
          const [go, ts] = IMPLS.map((impl) => tsMonLines(runs[impl].result.stderr));
          expect(go?.length).toBeGreaterThan(0);
          expect(ts).toEqual(go);
        },
      );
    });
  });
}
