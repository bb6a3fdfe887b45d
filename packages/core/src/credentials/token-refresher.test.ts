import { mkdir, readFile, writeFile } from "node:fs/promises";
import { Code } from "@connectrpc/connect";
import { createTestPki, type DevServer, startDevServer, type TestPki } from "@luci-machine-tokend/dev-server";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { verifyMachineToken } from "../machine-token/verify-machine-token.js";
import { MintTokenError } from "../mint/mint-token-error.js";
import { createManualClock, type ManualClock } from "../testing/manual-clock.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { calcDigest, tokendDigestInputs } from "../token-file/calc-digest.js";
import { decideUpdateReason } from "../token-file/decide-update-reason.js";
import { readTokenFile } from "../token-file/read-token-file.js";
import { createMachineTokenSource } from "./machine-token-source.js";
import { startTokenRefresher, type TokenRefresher } from "./token-refresher.js";
import { TokenRefresherError } from "./token-refresher-error.js";
import type { TokenRefresherSettings, TokenRefreshInfo } from "./token-refresher-options.js";

const MIN = 60_000;
let pki: TestPki;
let server: DevServer;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let clock: ManualClock;
let refresher: TokenRefresher | undefined;

type RefresherEvent =
  | { type: "refresh"; token: string; info: TokenRefreshInfo }
  | { type: "error"; error: Error; retryAt: Date };

/** The refresher's callbacks as a queue the test takes events from, in order. */
function recordEvents() {
  const queue: RefresherEvent[] = [];
  let waiter: (() => void) | undefined;
  const push = (e: RefresherEvent) => {
    queue.push(e);
    waiter?.();
  };
  return {
    onRefresh: (token: string, info: TokenRefreshInfo) => push({ type: "refresh", token, info }),
    onError: (error: Error, retryAt: Date) => push({ type: "error", error, retryAt }),
    async next(): Promise<RefresherEvent> {
      while (queue.length === 0) await new Promise<void>((resolve) => (waiter = resolve));
      return queue.shift() as RefresherEvent;
    },
    pending: () => queue.length,
  };
}

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com" });
});
beforeEach(async () => {
  clock = createManualClock(Date.now());
  tmp = await makeTempDir();
  await writeFile(tmp.path("cert.pem"), pki.certPem);
  await writeFile(tmp.path("key.pem"), pki.keyPem);
  // The server runs on the test's clock: it checks issued_at and stamps tokens with it.
  server = await startDevServer({
    caCertificates: [pki.caCertPem],
    domains: [{ domain: "example.com", lifetimeMs: 60 * MIN }],
    grpcPort: false,
    now: clock.now,
  });
});
afterEach(async () => {
  await refresher?.stop();
  refresher = undefined;
  await server.close();
  await tmp.remove();
});

function start(events: ReturnType<typeof recordEvents>, extra: Partial<TokenRefresherSettings> = {}) {
  refresher = startTokenRefresher({
    backend: server.backend,
    certFile: tmp.path("cert.pem"),
    keyFile: tmp.path("key.pem"),
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0,
    jitter: false,
    onRefresh: events.onRefresh,
    onError: events.onError,
    ...extra,
  });
  return refresher;
}

const identity = async (token: string) =>
  (
    await verifyMachineToken(token, {
      certificates: { [server.keyId]: server.signingCertificatePem },
      now: clock.now(),
    })
  ).body.machineFqdn;

