import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { acquireRunLock } from "../safe-files/run-lock.js";
import { createEngineContext, type EngineContext } from "../testing/engine-context.js";
import { parseTokenFile } from "../token-file/token-file.js";
import { runTokenUpdate } from "./run-token-update.js";
import { updateMachineToken } from "./update-machine-token.js";

const START = new Date(1422936306_500); // 2015-02-03T04:05:06.5Z
const HOUR = 3_600_000;
/** A pid no process has (above Linux's pid_max). */
const DEAD_PID = 4_194_305;

let pki: TestPki;
let t: EngineContext;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com", now: START });
});
beforeEach(async () => {
  t = await createEngineContext(pki, START);
});
afterEach(() => t.cleanup());

describe("runTokenUpdate: Go's run(), step by step", () => {
  it("mints, writes the file and every copy, then finds the token good and makes no RPC", async () => {
    const copies = [t.path("copy.json")];
    const minted = await runTokenUpdate(t.settings({ tokenFileCopies: copies }));
    expect(minted).toMatchObject({
      outcome: "UPDATE_SUCCESS",
      reason: "NEW_TOKEN",
      minted: true,
      serviceVersion: "unit-tests/mocked-ver",
      found: undefined,
      token: { luciMachineToken: "token-1", expiry: 1422936306n + 3600n },
    });
    expect(minted.rpcDurationUs).toBeGreaterThanOrEqual(0);
    const file = await readFile(t.tokenPath);
    expect(await readFile(copies[0] ?? "")).toEqual(file);
    expect(parseTokenFile(file).token?.luciMachineToken).toBe("token-1");

    const good = await runTokenUpdate(t.settings({ tokenFileCopies: copies }));
    expect(good).toMatchObject({ outcome: "TOKEN_IS_GOOD", reason: "TOKEN_IS_GOOD", minted: false });
    expect(good.token?.luciMachineToken).toBe("token-1");
    expect(t.minter.requests).toHaveLength(1);
    expect(t.logs).toContain("info: The token is good");
  });

  it("forceRefresh mints although the token is good (FORCE_REFRESH)", async () => {
    await runTokenUpdate(t.settings());
    const forced = await runTokenUpdate(t.settings({ forceRefresh: true }));
    expect(forced).toMatchObject({ outcome: "UPDATE_SUCCESS", reason: "FORCE_REFRESH" });
    expect(forced.found?.luciMachineToken).toBe("token-1");
    expect(forced.token?.luciMachineToken).toBe("token-2");
  });

  it("calls beforeRefresh once a refresh is decided, before the RPC, and never for a good token", async () => {
    const calls: number[] = [];
    const beforeRefresh = () => calls.push(t.minter.requests.length);
    await runTokenUpdate({ ...t.settings(), beforeRefresh });
    await runTokenUpdate({ ...t.settings(), beforeRefresh });
    await runTokenUpdate({ ...t.settings({ forceRefresh: true }), beforeRefresh });
    expect(calls).toEqual([0, 1]); // the first mint and the forced one; requests made before each
  });

  it("CANT_READ_KEY even when the token is fresh (PARAMS_CHANGE), and no RPC", async () => {
    await runTokenUpdate(t.settings());
    await writeFile(t.keyPath, "not a key");
    const result = await runTokenUpdate(t.settings());
    expect(result).toMatchObject({ outcome: "CANT_READ_KEY", reason: "PARAMS_CHANGE", minted: false });
    expect(result.failure).toContain(t.keyPath);
    expect(result.error?.message).toBe(result.failure);
    expect(result.token?.luciMachineToken).toBe("token-1");
    expect(t.minter.requests).toHaveLength(1);
  });

  it("a key passphrase that cannot be read is a key error, named as the caller names it", async () => {
    const keyPassphrase = () => Promise.reject(new Error("-pkey-passphrase-file /x: no such file"));
    const result = await runTokenUpdate(t.settings({ keyPassphrase }));
    expect(result).toMatchObject({ outcome: "CANT_READ_KEY", reason: "NEW_TOKEN" });
    expect(result.failure).toBe("-pkey-passphrase-file /x: no such file");
  });

  it("gives up at the deadline while another run holds the lock: GRPC_ERROR_4, no RPC", async () => {
    const holder = await acquireRunLock(t.tokenPath, { deadline: new Date(0), now: t.clock.now });
    try {
      const result = await runTokenUpdate(t.settings({ timeoutMs: 3000 }));
      expect(result).toMatchObject({ outcome: "GRPC_ERROR_4", reason: "NEW_TOKEN", minted: false });
      expect(result.failure).toMatch(/^another run still held the lock .*; no token was requested$/);
      expect(t.minter.requests).toHaveLength(0);
    } finally {
      await holder.lock?.release();
    }
  });

  it("removes leftovers of killed runs: the token file's, the copies' and the caller's other files'", async () => {
    const leftover = (name: string) => t.path(`${name}.${DEAD_PID}_1_1422936306000000000.tmp`);
    for (const name of ["token.json", "copy.json", "status.json"]) await writeFile(leftover(name), "x");
    await runTokenUpdate(
      t.settings({ tokenFileCopies: [t.path("copy.json")], leftoversOf: [t.path("status.json")] }),
    );
    expect((await readdir(t.dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("does not mint a token it cannot store: the primary file's directory is missing", async () => {
    const result = await runTokenUpdate(t.settings({ tokenFile: t.path("gone/token.json") }));
    expect(result).toMatchObject({ outcome: "UNKNOWN_SAVE_TOKEN_ERROR", reason: "NEW_TOKEN", minted: false });
    expect(t.minter.requests).toHaveLength(0);
  });

  it("SAVE_TOKEN_PERM_ERROR for a read-only directory, before any RPC", async () => {
    await mkdir(t.path("ro"));
    await chmod(t.path("ro"), 0o555);
    // Root ignores the mode: as root, the check's error is injected (the CLI e2e test drops privileges).
    const denied = async (dir: string) => {
      throw Object.assign(new Error(`EACCES: permission denied, access '${dir}'`), { code: "EACCES" });
    };
    const checkWritable = process.getuid?.() === 0 ? denied : undefined;
    const result = await runTokenUpdate({
      ...t.settings({ tokenFile: t.path("ro/token.json") }),
      checkWritable,
    });
    expect(result).toMatchObject({ outcome: "SAVE_TOKEN_PERM_ERROR", minted: false });
    expect(result.failure).toContain(t.path("ro"));
    expect(t.minter.requests).toHaveLength(0);
  });

  it("runs afterUpdate after a mint only, while it still holds the lock", async () => {
    const seen: string[] = [];
    const afterUpdate = async () => {
      seen.push((await readdir(t.dir)).includes("token.json.lock") ? "locked" : "unlocked");
    };
    await runTokenUpdate(t.settings({ afterUpdate }));
    await runTokenUpdate(t.settings({ afterUpdate }));
    expect(seen).toEqual(["locked"]);
    expect(await readdir(t.dir)).not.toContain("token.json.lock");
  });

  it("without a token file: judges the held token, mints into memory, writes nothing", async () => {
    const settings = t.settings({ tokenFile: undefined });
    const first = await runTokenUpdate(settings);
    expect(first).toMatchObject({ outcome: "UPDATE_SUCCESS", minted: true });
    const held = { token: first.token, state: first.state };
    expect(await runTokenUpdate({ ...settings, held })).toMatchObject({ outcome: "TOKEN_IS_GOOD" });
    t.clock.advance(2 * HOUR);
    expect(await runTokenUpdate({ ...settings, held })).toMatchObject({
      outcome: "UPDATE_SUCCESS",
      reason: "TOKEN_EXPIRES",
    });
    expect(await readdir(t.dir)).toEqual(["cert.pem", "key.pem"]);
  });

  it("with a held token newer than the file's: judges it and writes it back, as a missing copy", async () => {
    const first = await runTokenUpdate(t.settings({ tokenFile: undefined }));
    const result = await runTokenUpdate(t.settings({ held: { token: first.token, state: first.state } }));
    expect(result).toMatchObject({ outcome: "TOKEN_IS_GOOD", reason: "TOKEN_IS_GOOD" });
    expect(parseTokenFile(await readFile(t.tokenPath)).token?.luciMachineToken).toBe("token-1");
    expect(t.minter.requests).toHaveLength(1);
  });

  it("with a held token, a failed write still returns the new token, with the error naming the file", async () => {
    const tokenFile = t.path("later/token.json");
    const result = await runTokenUpdate(t.settings({ tokenFile, held: {} }));
    expect(result).toMatchObject({ outcome: "UNKNOWN_SAVE_TOKEN_ERROR", minted: true });
    expect(result.token?.luciMachineToken).toBe("token-1");
    expect(result.error?.message).toMatch(/^Failed to write token file \S+later\/token\.json - ENOENT/);
  });

  it("a client that cannot be made is UNKNOWN_RPC_ERROR", async () => {
    const client = () => {
      throw new Error("bad -backend");
    };
    const result = await runTokenUpdate(t.settings({ client }));
    expect(result).toMatchObject({ outcome: "UNKNOWN_RPC_ERROR", failure: "bad -backend", minted: false });
  });
});

describe("updateMachineToken: the public form", () => {
  it("takes the certificate and key as files or PEM, as startTokenRefresher", async () => {
    const common = { backend: "127.0.0.1:1", tokenFile: t.tokenPath, client: () => t.minter.client };
    const byFile = await updateMachineToken({ ...common, certFile: t.certPath, keyFile: t.keyPath });
    expect(byFile).toMatchObject({ outcome: "UPDATE_SUCCESS", minted: true });
    const byPem = await updateMachineToken({ ...common, cert: pki.certPem, key: pki.keyPem });
    expect(byPem).toMatchObject({ outcome: "TOKEN_IS_GOOD" });
    expect((await stat(t.tokenPath)).isFile()).toBe(true);
  });

  it("rejects options given wrong, without showing PEM", async () => {
    const base = { backend: "127.0.0.1:1", certFile: t.certPath, keyFile: t.keyPath };
    await expect(updateMachineToken({ ...base, tokenFile: pki.keyPem })).rejects.toThrow(
      /^updateMachineToken: tokenFile is .*not shown/,
    );
    await expect(
      updateMachineToken({ backend: "127.0.0.1:1", certFile: t.certPath, keyFile: pki.keyPem }),
    ).rejects.toThrow(/^updateMachineToken: keyFile is /);
  });

  it("refuses a timeout that bounds nothing, a mode that is no file mode and copies without their lock", async () => {
    const base = { backend: "127.0.0.1:1", certFile: t.certPath, keyFile: t.keyPath, tokenFile: t.tokenPath };
    for (const timeoutMs of [Number.NaN, Number.POSITIVE_INFINITY, 0, -5]) {
      await expect(updateMachineToken({ ...base, timeoutMs })).rejects.toThrow(
        /^updateMachineToken: timeoutMs must be a positive number/,
      );
    }
    for (const tokenFileMode of [0o10000, 1.5, -1]) {
      await expect(updateMachineToken({ ...base, tokenFileMode })).rejects.toThrow(/is not a file mode$/);
    }
    const copies = { ...base, tokenFile: undefined, tokenFileCopies: [t.tokenPath] };
    await expect(updateMachineToken(copies)).rejects.toThrow("tokenFileCopies need a tokenFile");
    await expect(stat(t.tokenPath)).rejects.toThrow(/ENOENT/);
  });
});
