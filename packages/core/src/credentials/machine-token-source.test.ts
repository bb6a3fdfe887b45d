import { mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFakeClock, type FakeClock } from "../testing/fake-clock.js";
import { recordingLogger } from "../testing/recording-logger.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { GO_TOKEN_FILE, GOLDEN_TOKEN } from "../testing/vectors.js";
import { makeTokenFile } from "../token-file/make-token-file.js";
import { writeTokenFile } from "../token-file/write-token-file.js";
import {
  createMachineTokenSource,
  type MachineTokenSourceError,
  type MachineTokenSourceOptions,
} from "./machine-token-source.js";
import { withMachineToken } from "./with-machine-token.js";

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);
const HOUR = 3_600_000;
const MIN = 60_000;

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let clock: FakeClock;
let path: string;
beforeEach(async () => {
  tmp = await makeTempDir();
  clock = createFakeClock(T0);
  path = tmp.path("token.json");
});
afterEach(() => tmp.remove());

/** Writes a token file as a tokend does (temp file + rename): expiry `expiresInMs` from T0. */
async function tokenFile(token: string, expiresInMs = HOUR): Promise<void> {
  const s = (ms: number) => BigInt(Math.floor(ms / 1000));
  const file = makeTokenFile({
    luciMachineToken: token,
    expiry: s(T0 + expiresInMs),
    lastUpdate: s(T0),
    nextUpdate: s(T0 + expiresInMs / 2),
  });
  await writeTokenFile(path, file, undefined);
}

function source(extra: Partial<MachineTokenSourceOptions> = {}) {
  return createMachineTokenSource({ tokenFile: path, now: clock.now, ...extra });
}

async function rejection(p: Promise<unknown>): Promise<MachineTokenSourceError> {
  const err = await p.then(
    () => expect.unreachable("resolved"),
    (e: unknown) => e,
  );
  return err as MachineTokenSourceError;
}

