import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeProdx, startFakeProdx } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTlsCa } from "../../../../core/src/testing/tls-fixtures.js";
import { main } from "../../main.js";
import { type DiffWorkspace, expectSame, type Impl, runBoth, runImpl } from "../../testing/differential.js";
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

    describe("https:// (ProdX over gRPC)", () => {
      let prodx: FakeProdx;
      let tokenEndpoint: Server;
      let dir: string;
      let env: Record<string, string>;
      beforeAll(async () => {
        dir = await mkdtemp(join(tmpdir(), "tokend-tsmon-diff-"));
        const ca = await makeTlsCa("Differential ProdX CA");
        await writeFile(join(dir, "ca.pem"), ca.certPem);
        prodx = await startFakeProdx({ tls: await ca.issue({ ip: ["127.0.0.1"] }) });
        // Answers any JWT-bearer grant: Go's service-account flow then calls ProdX with "Bearer t".
        tokenEndpoint = createServer((req, res) => {
          req.resume();
          req.on("end", () =>
            res
              .writeHead(200, { "content-type": "application/json" })
              .end(JSON.stringify({ access_token: "t", token_type: "Bearer", expires_in: 3600 })),
          );
        });
        await new Promise<void>((resolve) => tokenEndpoint.listen(0, "127.0.0.1", resolve));
        const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        await writeFile(
          join(dir, "sa.json"),
          JSON.stringify({
            type: "service_account",
            client_email: "tokend@example.iam.gserviceaccount.com",
            private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
            private_key_id: "k1",
            token_uri: `http://127.0.0.1:${(tokenEndpoint.address() as AddressInfo).port}/token`,
          }),
          { mode: 0o600 },
        );
        // HOME: Go caches the OAuth token under ~/.config/chrome_infra/auth.
        env = { SSL_CERT_FILE: join(dir, "ca.pem"), SSL_CERT_DIR: "", HOME: dir };
      });
      afterAll(async () => {
        await prodx?.close();
        tokenEndpoint?.closeAllConnections();
        await new Promise<void>((resolve) =>
          tokenEndpoint ? tokenEndpoint.close(() => resolve()) : resolve(),
        );
        await rm(dir, { recursive: true, force: true });
      });

      // Ours runs in-process with the token injected (io.tsMon.auth), until the OAuth module
      // gives the CLI its own -ts-mon-credentials: then this becomes a run of the built CLI.
      it("both push the same payload (times and durations masked) with a bearer token and a ~10 s grpc-timeout", async () => {
        const { ctx, ws } = suite;
        prodx.inserts.length = 0;
        const args = (impl: Impl) => [
          ...ws.args(impl, ctx.dev.backend),
          "-ts-mon-endpoint",
          prodx.endpoint,
          "-ts-mon-credentials",
          join(dir, "sa.json"),
        ];
        const go = await runImpl("go", args("go"), ws.dir("go"), { env });
        expect(go.result.stderr).toMatch(/\] tsmon: sent 10 cells in /);
        let stderr = "";
        const code = await main(args("ts"), {
          stdout: () => {},
          stderr: (text) => {
            stderr += text;
          },
          tsMon: { auth: () => async () => "t", env },
        });
        expect(code).toBe(0);
        expect(stderr).toMatch(/\] tsmon: sent 10 cells in /);
        expect(prodx.inserts).toHaveLength(2);
        const [fromGo, fromUs] = prodx.inserts;
        expect(comparableTsMonPayload(fromUs?.payload)).toEqual(comparableTsMonPayload(fromGo?.payload));
        for (const insert of [fromGo, fromUs]) {
          expect(insert?.authorization).toBe("Bearer t");
          // Go: "9888701u"; ours "9990m": both the rest of the push's own 10 s.
          const [, value = "", unit = ""] = /^(\d+)([umS])$/.exec(insert?.grpcTimeout ?? "") ?? [];
          const ms = Number(value) / ({ u: 1000, m: 1, S: 0.001 }[unit] ?? Number.NaN);
          expect(ms).toBeGreaterThan(8_000);
          expect(ms).toBeLessThanOrEqual(10_000);
        }
      });
    });
  });
}
