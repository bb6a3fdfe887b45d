import { readFile, stat, writeFile } from "node:fs/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { escapeForLog } from "../common/one-line.js";
import { createEngineContext, type EngineContext } from "../testing/engine-context.js";
import { createFakeMinter, type FakeReply, tokenReply } from "../testing/fake-minter.js";
import { runTokenUpdate } from "./run-token-update.js";

const START = new Date(1422936306_500);
const HOUR = 3_600_000;

let pki: TestPki;
let t: EngineContext;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com", now: START });
});
beforeEach(async () => {
  t = await createEngineContext(pki, START);
});
afterEach(() => t.cleanup());

/** A SUCCESS answer with `token` and an expiry of `seconds` (and `nanos`). */
const answer = (token: string, seconds: bigint, nanos = 0): FakeReply => ({
  serviceVersion: "sv/1",
  tokenResponse: {
    serviceVersion: "sv/1",
    tokenType: { case: "luciMachineToken", value: { machineToken: token, expiry: { seconds, nanos } } },
  },
});

/** Mints a good token first, so a failed refresh can be seen to keep it. */
async function withGoodToken(): Promise<string> {
  expect((await runTokenUpdate(t.settings())).outcome).toBe("UPDATE_SUCCESS");
  return readFile(t.tokenPath, "utf8");
}

describe("mintAndSave: answers Go treats specially", () => {
  // The reference binary: exit 1, UNKNOWN_RPC_ERROR, "token server didn't return a token", no service_version.
  it("SUCCESS without token_response: UNKNOWN_RPC_ERROR and no service_version, as Go", async () => {
    t.minter = createFakeMinter(() => ({ serviceVersion: "sv/1" }));
    const result = await runTokenUpdate(t.settings());
    expect(result).toMatchObject({
      outcome: "UNKNOWN_RPC_ERROR",
      failure: "token server didn't return a token",
    });
    expect(result.serviceVersion).toBeUndefined();
  });

  it("codes above 16 are kept and not retried (GRPC_ERROR_17, `Code(17)`), as Go", async () => {
    t.minter = createFakeMinter(() => new ConnectError("boom seventeen", 17 as Code));
    const result = await runTokenUpdate(t.settings());
    expect(result).toMatchObject({
      outcome: "GRPC_ERROR_17",
      failure: "rpc error: code = Code(17) desc = boom seventeen",
    });
    expect(t.minter.requests).toHaveLength(1);
  });
});

describe("mintAndSave: server values no file or date can hold are a bad answer", () => {
  // Each crashed the CLI (RangeError in nextUpdateTime) or wrote a token every later run refused.
  it.each([
    [
      "expiry 8.64e12 s (past year 9999)",
      answer("dG9rZW4", 8_640_000_000_000n),
      /the expiry \(seconds 8640000000000, nanos 0\)/,
    ],
    ["expiry int64 max", answer("dG9rZW4", 9223372036854775807n), /seconds 9223372036854775807/],
    ["expiry int64 min", answer("dG9rZW4", -9223372036854775808n), /seconds -9223372036854775808/],
    ["negative nanos", answer("dG9rZW4", 1422939906n, -1), /nanos -1\)/],
    ["an empty token", answer("", 1422939906n), /^bad response, the machine token is empty$/],
    [
      "a 20 MB token",
      answer("A".repeat(20_000_000), 1422939906n),
      /more than the \d+ a token file may hold$/,
    ],
    [
      "a token with a newline",
      answer("abc\ndef", 1422939906n),
      /^bad response, the machine token is not base64 text$/,
    ],
  ])("%s: MALFORMED_RESPONSE, status written, old token kept", async (_name, reply, message) => {
    const before = await withGoodToken();
    const mtime = (await stat(t.tokenPath)).mtimeMs;
    t.minter = createFakeMinter(() => reply);
    const result = await runTokenUpdate(t.settings({ forceRefresh: true }));
    expect(result).toMatchObject({ outcome: "MALFORMED_RESPONSE", serviceVersion: "sv/1", minted: false });
    expect(result.failure).toMatch(message);
    expect(result.token?.expiry).toBe(1422936306n + 3600n);
    expect(await readFile(t.tokenPath, "utf8")).toBe(before);
    expect((await stat(t.tokenPath)).mtimeMs).toBe(mtime);
  });

  // Go writes these: a past (or absent) expiry is scheduled 2.5 minutes out; far ones at half the life.
  it("a past expiry is written with the 5-minute floor, as Go", async () => {
    t.minter = createFakeMinter(() => answer("dG9rZW4", -5n));
    const result = await runTokenUpdate(t.settings());
    expect(result).toMatchObject({ outcome: "UPDATE_SUCCESS", minted: true });
    expect(result.token).toMatchObject({ expiry: -5n, nextUpdate: 1422936306n + 150n });
    expect(t.logs.some((l) => l.startsWith("warning: Token lifetime is too short"))).toBe(true);
  });

  it("the last valid second (9999-12-31) is written, its refresh ~146 years out as Go", async () => {
    t.minter = createFakeMinter(() => answer("dG9rZW4", 253402300799n));
    const result = await runTokenUpdate(t.settings());
    expect(result).toMatchObject({ outcome: "UPDATE_SUCCESS", token: { expiry: 253402300799n } });
    expect(result.token?.nextUpdate).toBe(BigInt(Math.floor(1422936306.5 + 4611686018.427387)));
  });
});