describe("startTokenRefresher", () => {
  it("mints at start and again at next_update, with a real short-lived token", async () => {
    server.faults.set({ tokenLifetimeMs: 10 * MIN });
    const events = recordEvents();
    const r = start(events);
    const token = await r.getToken(); // waits for the first refresh
    const first = await events.next();
    expect(first).toMatchObject({ type: "refresh", token, info: { reason: "NEW_TOKEN", minted: true } });
    expect(await identity(token)).toBe("bot-1.example.com");
    if (first.type !== "refresh") throw new Error("not a refresh");
    const issued = Math.floor(clock.now().getTime() / 1000) * 1000;
    expect(first.info.expiry.getTime()).toBe(issued + 10 * MIN);
    // next_update at half the life, then 1 s later (no jitter with random() = 0).
    expect(first.info.nextRefresh.getTime()).toBe(issued + 5 * MIN + 1000);

    await clock.sleeping();
    clock.advance(5 * MIN - 1); // not yet: nothing happens
    await clock.sleeping();
    expect([server.requests.length, events.pending()]).toEqual([1, 0]);
    clock.advance(first.info.nextRefresh.getTime() - clock.now().getTime());
    const second = await events.next();
    expect(second).toMatchObject({ type: "refresh", info: { reason: "TOKEN_EXPIRES", minted: true } });
    if (second.type !== "refresh") throw new Error("not a refresh");
    expect(second.token).not.toBe(token);
    expect(await r.getToken()).toBe(second.token);
    expect(await identity(second.token)).toBe("bot-1.example.com");
    expect(server.requests.length).toBe(2);
  });

  it("backs off after failures (30 s, 1 min), serves nothing meanwhile, then recovers", async () => {
    server.faults.set({ grpcError: { code: Code.PermissionDenied, message: "no", times: 2 } });
    const events = recordEvents();
    const r = start(events);
    const e1 = await events.next();
    expect(e1.type).toBe("error");
    if (e1.type !== "error") throw new Error("not an error");
    expect(e1.error).toBeInstanceOf(MintTokenError);
    expect(e1.retryAt.getTime() - clock.now().getTime()).toBe(30_000);
    const failed = await r.getToken().catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(TokenRefresherError);
    expect(failed).toMatchObject({ name: "TokenRefresherError", code: "refresh-failed", cause: e1.error });
    expect((failed as Error).message).toMatch(
      /^no valid machine token: the last refresh failed - rpc error: /,
    );
    await clock.sleeping();
    clock.advance(30_000);
    const e2 = await events.next();
    if (e2.type !== "error") throw new Error("not an error");
    expect(e2.retryAt.getTime() - clock.now().getTime()).toBe(60_000);
    await clock.sleeping();
    clock.advance(60_000);
    expect(await events.next()).toMatchObject({ type: "refresh", info: { reason: "NEW_TOKEN" } });
    expect(await identity(await r.getToken())).toBe("bot-1.example.com");
    expect(server.requests.length).toBe(3);
  });

  it("keeps serving a good token while refreshes fail", async () => {
    const events = recordEvents();
    const r = start(events);
    const token = await r.getToken();
    await events.next();
    server.faults.set({ grpcError: { code: Code.PermissionDenied } });
    await clock.sleeping();
    clock.advance(30 * MIN + 1000);
    expect((await events.next()).type).toBe("error");
    expect(await r.getToken()).toBe(token);
  });

  it("keeps the token file as the CLI does: a later run (or refresher) finds it good and makes no RPC", async () => {
    const tokenFile = tmp.path("token.json");
    const events = recordEvents();
    const r = start(events, { tokenFile });
    const token = await r.getToken();
    await r.stop();
    // What the CLI's decision says about the file, with the same inputs.
    const { token: file, state } = await readTokenFile(tokenFile);
    expect(file?.luciMachineToken).toBe(token);
    const certPem = new TextEncoder().encode(pki.certPem);
    const keyPem = new TextEncoder().encode(pki.keyPem);
    const inputsDigest = calcDigest(tokendDigestInputs({ backend: server.backend, certPem, keyPem }));
    expect(decideUpdateReason({ token: file, state, inputsDigest, now: clock.now() })).toBe("TOKEN_IS_GOOD");
    expect(await createMachineTokenSource({ tokenFile, now: clock.now }).getToken()).toBe(token);

    const again = recordEvents();
    const r2 = start(again, { tokenFile });
    expect(await r2.getToken()).toBe(token);
    expect(await again.next()).toMatchObject({ info: { reason: "TOKEN_IS_GOOD", minted: false } });
    expect(server.requests.length).toBe(1);
    // A changed certificate file (even whitespace) changes the digest: a new token, as the CLI.
    await writeFile(tmp.path("cert.pem"), `${pki.certPem}\n`);
    await clock.sleeping();
    clock.advance(30 * MIN + 1000);
    expect(await again.next()).toMatchObject({ info: { reason: "TOKEN_EXPIRES", minted: true } });
    expect(server.requests.length).toBe(2);
  });

  /** A token file a refresher wrote, then edited as another tokend (Go's) might have written it. */
  async function editedTokenFile(edit: Record<string, string>): Promise<string> {
    const tokenFile = tmp.path("token.json");
    const first = start(recordEvents(), { tokenFile });
    await first.getToken();
    await first.stop();
    const file = JSON.parse(await readFile(tokenFile, "utf8"));
    await writeFile(tokenFile, JSON.stringify({ ...file, ...edit }));
    return tokenFile;
  }

  it("does not hand out a token from the file that no machine token looks like (Go writes what it got): it mints", async () => {
    const tokenFile = await editedTokenFile({ luci_machine_token: "SECRET\u0001TOKEN" });
    const events = recordEvents();
    const r = start(events, { tokenFile });
    const token = await r.getToken();
    expect(token).not.toContain("SECRET");
    expect(await events.next()).toMatchObject({ info: { reason: "NEW_TOKEN", minted: true } });
    expect(await identity(token)).toBe("bot-1.example.com");
    expect(server.requests.length).toBe(2);
  });

  it("does not trust a token file whose expiry no date holds (Go writes int64 max as sent): it mints", async () => {
    const tokenFile = await editedTokenFile({ expiry: "9223372036854775807" });
    const events = recordEvents();
    const r = start(events, { tokenFile });
    expect(await identity(await r.getToken())).toBe("bot-1.example.com");
    expect(await events.next()).toMatchObject({ info: { minted: true } });
    expect(server.requests.length).toBe(2);
  });

  it("serves a minted token it could not write, reports why and writes it later without a new RPC", async () => {
    const tokenFile = tmp.path("later/token.json");
    const events = recordEvents();
    const r = start(events, { tokenFile });
    const token = await r.getToken();
    expect(await identity(token)).toBe("bot-1.example.com");
    expect(await events.next()).toMatchObject({ type: "refresh", token });
    const err = await events.next();
    if (err.type !== "error") throw new Error("not an error");
    expect(err.error.message).toMatch(/^Failed to write token file \S+later\/token\.json - ENOENT/);
    await mkdir(tmp.path("later"));
    await clock.sleeping();
    clock.advance(err.retryAt.getTime() - clock.now().getTime());
    await clock.sleeping(); // the retry found the token good, wrote it and waits for next_update
    expect((await readTokenFile(tokenFile)).token?.luciMachineToken).toBe(token);
    expect([server.requests.length, events.pending()]).toEqual([1, 0]);
  });

  it("stop() cancels a refresh in progress and leaves no timer or sleep behind", async () => {
    server.faults.set({ latencyMs: 60_000 }); // real time: the call hangs
    const events = recordEvents();
    const r = start(events);
    const pending = r.getToken();
    while (server.openConnections() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    await r.stop();
    expect(performance.now() - started).toBeLessThan(2000);
    const stopped = {
      name: "TokenRefresherError",
      code: "stopped",
      message: "the token refresher was stopped",
    };
    await expect(pending).rejects.toMatchObject(stopped);
    await expect(r.getToken()).rejects.toMatchObject(stopped);
    expect([clock.waiting(), events.pending()]).toEqual([0, 0]); // no onError for a stop
  });

  it("getToken() says when the token expired before a refresh replaced it (the clock jumped)", async () => {
    const r = start(recordEvents());
    await r.getToken();
    await clock.sleeping();
    clock.advance(3 * 60 * MIN); // the refresher has not woken yet: its token is past expiry
    const expired = await r.getToken().catch((err: unknown) => err);
    expect(expired).toBeInstanceOf(TokenRefresherError);
    expect(expired).toMatchObject({ code: "expired" });
    expect((expired as Error).cause).toBeUndefined();
    expect((expired as Error).message).toMatch(/^no valid machine token: the token expired at \d{4}-/);
  });

  it("stop() ends the wait between refreshes", async () => {
    const events = recordEvents();
    const r = start(events);
    await r.getToken();
    await clock.sleeping();
    await r.stop();
    expect(clock.waiting()).toBe(0);
  });

  it("refuses a bad backend at once", () => {
    expect(() => startTokenRefresher({ backend: "http://x", certFile: "c", keyFile: "k" })).toThrow();
  });

  it("refuses a timeout that would bound no wait (NaN, infinite, not positive) at once", () => {
    for (const timeoutMs of [Number.NaN, Number.POSITIVE_INFINITY, 0]) {
      expect(() =>
        startTokenRefresher({ backend: "127.0.0.1:1", certFile: "c", keyFile: "k", timeoutMs }),
      ).toThrow(/^timeoutMs must be positive and finite/);
    }
  });
});