describe("createMachineTokenSource", () => {
  it("serves the token of a file Go's tokend wrote, until its expiry", async () => {
    await writeFile(path, GO_TOKEN_FILE); // expiry 1422939906
    clock.advance(Date.UTC(2015, 1, 3, 4, 0, 0) - T0);
    const tokens = source();
    expect(await tokens.getToken()).toBe(GOLDEN_TOKEN);
    clock.advance(1422939906_000 - clock.ms());
    const err = await rejection(tokens.getToken());
    expect([err.name, err.problem, err.path]).toEqual(["MachineTokenSourceError", "expired", path]);
    expect(err.message).toBe(
      `token file ${path}: the token expired at 2015-02-03T05:05:06.000Z (is the tokend refreshing it?)`,
    );
  });

  it("shares one check among concurrent calls and caches the token between checks", async () => {
    await tokenFile("tok-1");
    const tokens = source({ checkIntervalMs: 1000 });
    const first = tokens.getToken();
    expect(tokens.getToken()).toBe(first); // the same promise: one stat and one read
    expect(await first).toBe("tok-1");
    await tokenFile("tok-2"); // renamed over the old file: a new inode
    expect(await tokens.getToken()).toBe("tok-1"); // inside the check interval: not looked at
    clock.advance(1000);
    expect(await tokens.getToken()).toBe("tok-2");
  });

  it("reads again only when the file's identity changed, or once the token nears expiry", async () => {
    await tokenFile("tok-A");
    const pin = async () => utimes(path, T0 / 1000, T0 / 1000);
    await pin();
    const tokens = source({ checkIntervalMs: 0, nearExpiryMs: 5 * MIN });
    expect(await tokens.getToken()).toBe("tok-A");
    // Rewritten in place with the same size and mtime: same (dev, ino, mtime, size).
    const before = await stat(path, { bigint: true });
    await writeFile(path, (await readFile(path, "utf8")).replace("tok-A", "tok-B")); // O_TRUNC: same inode
    await pin();
    const after = await stat(path, { bigint: true });
    expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    expect(await tokens.getToken()).toBe("tok-A"); // the cache holds: the file looks unchanged
    clock.advance(HOUR - 5 * MIN); // near expiry: read whatever the identity
    expect(await tokens.getToken()).toBe("tok-B");
  });

  it("checks the file at once when the clock steps back, instead of trusting the cache for that long", async () => {
    await tokenFile("tok-A");
    const tokens = source({ checkIntervalMs: 60_000 });
    clock.advance(HOUR / 2);
    expect(await tokens.getToken()).toBe("tok-A");
    await tokenFile("tok-B");
    clock.advance(-10 * MIN);
    expect(await tokens.getToken()).toBe("tok-B");
  });

  it("warns once when the token nears expiry and still serves it", async () => {
    await tokenFile("tok-1", 10 * MIN);
    const logger = recordingLogger();
    const tokens = source({ logger, checkIntervalMs: 0 });
    clock.advance(6 * MIN);
    expect(await tokens.getToken()).toBe("tok-1");
    expect(await tokens.getToken()).toBe("tok-1");
    expect(logger.at("warning")).toEqual([
      `token file ${path}: the token expires at ${new Date(T0 + 10 * MIN).toISOString()} and was not refreshed yet (is the tokend running?)`,
    ]);
  });

  it("refuses a token no machine token looks like, without ever quoting it (it would end up in an error)", async () => {
    for (const token of ["SECRET\u0001TOKEN", "SECRET TOKEN", "SECRET\nX-Evil: 1"]) {
      await tokenFile(token);
      const tokens = source();
      const err = await rejection(tokens.getToken());
      expect([err.problem, err.message]).toEqual([
        "damaged",
        `token file ${path}: the machine token is not base64 text`,
      ]);
      // What withMachineToken would have done with it: Headers.set throws, quoting the value.
      const sent = await withMachineToken(
        tokens,
        async () => new Response(),
      )("https://x.example/").catch((e: unknown) => e);
      expect(String(sent)).not.toContain("SECRET");
      expect(sent).toBe(err);
    }
  });

  it.each([
    ["missing", async () => {}, "no such file (has a tokend written it yet?)"],
    [
      "damaged",
      () => writeFile(path, '{"luci_machine_token": "x",'),
      "not a token file - unexpected end of JSON input",
    ],
    ["damaged", () => writeFile(path, '{"luci_machine_token": "x"}'), "no expiry in the file"],
    ["damaged", () => writeFile(path, '{"expiry": "9999999999"}'), "no luci_machine_token in the file"],
    [
      "damaged",
      // Go's tokend writes an expiry no date holds as the server sent it.
      () => writeFile(path, '{"luci_machine_token": "dG9rZW4", "expiry": "9223372036854775807"}'),
      "the expiry (seconds 9223372036854775807, nanos 0) is not a valid timestamp",
    ],
    [
      "damaged",
      () => writeFile(path, '{"luci_machine_token": "x", "extra": 1}'),
      /^not a token file - unknown field at line 1$/,
    ],
    ["unreadable", () => mkdir(path), "not a regular file (it is a directory)"],
    [
      "unreadable",
      () => writeFile(path, Buffer.alloc((1 << 20) + 1, 32)),
      "file is larger than 1048576 bytes",
    ],
  ] as const)("rejects when the file is %s: %s", async (problem, make, detail) => {
    await make();
    const err = await rejection(source().getToken());
    expect(err.problem).toBe(problem);
    expect(err.message).toMatch(/^token file \S+: [^\n]+$/);
    expect(err.message.slice(`token file ${path}: `.length)).toMatch(detail);
  });

  it("keeps serving a valid cached token while the file is gone or damaged, then fails", async () => {
    await tokenFile("tok-1", 10 * MIN);
    const logger = recordingLogger();
    const tokens = source({ logger, checkIntervalMs: 0, nearExpiryMs: 0 });
    expect(await tokens.getToken()).toBe("tok-1");
    await rm(path);
    expect(await tokens.getToken()).toBe("tok-1");
    expect(await tokens.getToken()).toBe("tok-1");
    await writeFile(path, "garbage");
    expect(await tokens.getToken()).toBe("tok-1");
    expect(logger.at("warning")).toEqual([
      `token file ${path}: no such file (has a tokend written it yet?); using the token read before until it expires`,
      `token file ${path}: not a token file - invalid JSON at line 1; using the token read before until it expires`,
    ]);
    clock.advance(10 * MIN);
    expect((await rejection(tokens.getToken())).problem).toBe("damaged");
    await tokenFile("tok-2", 20 * MIN); // the tokend is back
    expect(await tokens.getToken()).toBe("tok-2");
  });

  it("tries an unreadable file again at every check (a chmod may fix it)", async () => {
    await mkdir(path);
    const tokens = source({ checkIntervalMs: 0 });
    expect((await rejection(tokens.getToken())).problem).toBe("unreadable");
    await rm(path, { recursive: true });
    await tokenFile("tok-1");
    expect(await tokens.getToken()).toBe("tok-1");
  });
});