describe("mintAndSave: durations", () => {
  it("reports microseconds from the monotonic clock, not whole milliseconds", async () => {
    let mono = 1000.25;
    t.minter = createFakeMinter((_r, n) => {
      mono += 12.345678; // the RPC took 12.345678 ms
      return tokenReply(`token-${n}`, new Date(t.clock.now().getTime() + HOUR));
    });
    const monotonic = () => {
      mono += 0.001001; // each reading 1.001 µs later
      return mono;
    };
    const result = await runTokenUpdate(t.settings({ monotonic }));
    expect(result.rpcDurationUs).toBe(12346); // 12.345678 ms + 1.001 µs
  });

  it("uses performance.now by default: real, sub-millisecond durations", async () => {
    const started = performance.now();
    const result = await runTokenUpdate(t.settings({ monotonic: undefined }));
    const totalUs = (performance.now() - started) * 1000;
    expect(result.rpcDurationUs).toBeGreaterThan(0);
    expect(result.rpcDurationUs).toBeLessThan(totalUs);
  });

  it("has no RPC duration without an RPC", async () => {
    await runTokenUpdate(t.settings());
    const good = await runTokenUpdate(t.settings());
    expect(good.outcome).toBe("TOKEN_IS_GOOD");
    expect(good.rpcDurationUs).toBeUndefined();
  });
});

describe("mintAndSave: text from the server is escaped", () => {
  const forged =
    "denied\n[I2026-01-01T00:00:00.000000Z 1 0 tokend] The token was updated\n\u001b[2J\u001b]0;pwned\u0007 \u202eevil";
  const escaped =
    "denied\\n[I2026-01-01T00:00:00.000000Z 1 0 tokend] The token was updated\\n\\x1b[2J\\x1b]0;pwned\\x07 \\u202eevil";

  it("in the failure and every log line", async () => {
    t.minter = createFakeMinter(() => new ConnectError(forged, Code.PermissionDenied));
    const result = await runTokenUpdate(t.settings());
    expect(result.failure).toBe(`rpc error: code = PermissionDenied desc = ${escaped}`);
    expect(t.logs).toContain(
      `error: Failed to call MintMachineToken - rpc error: code = PermissionDenied desc = ${escaped}`,
    );
    for (const text of t.logs) expect(escapeForLog(text, 1e6)).toBe(text);
    // The forged `[I… tokend] The token was updated` stays inside the one error line.
    expect(t.logs.filter((l) => l.includes("The token was updated"))).toHaveLength(1);
  });

  it("in a token server's error message and service version", async () => {
    t.minter = createFakeMinter(() => ({
      errorCode: 3,
      errorMessage: forged,
      serviceVersion: "sv\u001b[2J/1",
    }));
    const result = await runTokenUpdate(t.settings());
    expect(result).toMatchObject({
      outcome: "MINT_TOKEN_ERROR_BAD_TIMESTAMP",
      failure: `token server error BAD_TIMESTAMP - ${escaped}`,
      serviceVersion: "sv\\x1b[2J/1",
    });
  });
});

describe("mintAndSave: copies in another Go build's spacing", () => {
  it("a copy with the same content is not rewritten; one with other content is", async () => {
    const copies = { tokenFileCopies: [t.path("copy1.json"), t.path("copy2.json")] };
    await runTokenUpdate(t.settings(copies));
    const primary = await readFile(t.tokenPath, "utf8");
    const twoSpaces = primary.replace(/": /g, '":  ');
    await writeFile(t.path("copy1.json"), twoSpaces);
    const good = await runTokenUpdate(t.settings(copies));
    expect(good).toMatchObject({ outcome: "TOKEN_IS_GOOD", reason: "TOKEN_IS_GOOD" });
    expect(await readFile(t.path("copy1.json"), "utf8")).toBe(twoSpaces);

    const extraKey = JSON.stringify({ ...JSON.parse(primary), token_type: "Bearer" }, null, 2);
    await writeFile(t.path("copy2.json"), extraKey);
    const fixed = await runTokenUpdate(t.settings(copies));
    expect(fixed).toMatchObject({ outcome: "TOKEN_IS_GOOD", reason: "MISSING_TOKEN_COPY" });
    expect(await readFile(t.path("copy2.json"), "utf8")).toBe(primary);
    expect(t.minter.requests).toHaveLength(1);
  });
});
