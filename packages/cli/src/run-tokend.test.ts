import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  calcDigest,
  type Logger,
  readTokenFile,
  statusReportToJson,
  tokendDigestInputs,
} from "@luci-machine-tokend/core";
import { ErrorCode } from "@luci-machine-tokend/core/gen";
import { acquireRunLock } from "@luci-machine-tokend/core/internal";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createFakeClock, type FakeClock } from "../../core/src/testing/fake-clock.js";
import { createFakeMinter, type FakeMinter, tokenReply } from "../../core/src/testing/fake-minter.js";
import { durableWriteOf, recordingAtomicFs } from "../../core/src/testing/recording-fs.js";
import type { TokendDeps } from "./run-deps.js";
import { exitCodeOf, runTokend } from "./run-tokend.js";
import { createTokendFixture, type TokendFixture } from "./testing/tokend-fixture.js";

const START = new Date(1422936306_500); // 2015-02-03T04:05:06.5Z
const HOUR = 3_600_000;
const BACKEND = "127.0.0.1:1";

let pki: TestPki;
let fx: TokendFixture;
let clock: FakeClock;
let minter: FakeMinter;
let logs: string[];

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com", now: START });
});

beforeEach(async () => {
  fx = await createTokendFixture(pki);
  clock = createFakeClock(START);
  logs = [];
  let n = 0;
  minter = createFakeMinter(() => tokenReply(`token-${++n}`, new Date(clock.now().getTime() + HOUR)));
});

afterEach(() => fx.cleanup());

function deps(extra: Partial<TokendDeps> = {}): TokendDeps {
  const logger: Logger = { log: (level, m) => logs.push(`${level}: ${m}`) };
  return {
    now: clock.now,
    monotonic: () => clock.now().getTime(),
    sleep: clock.sleep,
    jitter: false,
    logger,
    createClient: () => minter.client,
    ...extra,
  };
}

async function digest(backend = BACKEND): Promise<string> {
  const [keyPem, certPem] = await Promise.all([readFile(fx.keyPath), readFile(fx.certPath)]);
  return calcDigest(tokendDigestInputs({ backend, certPem, keyPem }));
}

