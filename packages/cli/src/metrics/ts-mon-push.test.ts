import { readFile, writeFile } from "node:fs/promises";
import { createSecureServer, type Http2ServerResponse, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Code } from "@connectrpc/connect";
import type { StatusReport } from "@luci-machine-tokend/core";
import type { AuthorizationFn } from "@luci-machine-tokend/core/ts-mon";
import { type FakeProdx, prodxError, startFakeProdx } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startConnectProxy, type TestConnectProxy } from "../../../core/src/testing/connect-proxy.js";
import { recordingLogger } from "../../../core/src/testing/recording-logger.js";
import { makeTempDir } from "../../../core/src/testing/temp-dir.js";
import { makeTlsCa } from "../../../core/src/testing/tls-fixtures.js";
import { main } from "../main.js";
import { flushTsMon, type TsMonAuth, type TsMonMonitor } from "./ts-mon.js";
import { tsMonPayload } from "./ts-mon-payload.js";
import type { RootLabel } from "./ts-mon-target.js";

const REPORT: StatusReport = {
  tokendVersion: "1.3",
  startedTs: 1_796_677_632,
  updateOutcome: "UPDATE_SUCCESS",
  updateReason: "NEW_TOKEN",
  serviceVersion: "dev-token-server/0.1.0",
  tokenExpiryTs: 1_796_681_232,
  tokenLastUpdateTs: 1_796_677_632,
  tokenNextUpdateTs: 1_796_679_432,
  totalDurationUs: 195_152,
  rpcDurationUs: 192_712,
  logDump: "",
};
const LABELS: RootLabel[] = [
  ["service_name", "luci_machine_tokend"],
  ["task_num", 0n],
  ["is_tsmon", true],
];
const NOW = new Date("2026-12-07T21:07:12.905Z");
/** A name only the test proxy resolves (it tunnels to 127.0.0.1), so the push must use it. */
const PROXIED_NAME = "prodx.test";

