import { execFileSync } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { fromJsonString } from "@bufbuild/protobuf";
import { decodeMachineToken, verifyMachineToken } from "@luci-machine-tokend/core";
import { TokenFileSchema } from "@luci-machine-tokend/core/gen";
import type { DevServer, TestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadedModules } from "../../../core/src/testing/loaded-modules.js";
import { executedModules } from "../testing/executed-modules.js";
import { BIN, ESM_CLI, runCli, runProgram } from "../testing/run-cli.js";
import { startTestTokenServer } from "../testing/test-token-server.js";
import { createTokendFixture, type TokendFixture } from "../testing/tokend-fixture.js";

let pki: TestPki;
let server: DevServer;
let fx: TokendFixture;

beforeAll(async () => {
  ({ pki, server } = await startTestTokenServer());
});
afterAll(() => server.close());
beforeEach(async () => {
  fx = await createTokendFixture(pki);
  server.faults.clear();
  server.requests.length = 0;
});
afterEach(() => fx.cleanup());

const status = async () => JSON.parse(await readFile(fx.statusPath, "utf8")) as Record<string, unknown>;
const tokenOf = async (path: string) =>
  (JSON.parse(await readFile(path, "utf8")) as { luci_machine_token: string }).luci_machine_token;
/** The package's library entry (main, runTokend), built. */
const LIBRARY_ENTRY = new URL("../../dist/bundle/index.js", import.meta.url).href;
const mints = () => server.requests.filter((r) => r.outcome.kind === "token").length;