describe("runTokend: LUCI's main_test scenarios with exact values", () => {
  it("needs only the four paths Go requires; the rest has Go's defaults", async () => {
    const options = { pkeyPem: fx.keyPath, certPem: fx.certPath, backend: BACKEND, tokenFile: fx.tokenPath };
    const clients: unknown[] = [];
    const createClient: TokendDeps["createClient"] = (backend, clientOptions) => {
      clients.push({ backend, ...clientOptions });
      return minter.client;
    };
    const report = await runTokend(options, deps({ createClient }));
    expect(report).toMatchObject({ updateOutcome: "UPDATE_SUCCESS", updateReason: "NEW_TOKEN" });
    expect(clients).toEqual([
      { backend: BACKEND, protocol: "prpc", caBundle: undefined, logger: expect.anything() },
    ]);
    expect(minter.requests).toHaveLength(1);
    expect(await readTokenFile(fx.tokenPath)).toMatchObject({ token: { luciMachineToken: "token-1" } });
    await expect(runTokend({ ...options, backend: "" }, deps())).rejects.toThrow(
      "runTokend: backend is required",
    );
  });

  it("mints a new token and writes Go's file and status", async () => {
    const report = await runTokend(fx.options(BACKEND), deps());
    expect(exitCodeOf(report)).toBe(0);
    expect(report).toMatchObject({
      tokendVersion: "1.3",
      serviceVersion: "unit-tests/mocked-ver",
      startedTs: 1422936306,
      updateOutcome: "UPDATE_SUCCESS",
      updateReason: "NEW_TOKEN",
      tokenLastUpdateTs: 1422936306,
      tokenNextUpdateTs: 1422936306 + 1800,
      tokenExpiryTs: 1422936306 + 3600,
    });
    expect(report.failureError).toBeUndefined();
    const state = Buffer.from(JSON.stringify({ InputsDigest: await digest(), Version: "1.3" })).toString(
      "base64",
    );
    expect(await readFile(fx.tokenPath, "utf8")).toBe(
      [
        "{",
        '  "luci_machine_token": "token-1",',
        '  "expiry": "1422939906",',
        '  "last_update": "1422936306",',
        '  "next_update": "1422938106",',
        `  "tokend_state": "${state}"`,
        "}",
      ].join("\n"),
    );
    const [req] = minter.requests;
    expect(req?.issuedAt?.seconds).toBe(1422936306n);
    expect(req?.issuedAt?.nanos).toBe(500_000_000);
    expect(req?.tokenType).toBe(2);
    expect(req?.signatureAlgorithm).toBe(1);
    expect(Buffer.from(req?.certificate ?? []).equals(Buffer.from(pki.certDer))).toBe(true);
  });

  it("writes the token file and each copy durably: write, fsync, close, rename, then the directory's fsync", async () => {
    const events: string[] = [];
    const copy = fx.path("copy.json");
    await runTokend(
      fx.options(BACKEND, "-token-file-copy", copy),
      deps({ atomicFs: recordingAtomicFs(events, fx.dir) }),
    );
    expect(events).toEqual([...durableWriteOf("token.json"), ...durableWriteOf("copy.json")]);
    expect((await readTokenFile(copy)).token?.luciMachineToken).toBe("token-1");
  });

  it("then finds the token good, restores a missing copy, and refreshes on -force-refresh", async () => {
    const copies = ["-token-file-copy", fx.path("copy1.json"), "-token-file-copy", fx.path("copy2.json")];
    await runTokend(fx.options(BACKEND, ...copies), deps());
    const first = await readFile(fx.tokenPath, "utf8");
    expect(await readFile(fx.path("copy2.json"), "utf8")).toBe(first);

    clock.advance(60_000);
    const good = await runTokend(fx.options(BACKEND, ...copies), deps());
    expect(good).toMatchObject({ updateOutcome: "TOKEN_IS_GOOD", updateReason: "TOKEN_IS_GOOD" });
    expect(good.rpcDurationUs).toBeUndefined();
    expect(minter.requests).toHaveLength(1);

    await rm(fx.path("copy2.json"));
    const copied = await runTokend(fx.options(BACKEND, ...copies), deps());
    expect(copied).toMatchObject({ updateOutcome: "TOKEN_IS_GOOD", updateReason: "MISSING_TOKEN_COPY" });
    expect(await readFile(fx.path("copy2.json"), "utf8")).toBe(first);
    expect(minter.requests).toHaveLength(1);

    const forced = await runTokend(fx.options(BACKEND, ...copies, "-force-refresh"), deps());
    expect(forced).toMatchObject({ updateOutcome: "UPDATE_SUCCESS", updateReason: "FORCE_REFRESH" });
    for (const f of ["token.json", "copy1.json", "copy2.json"]) {
      expect((await readTokenFile(fx.path(f))).token?.luciMachineToken).toBe("token-2");
    }
  });

  it("refreshes when now is strictly after next_update, not at it", async () => {
    await runTokend(fx.options(BACKEND), deps());
    clock.set(new Date(1422938106_000));
    expect((await runTokend(fx.options(BACKEND), deps())).updateReason).toBe("TOKEN_IS_GOOD");
    clock.set(new Date(1422938106_001));
    expect((await runTokend(fx.options(BACKEND), deps())).updateReason).toBe("TOKEN_EXPIRES");
  });

  it("refreshes on a new backend spelling or a changed key file (PARAMS_CHANGE)", async () => {
    await runTokend(fx.options(BACKEND), deps());
    expect((await runTokend(fx.options("127.0.0.1:01"), deps())).updateReason).toBe("PARAMS_CHANGE");
    await writeFile(fx.certPath, `${pki.certPem}\n`);
    expect((await runTokend(fx.options("127.0.0.1:01"), deps())).updateReason).toBe("PARAMS_CHANGE");
    expect(minter.requests).toHaveLength(3);
  });

  it("treats a corrupt or foreign-keyed token file as absent (NEW_TOKEN)", async () => {
    await writeFile(fx.tokenPath, '{"luci_machine_token":"x","next_update":"99999999999","extra":1}');
    expect((await runTokend(fx.options(BACKEND), deps())).updateReason).toBe("NEW_TOKEN");
    await writeFile(fx.tokenPath, "\u0000garbage");
    expect((await runTokend(fx.options(BACKEND), deps())).updateReason).toBe("NEW_TOKEN");
  });
});