describe("the ts-mon push to ProdX (gRPC over TLS)", () => {
  let prodx: FakeProdx;
  let proxy: TestConnectProxy;
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let env: Record<string, string | undefined>;
  let identity: { certPem: string; keyPem: string };
  beforeAll(async () => {
    const ca = await makeTlsCa("ProdX test CA");
    tmp = await makeTempDir();
    await writeFile(tmp.path("ca.pem"), ca.certPem);
    env = { SSL_CERT_FILE: tmp.path("ca.pem"), SSL_CERT_DIR: "" };
    identity = await ca.issue({ dns: [PROXIED_NAME], ip: ["127.0.0.1"] });
    prodx = await startFakeProdx({ tls: identity });
    proxy = await startConnectProxy();
  });
  afterAll(async () => {
    await Promise.all([prodx?.close(), proxy?.close(), tmp?.remove()]);
  });
  beforeEach(() => {
    prodx.inserts.length = 0;
    prodx.answer({});
  });

  /** A ProdX that answers each call as `answer` says, with the fake's certificate. */
  async function startRawProdx(answer: (res: Http2ServerResponse) => void) {
    const server = createSecureServer({ cert: identity.certPem, key: identity.keyPem }, (req, res) => {
      req.resume();
      req.on("end", () => answer(res));
    });
    const sessions = new Set<ServerHttp2Session>();
    server.on("session", (session) => {
      sessions.add(session);
      session.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: () =>
        new Promise<void>((resolve) => {
          for (const session of sessions) session.destroy();
          server.close(() => resolve());
        }),
    };
  }

  const port = () => Number(prodx.address.split(":")[1]);
  const monitor = (
    authorization: AuthorizationFn = async () => "Bearer t0ken",
    host = "127.0.0.1",
    at = port(),
  ): TsMonMonitor => ({
    kind: "prodx",
    host,
    port: at,
    authorization,
    labels: LABELS,
  });
  const flush = async (m: TsMonMonitor, extraEnv: Record<string, string> = {}) => {
    const logger = recordingLogger();
    await flushTsMon(m, REPORT, { logger, now: () => NOW, env: { ...env, ...extraEnv } });
    return logger;
  };

  it("sends Insert{payload} with the bearer token and a 10 s grpc-timeout; logs as Go at debug", async () => {
    const logger = await flush(monitor());
    expect(prodx.inserts).toHaveLength(1);
    const [insert] = prodx.inserts;
    expect(insert?.authorization).toBe("Bearer t0ken");
    expect(insert?.payload).toEqual(tsMonPayload(REPORT, LABELS, NOW));
    const timeout = /^(\d+)m$/.exec(insert?.grpcTimeout ?? "");
    expect(Number(timeout?.[1])).toBeGreaterThan(9_000);
    expect(Number(timeout?.[1])).toBeLessThanOrEqual(10_000);
    expect(logger.at("debug").filter((l) => l.startsWith("tsmon: sent"))).toEqual([
      expect.stringMatching(/^tsmon: sent 10 cells in [\d.]+m?s$/),
    ]);
    expect([...logger.at("warning"), ...logger.at("error")]).toEqual([]);
  });

  it("main(): set up before the run, pushed after it; the status file and exit code stay the run's", async () => {
    const args = [
      ...["-pkey-pem", tmp.path("no-key.pem"), "-cert-pem", tmp.path("no-cert.pem")],
      ...["-backend", "127.0.0.1:1", "-token-file", tmp.path("token.json")],
      ...["-status-file", tmp.path("status.json"), "-ts-mon-config-file", tmp.path("none.json")],
      ...["-ts-mon-endpoint", `https://127.0.0.1:${port()}/v1:insert`, "-ts-mon-task-hostname", "bot-1"],
    ];
    let stderr = "";
    const io = (auth?: TsMonAuth) => ({
      stdout: () => {},
      stderr: (t: string) => {
        stderr += t;
      },
      tsMon: { auth, env },
    });
    expect(
      await main(
        args,
        io(() => async () => "Bearer t0ken"),
      ),
    ).toBe(1);
    expect(prodx.inserts).toHaveLength(1);
    const labels = prodx.inserts[0]?.payload?.metricsCollection[0]?.rootLabels;
    expect(labels?.find((l) => l.key === "host_name")?.value).toEqual({
      case: "stringValue",
      value: "bot-1",
    });
    const outcome = prodx.inserts[0]?.payload?.metricsCollection[0]?.metricsDataSet.find(
      (d) => d.metricName === "/chrome/infra/luci/machine_tokend/update_outcome",
    );
    expect(outcome?.data[0]?.value).toEqual({ case: "stringValue", value: "CANT_READ_KEY" });
    const status = JSON.parse(await readFile(tmp.path("status.json"), "utf8"));
    expect(status.update_outcome).toBe("CANT_READ_KEY");

    // Without credentials (the default token source): Go's init line, no push, the run goes on.
    stderr = "";
    expect(await main(args, io())).toBe(1);
    expect(prodx.inserts).toHaveLength(1);
    expect(stderr).toMatch(
      /^\[E\S+ \d+ 0 tokend\] Failed to initialize tsmon - failed to initialize monitor: interactive login is required$/m,
    );
    expect(stderr.indexOf("Failed to initialize tsmon")).toBeLessThan(
      stderr.indexOf("Failed to read the private key"),
    );
  });

  it("a token that cannot be had: Go's two lines, nothing sent", async () => {
    const logger = await flush(
      monitor(async () => {
        throw new Error("oauth2: cannot fetch token");
      }),
    );
    expect(prodx.inserts).toHaveLength(0);
    const error =
      "rpc error: code = Unauthenticated desc = transport: per-RPC creds failed due to error: oauth2: cannot fetch token";
    expect(logger.at("warning")).toEqual([`tsmon: failed to send 10 cells - ${error}`]);
    expect(logger.at("error")).toEqual([`Failed to send tsmon metrics - ${error}`]);
  });

  it("ends at its own deadline even when garbage is collected meanwhile (a token source that hangs)", async () => {
    // Node 20's AbortSignal.any holds an AbortSignal.timeout weakly: after a collection the
    // deadline would never come, and a failing token endpoint would be retried for minutes.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const collecting = setInterval(gc, 20);
    const hangs = (signal: AbortSignal) =>
      new Promise<string>((_, reject) =>
        signal.addEventListener("abort", () => reject(new Error("the token endpoint did not answer"))),
      );
    const logger = recordingLogger();
    const started = performance.now();
    try {
      await flushTsMon(monitor(hangs), REPORT, { logger, now: () => NOW, env, timeoutMs: 300 });
    } finally {
      clearInterval(collecting);
    }
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(logger.at("error")).toEqual([
      "Failed to send tsmon metrics - rpc error: code = Unauthenticated desc = transport: per-RPC creds failed due to error: the token endpoint did not answer",
    ]);
  });

  it("a ProdX that never answers: Go's DeadlineExceeded line at the push's deadline", async () => {
    const silent = await startRawProdx(() => {});
    try {
      const logger = recordingLogger();
      const started = performance.now();
      await flushTsMon(monitor(undefined, undefined, silent.port), REPORT, {
        logger,
        now: () => NOW,
        env,
        timeoutMs: 500,
      });
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(logger.at("error")).toEqual([
        "Failed to send tsmon metrics - rpc error: code = DeadlineExceeded desc = context deadline exceeded",
      ]);
    } finally {
      await silent.close();
    }
  });

  it("a hostile ProdX (a 4 MiB answer, 1 MiB of trailers or headers) costs nothing: refused at once", async () => {
    const answers: Array<(res: Http2ServerResponse) => void> = [
      (res) => {
        const frame = Buffer.alloc(5 + (4 << 20));
        frame.writeUInt32BE(4 << 20, 1);
        res.writeHead(200, { "content-type": "application/grpc" }).end(frame);
      },
      (res) => {
        res.writeHead(200, { "content-type": "application/grpc" });
        res.addTrailers({ "grpc-status": "7", "grpc-message": "x".repeat(1 << 20) });
        res.end();
      },
      (res) => res.writeHead(200, { "content-type": "application/grpc", "x-big": "y".repeat(1 << 20) }).end(),
    ];
    for (const answer of answers) {
      const hostile = await startRawProdx(answer);
      try {
        const logger = recordingLogger();
        const started = performance.now();
        await flushTsMon(monitor(undefined, undefined, hostile.port), REPORT, {
          logger,
          now: () => NOW,
          env,
        });
        expect(performance.now() - started).toBeLessThan(3_000);
        expect(logger.at("error")).toEqual([
          expect.stringMatching(
            /^Failed to send tsmon metrics - rpc error: code = (ResourceExhausted|Internal) desc = .{1,200}$/,
          ),
        ]);
      } finally {
        await hostile.close();
      }
    }
  });

  it("refuses a token a header cannot carry (a hostile endpoint's CR LF) without quoting it", async () => {
    const logger = await flush(monitor(async () => "Bearer s3cret\r\nx-injected: 1"));
    expect(prodx.inserts).toHaveLength(0);
    expect(logger.at("error")).toEqual([
      "Failed to send tsmon metrics - rpc error: code = Unauthenticated desc = transport: per-RPC creds failed due to error: the token has characters a header cannot carry",
    ]);
    expect(JSON.stringify(logger.lines)).not.toContain("s3cret");
  });

  it("a refused call and a non-OK response_status are logged as Go logs them", async () => {
    prodx.answer(prodxError(Code.PermissionDenied, "caller lacks monitoring.write"));
    const refused = await flush(monitor());
    const error = "rpc error: code = PermissionDenied desc = caller lacks monitoring.write";
    expect(refused.at("warning")).toEqual([`tsmon: failed to send 10 cells - ${error}`]);
    expect(refused.at("error")).toEqual([`Failed to send tsmon metrics - ${error}`]);

    prodx.answer({ responseStatus: { code: 8, message: "quota" } });
    const partly = await flush(monitor());
    expect(partly.at("warning")).toEqual([
      "tsmon: got non-OK response status - rpc error: code = ResourceExhausted desc = quota",
    ]);
    expect(partly.at("error")).toEqual([]);
  });

  it("verifies the server with SSL_CERT_FILE's roots only: an untrusted server gets nothing", async () => {
    const other = await makeTlsCa("Not the ProdX CA");
    await writeFile(tmp.path("other.pem"), other.certPem);
    const logger = await flush(monitor(), { SSL_CERT_FILE: tmp.path("other.pem") });
    expect(prodx.inserts).toHaveLength(0);
    expect(logger.at("error")).toEqual([
      expect.stringMatching(/^Failed to send tsmon metrics - rpc error: code = /),
    ]);
  });

  it("goes through HTTPS_PROXY as an HTTP CONNECT tunnel; loopback is never proxied", async () => {
    const logger = await flush(monitor(undefined, PROXIED_NAME), { HTTPS_PROXY: proxy.url.href });
    expect(logger.at("error")).toEqual([]);
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`${PROXIED_NAME}:${port()}`]);
    expect(prodx.inserts).toHaveLength(1);

    // As the Go binary: whatever the proxy's scheme, grpc-go sends it a plain CONNECT.
    const socks = await flush(monitor(undefined, PROXIED_NAME), {
      HTTPS_PROXY: `socks5://${proxy.url.host}`,
    });
    expect(socks.at("error")).toEqual([]);
    expect(proxy.tunnels).toHaveLength(2);
    expect(prodx.inserts).toHaveLength(2);

    const direct = await flush(monitor(), { HTTPS_PROXY: proxy.url.href, NO_PROXY: "127.0.0.1" });
    expect(direct.at("error")).toEqual([]);
    expect(proxy.tunnels).toHaveLength(2);
  });
});