describe("the CLI against the dev server (LUCI's main_test scenarios)", () => {
  it("NEW_TOKEN, then TOKEN_IS_GOOD, then MISSING_TOKEN_COPY, then FORCE_REFRESH", async () => {
    const copies = ["-token-file-copy", fx.path("copy1.json"), "-token-file-copy", fx.path("copy2.json")];
    const first = await runCli([...fx.args(server.backend), ...copies]);
    expect(first.code).toBe(0);
    expect(await status()).toMatchObject({
      update_outcome: "UPDATE_SUCCESS",
      update_reason: "NEW_TOKEN",
      service_version: "dev-token-server/0.1.0",
    });
    const token1 = await tokenOf(fx.tokenPath);
    expect(await tokenOf(fx.path("copy1.json"))).toBe(token1);
    expect(await tokenOf(fx.path("copy2.json"))).toBe(token1);
    expect((await decodeMachineToken(token1)).body.machineFqdn).toBe("bot-1.example.com");
    expect(mints()).toBe(1);

    const second = await runCli([...fx.args(server.backend), ...copies]);
    expect(second.code).toBe(0);
    expect(await status()).toMatchObject({ update_outcome: "TOKEN_IS_GOOD", update_reason: "TOKEN_IS_GOOD" });
    expect((await status()).rpc_duration_us).toBeUndefined();
    expect(mints()).toBe(1);

    await rm(fx.path("copy2.json"));
    const third = await runCli([...fx.args(server.backend), ...copies]);
    expect(third.code).toBe(0);
    expect(await status()).toMatchObject({
      update_outcome: "TOKEN_IS_GOOD",
      update_reason: "MISSING_TOKEN_COPY",
    });
    expect(await tokenOf(fx.path("copy2.json"))).toBe(token1);
    expect(mints()).toBe(1);

    await new Promise((r) => setTimeout(r, 1100)); // a new second, so the new token differs
    const fourth = await runCli([...fx.args(server.backend), ...copies, "-force-refresh"]);
    expect(fourth.code).toBe(0);
    expect(await status()).toMatchObject({
      update_outcome: "UPDATE_SUCCESS",
      update_reason: "FORCE_REFRESH",
    });
    const token2 = await tokenOf(fx.tokenPath);
    expect(token2).not.toBe(token1);
    for (const f of ["copy1.json", "copy2.json"]) expect(await tokenOf(fx.path(f))).toBe(token2);
    expect(mints()).toBe(2);
  });

  it("runs no protobuf-es and no Connect code when the token is good, nor for -h", async () => {
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    // Only runs that send ts-mon metrics or write the Prometheus textfile run the metrics ones.
    const lazilyLoaded =
      /^node_modules\/@(bufbuild|connectrpc)\/|\/metrics\/(go-url|ts-mon-setup|ts-mon-target|prometheus-text|oauth\/\S+)\.js$/;
    for (const args of [fx.args(server.backend), ["-h"]]) {
      const run = await executedModules(args);
      expect(run.code).toBe(0);
      expect(run.modules).toContain("packages/cli/dist/main.js");
      expect(run.modules.filter((m) => lazilyLoaded.test(m))).toEqual([]);
    }
    // The probe sees them when they run.
    const refresh = await executedModules(fx.args(server.backend, "-force-refresh"));
    expect(refresh.modules).toContain("node_modules/@bufbuild/protobuf/dist/esm/registry.js");
    expect(mints()).toBe(2);
  });

  it("a refresh wakes no TurboFan (its first compilation costs ~3.5 MiB of peak RSS: short-run-v8-flags.ts)", async () => {
    const run = await runProgram(
      [process.execPath, "--trace-opt", BIN],
      fx.args(server.backend, "-force-refresh"),
    );
    expect(run.code).toBe(0);
    expect(run.stdout.match(/^\[completed compiling .*$/gm) ?? []).toEqual([]);
    // The probe works: the same run through the library's main (V8's defaults) optimizes some.
    const viaLibrary = `import(${JSON.stringify(LIBRARY_ENTRY)}).then(({ main }) =>
  main(process.argv.slice(1), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }))`;
    const plain = await runProgram(
      [process.execPath, "--trace-opt", "-e", viaLibrary, "--"],
      fx.args(server.backend, "-force-refresh"),
    );
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^\[completed compiling /m);
  });

  it("as ES modules (the library's entry shares these chunks), loads neither for a good token or -h", async () => {
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    for (const args of [fx.args(server.backend), ["-h"]]) {
      const run = await loadedModules([ESM_CLI, ...args]);
      expect(run.code).toBe(0);
      // Start-up costs of Node 20 (BENCHMARKS.md): node:module pulls in the ES module resolver and
      // source maps; an ES import of node:fs loads its stream classes.
      expect(run.urls.filter((u) => u === "node:module" || u === "node:fs")).toEqual([]);
      const files = run.urls.filter((u) => u.startsWith("file:"));
      expect(files.length).toBeGreaterThan(2);
      expect(files.filter((u) => /ts-mon-authenticator/.test(u))).toEqual([]);
      // Each chunk is one more module to resolve, link and compile at every start: the bin, the
      // start path in one chunk (scripts/bundle.mjs), esbuild's helpers (BENCHMARKS.md).
      expect(files.length).toBeLessThanOrEqual(4);
      // The bundle keeps each module's origin as a comment: `// ../../node_modules/@bufbuild/…`.
      let bytes = 0;
      for (const file of files) {
        const text = await readFile(new URL(file), "utf8");
        bytes += text.length;
        expect([file, /node_modules\/@(bufbuild|connectrpc)\//.test(text)]).toEqual([file, false]);
        // Only runs that send ts-mon metrics or write the Prometheus textfile load those.
        const onlySome = /^\/\/ dist\/metrics\/(go-url|ts-mon-setup|ts-mon-target|prometheus-text)\.js$/m;
        expect([file, onlySome.exec(text)?.[0]]).toEqual([file, undefined]);
      }
      // What V8 parses before the run starts (124 KB before ts-mon loaded lazily; 115 KB now).
      expect(bytes).toBeLessThan(120_000);
    }
    expect(mints()).toBe(1);
  });

  it("refreshes a token whose next_update has passed (TOKEN_EXPIRES), keeping Go's file format", async () => {
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    const file = JSON.parse(await readFile(fx.tokenPath, "utf8"));
    file.next_update = String(Math.floor(Date.now() / 1000) - 5);
    await writeFile(fx.tokenPath, JSON.stringify(file, null, 2));
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    expect(await status()).toMatchObject({
      update_outcome: "UPDATE_SUCCESS",
      update_reason: "TOKEN_EXPIRES",
    });
    const text = await readFile(fx.tokenPath, "utf8");
    expect(text).toMatch(
      /^\{\n {2}"luci_machine_token": "[A-Za-z0-9+/]+",\n {2}"expiry": "\d+",\n {2}"last_update": "\d+",\n {2}"next_update": "\d+",\n {2}"tokend_state": "[A-Za-z0-9+/]+=*"\n\}$/,
    );
  });

  it("writes a file that jq and a strict proto3 JSON reader accept, with a token the server's certificate verifies", async () => {
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    const viaJq = execFileSync("jq", ["-r", ".luci_machine_token", fx.tokenPath], {
      encoding: "utf8",
    }).trim();
    expect(viaJq).toBe(await tokenOf(fx.tokenPath));
    const strict = fromJsonString(TokenFileSchema, await readFile(fx.tokenPath, "utf8")); // unknown keys would throw
    expect(strict.luciMachineToken).toBe(viaJq);
    const certs = await (await fetch(`${server.url}/auth/api/v1/server/certificates`)).json();
    expect((await verifyMachineToken(viaJq, { certificates: certs, now: new Date() })).body.machineFqdn).toBe(
      "bot-1.example.com",
    );
  });
});

describe("outcomes reached for real", () => {
  const outcomeOf = async (args: string[]) => {
    const r = await runCli(args);
    return { code: r.code, ...(await status()), stderr: r.stderr };
  };

  it("MINT_TOKEN_ERROR_* for certificates and clocks the server refuses", async () => {
    await writeFile(fx.certPath, pki.untrusted.certPem);
    expect(await outcomeOf(fx.args(server.backend))).toMatchObject({
      code: 1,
      update_outcome: "MINT_TOKEN_ERROR_UNTRUSTED_CERTIFICATE",
      service_version: "dev-token-server/0.1.0",
      // The server's answer is generic: the log names what it judged.
      stderr: expect.stringMatching(
        /does not trust the certificate \S+: issued by "CN=Dev Server Test CA \(untrusted\)", valid /,
      ),
    });
    await writeFile(fx.certPath, pki.dotless.certPem);
    expect(await outcomeOf(fx.args(server.backend))).toMatchObject({
      update_outcome: "MINT_TOKEN_ERROR_BAD_TOKEN_ARGUMENTS",
      failure_error: 'token server error BAD_TOKEN_ARGUMENTS - not a valid FQDN "bot-1"',
    });
    await writeFile(fx.certPath, pki.certPem);
    server.faults.set({ clockOffsetMs: 11 * 60_000 });
    const skewed = await outcomeOf(fx.args(server.backend));
    expect(skewed).toMatchObject({ update_outcome: "MINT_TOKEN_ERROR_BAD_TIMESTAMP" });
    expect(skewed.stderr).toContain("check the clock");
    expect(server.requests).toHaveLength(3); // logic errors are never retried
  });

  it("GRPC_ERROR_4 after retrying an outage until -timeout; GRPC_ERROR_7 at once for a 403 proxy page", async () => {
    server.faults.set({ httpFault: { kind: "proxy-html", status: 503 } });
    const down = await runCli(fx.args(server.backend, "-timeout", "1500ms"));
    expect(down.code).toBe(1);
    // Go's text, then the last attempt's error (the proxy page, escaped to one line).
    expect(await status()).toMatchObject({
      update_outcome: "GRPC_ERROR_4",
      failure_error: expect.stringMatching(
        /^rpc error: code = DeadlineExceeded desc = prpc: overall deadline exceeded: context deadline exceeded; last attempt: rpc error: code = Unavailable desc = /,
      ),
    });
    expect(server.requests.length).toBeGreaterThan(2);
    const refused = await runCli(fx.args("127.0.0.1:9", "-timeout", "500ms"));
    expect(refused.code).toBe(1);
    expect((await status()).failure_error).toMatch(/; last attempt: .*connect ECONNREFUSED 127\.0\.0\.1:9$/);
    expect(down.stderr).toMatch(/RPC failed transiently \(retry in /);
    server.requests.length = 0;
    server.faults.set({ httpFault: { kind: "proxy-html", status: 403 } });
    const denied = await runCli(fx.args(server.backend));
    expect(await status()).toMatchObject({ update_outcome: "GRPC_ERROR_7" });
    expect(denied.code).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  // As the reference binary, an oversized answer or a success under a wrong Content-Type ends the
  // run at once (Go's client checks them outside its retry loop) with Go's outcome,
  // UNKNOWN_RPC_ERROR; the gRPC code is in failure_error.
  it("UNKNOWN_RPC_ERROR for an oversized answer or a wrong Content-Type, without retrying", async () => {
    server.faults.set({ httpFault: { kind: "oversize" } });
    expect((await runCli(fx.args(server.backend))).code).toBe(1);
    expect(await status()).toMatchObject({
      update_outcome: "UNKNOWN_RPC_ERROR",
      failure_error: expect.stringMatching(
        /^rpc error: code = Unavailable desc = prpc: the response size \d+ exceeds the client limit 33521664$/,
      ),
    });
    expect(server.requests).toHaveLength(1);
    server.requests.length = 0;
    server.faults.clear();
    server.faults.set({ httpFault: { kind: "wrong-content-type" } });
    expect((await runCli(fx.args(server.backend))).code).toBe(1);
    expect(await status()).toMatchObject({
      update_outcome: "UNKNOWN_RPC_ERROR",
      failure_error:
        'rpc error: code = Internal desc = prpc: bad response content type "text/html; charset=utf-8": unknown content type: "text/html"',
    });
    expect(server.requests).toHaveLength(1);
  });

  it("recovers from a reset connection and a truncated body by retrying", async () => {
    server.faults.set({ httpFault: { kind: "reset", times: 1 } });
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    server.faults.set({ httpFault: { kind: "truncate", times: 1 } });
    expect((await runCli(fx.args(server.backend, "-force-refresh"))).code).toBe(0);
    expect(await status()).toMatchObject({ update_outcome: "UPDATE_SUCCESS" });
  });

  it("schedules a short-lived token at the 5-minute floor", async () => {
    server.faults.set({ tokenLifetimeMs: 60_000 });
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    const s = await status();
    expect(Number(s.token_expiry_ts) - Number(s.token_last_update_ts)).toBeLessThanOrEqual(60);
    expect(Number(s.token_next_update_ts) - Number(s.token_last_update_ts)).toBe(150);
  });

  it("-timeout 0: a needed refresh fails without a request; a good token still passes", async () => {
    expect((await runCli(fx.args(server.backend, "-timeout", "0"))).code).toBe(1);
    expect(await status()).toMatchObject({ update_outcome: "GRPC_ERROR_4" });
    expect(server.requests).toHaveLength(0);
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    expect((await runCli(fx.args(server.backend, "-timeout", "0"))).code).toBe(0);
    expect(await status()).toMatchObject({ update_outcome: "TOKEN_IS_GOOD" });
  });

  it("CANT_READ_KEY before looking at the token, and UNKNOWN_SAVE_TOKEN_ERROR for a missing directory", async () => {
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    await writeFile(fx.keyPath, pki.certPem); // a certificate given as the key
    const r = await runCli(fx.args(server.backend));
    expect(r.code).toBe(1);
    expect(await status()).toMatchObject({ update_outcome: "CANT_READ_KEY", update_reason: "PARAMS_CHANGE" });
    expect(r.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
    await writeFile(fx.keyPath, pki.keyPem);
    const args = fx
      .args(server.backend)
      .map((a) => (a === fx.tokenPath ? fx.path("no-such-dir/token.json") : a));
    expect((await runCli(args)).code).toBe(1);
    expect(await status()).toMatchObject({ update_outcome: "UNKNOWN_SAVE_TOKEN_ERROR" });
  });

  it("GRPC_ERROR_1 when interrupted during the RPC (status still written); a second signal aborts at once", async () => {
    server.faults.set({ latencyMs: 5_000 });
    // Signal once the CLI has logged that the RPC is on its way.
    const whenCalling = (send: (child: import("node:child_process").ChildProcess) => void) => ({
      onSpawn: (child: import("node:child_process").ChildProcess) => {
        child.stderr?.on("data", (d: Buffer) => {
          if (d.toString().includes("tokenserver.minter.TokenMinter.MintMachineToken")) send(child);
        });
      },
    });
    const once = await runCli(
      fx.args(server.backend),
      whenCalling((child) => child.kill("SIGTERM")),
    );
    expect(once.code).toBe(1);
    expect(once.ms).toBeLessThan(4_000);
    expect(await status()).toMatchObject({ update_outcome: "GRPC_ERROR_1" });
    await rm(fx.statusPath);
    // Two different signals at once (two of the same kind may merge into one delivery).
    const twice = await runCli(
      fx.args(server.backend),
      whenCalling((child) => {
        child.kill("SIGINT");
        child.kill("SIGTERM");
      }),
    );
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("Got second interrupt signal. Aborting.");
  });
});

describe("answers the dev server never gives, from a raw pRPC server", () => {
  it("MALFORMED_RESPONSE for a token_response without a token; UNKNOWN_RPC_ERROR for SUCCESS without token_response", async () => {
    const { createServer } = await import("node:http");
    const { create, toBinary } = await import("@bufbuild/protobuf");
    const { MintMachineTokenResponseSchema } = await import("@luci-machine-tokend/core/gen");
    let answer = create(MintMachineTokenResponseSchema, {
      serviceVersion: "raw/1",
      tokenResponse: { serviceVersion: "raw/1" },
    });
    const raw = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "X-Prpc-Grpc-Code": "0", "Content-Type": "application/prpc; encoding=binary" });
        res.end(toBinary(MintMachineTokenResponseSchema, answer));
      });
    });
    await new Promise<void>((r) => raw.listen(0, "127.0.0.1", r));
    const backend = `127.0.0.1:${(raw.address() as import("node:net").AddressInfo).port}`;
    try {
      expect((await runCli(fx.args(backend))).code).toBe(1);
      expect(await status()).toMatchObject({
        update_outcome: "MALFORMED_RESPONSE",
        failure_error: "bad response, empty luci_machine_token field",
        service_version: "raw/1",
      });
      answer = create(MintMachineTokenResponseSchema, { serviceVersion: "raw/1" });
      expect((await runCli(fx.args(backend))).code).toBe(1);
      expect(await status()).toMatchObject({
        update_outcome: "UNKNOWN_RPC_ERROR",
        failure_error: "token server didn't return a token",
      });
      expect((await status()).service_version).toBeUndefined(); // Go writes none either
    } finally {
      raw.closeAllConnections();
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });
});

describe("outputs and packaging", () => {
  it("writes ts-mon and Prometheus metrics files", async () => {
    const metrics = fx.path("metrics.txt");
    const prom = fx.path("tokend.prom");
    const r = await runCli(
      fx.args(server.backend, "-ts-mon-endpoint", `file://${metrics}`, "-prometheus-textfile", prom),
    );
    expect(r.code).toBe(0);
    expect(await readFile(metrics, "utf8")).toMatch(
      /^metrics_collection: <\n {2}metrics_data_set: <\n[\s\S]*\n {6}string_value: "UPDATE_SUCCESS"\n[\s\S]*\n>\n$/,
    );
    expect(r.stderr).toMatch(/\] Sending ts_mon metrics:\nmetrics_collection: <\n/);
    expect(await readFile(prom, "utf8")).toContain('luci_machine_tokend_update_reason{reason="NEW_TOKEN"} 1');
  });

  it("runs Connect for ts-mon only for an https:// endpoint, not for file://", async () => {
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    const usesConnect = async (endpoint: string) => {
      const run = await executedModules(fx.args(server.backend, "-ts-mon-endpoint", endpoint));
      expect(run.code).toBe(0);
      return {
        protobuf: run.modules.some((m) => /node_modules\/@bufbuild\//.test(m)),
        connect: run.modules.some((m) => /node_modules\/@connectrpc\//.test(m)),
        oauth: run.modules.some((m) => /\/metrics\/oauth\/ts-mon-authenticator\.js$/.test(m)),
        stderr: run.stderr,
      };
    };
    expect(await usesConnect(`file://${fx.path("m.txt")}`)).toMatchObject({
      protobuf: true,
      connect: false,
      oauth: false,
    });
    // Without credentials Go's init fails before any push: only the OAuth set-up is loaded.
    const https = await usesConnect("https://127.0.0.1:9/v1:insert");
    expect(https).toMatchObject({ protobuf: false, connect: false, oauth: true });
    expect(https.stderr).toContain(
      "Failed to initialize tsmon - failed to initialize monitor: interactive login is required",
    );
  });

  it("20 runs started together on a fresh token file: one MintMachineToken, all exit 0", async () => {
    server.faults.set({ latencyMs: 300 });
    const runs = await Promise.all(Array.from({ length: 20 }, () => runCli(fx.args(server.backend))));
    expect(runs.map((r) => r.code)).toEqual(Array(20).fill(0));
    expect(server.requests).toHaveLength(1);
  });
});

describe("permissions, as an unprivileged user (CI runs as root, which ignores file modes)", () => {
  it("SAVE_TOKEN_PERM_ERROR when the token directory is not writable, the old token intact", async () => {
    const { chmod, mkdir, copyFile } = await import("node:fs/promises");
    expect((await runCli(fx.args(server.backend))).code).toBe(0);
    const before = await readFile(fx.tokenPath, "utf8");
    // nobody (65534) may read the key, cert and token and write the status, but not the token directory.
    await chmod(fx.dir, 0o755);
    await chmod(fx.keyPath, 0o644);
    const statusDir = fx.path("status");
    await mkdir(statusDir, { mode: 0o777 });
    await chmod(statusDir, 0o777);
    await copyFile(fx.tokenPath, fx.path("token-before.json"));
    const args = fx
      .args(server.backend, "-force-refresh")
      .map((a) => (a === fx.statusPath ? `${statusDir}/status.json` : a));
    const r = await runCli(args, {
      wrapper: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
    });
    expect(r.code).toBe(1);
    const s = JSON.parse(await readFile(`${statusDir}/status.json`, "utf8"));
    expect(s.update_outcome).toBe("SAVE_TOKEN_PERM_ERROR");
    expect(s.failure_error).toMatch(/EACCES/);
    expect(await readFile(fx.tokenPath, "utf8")).toBe(before);
  });
});