describe("runTokend: failures", () => {
  it("fails with CANT_READ_KEY even when the token is fresh", async () => {
    expect((await runTokend(fx.options(BACKEND), deps())).updateOutcome).toBe("UPDATE_SUCCESS");
    await writeFile(fx.keyPath, "not a key");
    const report = await runTokend(fx.options(BACKEND), deps());
    expect(report).toMatchObject({ updateOutcome: "CANT_READ_KEY", updateReason: "PARAMS_CHANGE" });
    expect(report.failureError).toBe(`${fx.keyPath}: not a valid private key PEM`);
    expect(report.tokenExpiryTs).toBe(1422936306 + 3600);
    expect(exitCodeOf(report)).toBe(1);
    await rm(fx.tokenPath);
    expect((await runTokend(fx.options(BACKEND), deps())).updateReason).toBe("NEW_TOKEN");
  });

  it("says which file holds what when -pkey-pem and -cert-pem are swapped (CANT_READ_KEY as Go)", async () => {
    const report = await runTokend(
      fx.options(BACKEND, "-pkey-pem", fx.certPath, "-cert-pem", fx.keyPath),
      deps(),
    );
    const said = `${fx.certPath}: not a valid private key PEM - this file holds a certificate, and ${fx.keyPath}, given as the certificate, holds the private key: the two are swapped`;
    expect(report).toMatchObject({ updateOutcome: "CANT_READ_KEY", failureError: said });
    expect(logs).toContain(`error: Failed to read the private key or certificate - ${said}`);
  });

  it("clamps a short lifetime to 5 minutes but keeps the server's expiry", async () => {
    minter = createFakeMinter(() => tokenReply("short", new Date(clock.now().getTime() + 60_000)));
    const report = await runTokend(fx.options(BACKEND), deps());
    expect(report).toMatchObject({ updateOutcome: "UPDATE_SUCCESS", tokenNextUpdateTs: 1422936306 + 150 });
    expect(report.tokenExpiryTs).toBe(1422936306 + 60);
    expect(logs.some((l) => l.startsWith("warning: Token lifetime is too short"))).toBe(true);
  });

  it("reports a logic error with its LUCI name and the service version, without retrying", async () => {
    minter = createFakeMinter(() => ({
      errorCode: ErrorCode.BAD_TIMESTAMP,
      errorMessage: "issued_at timestamp is not within acceptable range, check your clock",
      serviceVersion: "unit-tests/mocked-ver",
    }));
    const report = await runTokend(fx.options(BACKEND), deps());
    expect(report).toMatchObject({
      updateOutcome: "MINT_TOKEN_ERROR_BAD_TIMESTAMP",
      updateReason: "NEW_TOKEN",
      serviceVersion: "unit-tests/mocked-ver",
      failureError:
        "token server error BAD_TIMESTAMP - issued_at timestamp is not within acceptable range, check your clock",
    });
    expect(minter.requests).toHaveLength(1);
  });

  it("ends a failed run's log with the `check` command for its setup: one line, outcome unchanged", async () => {
    const good = await runTokend(fx.options(BACKEND), deps());
    expect(good.logDump).not.toContain("check");
    expect(logs.some((l) => l.includes("check"))).toBe(false);
    minter = createFakeMinter(() => ({ errorCode: ErrorCode.BAD_TIMESTAMP, errorMessage: "clock" }));
    const report = await runTokend(fx.options(BACKEND, "-force-refresh"), deps());
    const hint = `To find out what is wrong, run: luci-machine-tokend check -backend ${BACKEND} -cert-pem ${fx.certPath} -pkey-pem ${fx.keyPath} -token-file ${fx.tokenPath}`;
    expect(logs.at(-1)).toBe(`info: ${hint}`);
    expect(report.logDump.endsWith(`\n  info: ${hint}\n`)).toBe(true);
    expect(report).toMatchObject({
      updateOutcome: "MINT_TOKEN_ERROR_BAD_TIMESTAMP",
      failureError: "token server error BAD_TIMESTAMP - clock",
    });
  });

  it("reports MALFORMED_RESPONSE for a token_response without a token", async () => {
    minter = createFakeMinter(() => ({ serviceVersion: "v", tokenResponse: { serviceVersion: "v" } }));
    const report = await runTokend(fx.options(BACKEND), deps());
    expect(report).toMatchObject({
      updateOutcome: "MALFORMED_RESPONSE",
      failureError: "bad response, empty luci_machine_token field",
    });
  });

  it("retries an outage until -timeout and reports GRPC_ERROR_4, keeping the old token", async () => {
    await runTokend(fx.options(BACKEND), deps());
    const before = await readFile(fx.tokenPath, "utf8");
    minter = createFakeMinter(() => new ConnectError("down", Code.Unavailable));
    const report = await runTokend(fx.options(BACKEND, "-timeout", "10s", "-force-refresh"), deps());
    expect(report.updateOutcome).toBe("GRPC_ERROR_4");
    expect(report.failureError).toBe(
      "rpc error: code = DeadlineExceeded desc = prpc: overall deadline exceeded: context deadline exceeded; last attempt: rpc error: code = Unavailable desc = down",
    );
    // Go's schedule until the 10 s deadline: 200+300+450+675+1012.5+1518.75+2278.125 ms, then what is left.
    expect(clock.delays.slice(0, 7)).toEqual([200, 300, 450, 675, 1012.5, 1518.75, 2278.125]);
    // Dates hold whole milliseconds, so the sleeps add up to the deadline within 1 ms.
    expect(Math.abs(clock.delays.reduce((a, b) => a + b, 0) - 10_000)).toBeLessThan(1);
    expect(report.rpcDurationUs).toBe(10_000_000);
    expect(await readFile(fx.tokenPath, "utf8")).toBe(before);
    expect(report.tokenExpiryTs).toBe(1422936306 + 3600);
  });

  it("with -timeout 0 fails a needed refresh without a request, but passes a good token", async () => {
    const report = await runTokend(fx.options(BACKEND, "-timeout", "0"), deps());
    expect(report.updateOutcome).toBe("GRPC_ERROR_4");
    expect(minter.requests).toHaveLength(0);
    await runTokend(fx.options(BACKEND), deps());
    expect((await runTokend(fx.options(BACKEND, "-timeout", "0"), deps())).updateOutcome).toBe(
      "TOKEN_IS_GOOD",
    );
  });

  it("reports GRPC_ERROR_1 when cancelled during the RPC", async () => {
    const controller = new AbortController();
    minter = createFakeMinter(() => {
      controller.abort(new Error("SIGTERM"));
      return new ConnectError("operation was aborted", Code.Canceled);
    });
    const report = await runTokend(fx.options(BACKEND), deps({ signal: controller.signal }));
    expect(report.updateOutcome).toBe("GRPC_ERROR_1");
    expect(report.failureError).toContain("prpc: call canceled");
  });

  it("keeps the old token when the primary write fails, still tries the copies, names the error", async () => {
    await runTokend(fx.options(BACKEND), deps());
    const before = await readFile(fx.tokenPath, "utf8");
    const denied = Object.assign(new Error("EACCES: permission denied, rename 'a.tmp' -> 'b'"), {
      code: "EACCES",
      syscall: "rename",
    });
    const renames: string[] = [];
    const report = await runTokend(
      fx.options(BACKEND, "-force-refresh", "-token-file-copy", fx.path("copy.json")),
      deps({
        atomicFs: {
          rename: async (from, to) => {
            renames.push(to);
            if (to === fx.tokenPath) throw denied;
            const { rename } = await import("node:fs/promises");
            await rename(from, to);
          },
        },
      }),
    );
    expect(report.updateOutcome).toBe("SAVE_TOKEN_PERM_ERROR");
    expect(report.failureError).toBe(`EACCES: permission denied (replacing ${fx.tokenPath})`);
    expect(report.tokenExpiryTs).toBe(1422936306 + 3600);
    expect(await readFile(fx.tokenPath, "utf8")).toBe(before);
    expect((await readTokenFile(fx.path("copy.json"))).token?.luciMachineToken).toBe("token-2");
    expect(renames.filter((p) => p === fx.tokenPath)).toHaveLength(1); // final on Linux: no retry
    expect((await readdir(fx.dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  // Go mints and then fails to save (docs/MIGRATING-FROM-GO.md, "a token path that cannot be written").
  it("fails a token path that is a directory with Go's outcome, before any RPC, naming the path", async () => {
    await mkdir(fx.tokenPath);
    const report = await runTokend(fx.options(BACKEND), deps());
    expect(report).toMatchObject({
      updateOutcome: "UNKNOWN_SAVE_TOKEN_ERROR",
      updateReason: "NEW_TOKEN",
      failureError: `${fx.tokenPath} is a directory, not a token file`,
    });
    expect(report.rpcDurationUs).toBeUndefined();
    expect(report.serviceVersion).toBeUndefined();
    expect(minter.requests).toHaveLength(0);
  });

  it("fills failure_error when a copy of a good token cannot be written (Go leaves it empty)", async () => {
    await runTokend(fx.options(BACKEND), deps());
    const report = await runTokend(
      fx.options(BACKEND, "-token-file-copy", fx.path("missing-dir/copy.json")),
      deps(),
    );
    expect(report).toMatchObject({
      updateOutcome: "UNKNOWN_SAVE_TOKEN_ERROR",
      updateReason: "MISSING_TOKEN_COPY",
    });
    expect(report.failureError).toMatch(/ENOENT/);
    expect(exitCodeOf(report)).toBe(1);
  });

  it("runs -exec after a refresh that changed the token, never when the token is good", async () => {
    const marker = fx.path("hook-ran");
    const args = ["-exec", `echo ran >> ${marker}`];
    expect((await runTokend(fx.options(BACKEND, ...args), deps())).updateOutcome).toBe("UPDATE_SUCCESS");
    expect(await readFile(marker, "utf8")).toBe("ran\n");
    expect((await runTokend(fx.options(BACKEND, ...args), deps())).updateOutcome).toBe("TOKEN_IS_GOOD");
    expect(await readFile(marker, "utf8")).toBe("ran\n");
    expect(logs.some((l) => l.startsWith("info: -exec command exited with status 0"))).toBe(true);
  });

  it("never puts the token or key into the status report", async () => {
    const report = await runTokend(fx.options(BACKEND), deps());
    const json = statusReportToJson(report);
    expect(json).not.toContain("token-1");
    expect(json).not.toContain("PRIVATE KEY");
  });
});

describe("runTokend: the lock", () => {
  it("gives up at -timeout when another run holds the lock: says so, names the lock, makes no RPC", async () => {
    await runTokend(fx.options(BACKEND), deps());
    const holder = await acquireRunLock(fx.tokenPath, { deadline: new Date(0), now: clock.now });
    const before = await readFile(fx.tokenPath, "utf8");
    const report = await runTokend(fx.options(BACKEND, "-force-refresh", "-timeout", "3s"), deps());
    const lock = `${fx.tokenPath}.lock`;
    expect(report.updateOutcome).toBe("GRPC_ERROR_4");
    expect(report.failureError).toMatch(
      new RegExp(
        `^another run still held the lock ${lock} at the deadline \\(pid ${process.pid} on .*\\); no token was requested$`,
      ),
    );
    expect(minter.requests).toHaveLength(1); // the first run's only
    expect(clock.delays.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(logs).toContain(`error: Not updating the token (reason: FORCE_REFRESH) - ${report.failureError}`);
    expect(logs.join("\n")).not.toContain("MintMachineToken");
    expect(await readFile(fx.tokenPath, "utf8")).toBe(before);
    // A run that finds its token good does not need the lock to succeed.
    const good = await runTokend(fx.options(BACKEND, "-timeout", "1s"), deps());
    expect(good.updateOutcome).toBe("TOKEN_IS_GOOD");
    expect(exitCodeOf(good)).toBe(0);
    await holder.lock?.release();
    expect(await readdir(fx.dir)).not.toContain("token.json.lock");
  });
});
