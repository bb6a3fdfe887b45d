import { spawnSync } from "node:child_process";
import { access, chown, readFile, writeFile } from "node:fs/promises";
import { createTestPki, type TestPki } from "@luci-machine-tokend/dev-server";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createFakeClock } from "../../core/src/testing/fake-clock.js";
import { createFakeMinter, tokenReply } from "../../core/src/testing/fake-minter.js";
import type { CliIo } from "./cli-io.js";
import { main } from "./main.js";
import { createTokendFixture, type TokendFixture } from "./testing/tokend-fixture.js";
import { usageText } from "./usage.js";

const START = new Date(1700000000_000);
let pki: TestPki;
let fx: TokendFixture;

beforeAll(async () => {
  pki = await createTestPki({ fqdn: "bot-1.example.com", now: START });
});
beforeEach(async () => {
  fx = await createTokendFixture(pki);
});
afterEach(() => fx.cleanup());

/** Runs main in-process and collects what it prints. */
async function cli(argv: string[], extra: Partial<CliIo> = {}) {
  let stdout = "";
  let stderr = "";
  const clock = createFakeClock(START);
  const minter = createFakeMinter(() => tokenReply("token-1", new Date(START.getTime() + 3_600_000)));
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    // Each reading of the clock moves it 1 ms, so durations are non-zero like on a real machine.
    deps: {
      now: () => {
        clock.advance(1);
        return clock.now();
      },
      sleep: clock.sleep,
      createClient: () => minter.client,
    },
    ...extra,
  });
  return { code, stdout, stderr, minter };
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe("main: Go's exit codes and flag errors", () => {
  it("prints the usage to stderr for -h, -help and --help and exits 0, as Go", async () => {
    for (const h of ["-h", "-help", "--help"]) {
      const r = await cli([h]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(usageText());
      expect(r.stderr).toMatch(/^Usage:\n {2}-backend string\n {4}\t/);
    }
  });

  it("exits 2 with Go's message and the usage for an unknown flag or a bad value, writing no status", async () => {
    const unknown = await cli([...fx.args("127.0.0.1:1"), "-bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`flag provided but not defined: -bogus\n${usageText()}`);
    const bad = await cli([...fx.args("127.0.0.1:1"), "-timeout", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`invalid value "soon" for flag -timeout: parse error\n${usageText()}`);
    const flush = await cli([...fx.args("127.0.0.1:1"), "-ts-mon-flush", "bogus"]);
    expect([flush.code, flush.stderr.split("\n")[0]]).toEqual([
      2,
      'invalid value "bogus" for flag -ts-mon-flush: flagenum: Invalid value; must be one of [auto, manual]',
    ]);
    expect(await exists(fx.statusPath)).toBe(false);
    expect(await exists(fx.tokenPath)).toBe(false);
  });

  it("adds a hint after Go's line when a duration has no unit", async () => {
    const r = await cli([...fx.args("127.0.0.1:1"), "-timeout", "10"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n").slice(0, 3)).toEqual([
      'invalid value "10" for flag -timeout: parse error',
      "a duration needs a unit, e.g. 10s",
      "Usage:",
    ]);
    expect(await exists(fx.statusPath)).toBe(false);
  });

  it("prints the package version for -version and --version (Go has no such flag)", async () => {
    const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
    for (const v of ["-version", "--version"]) {
      const r = await cli([v]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, `${pkg.version}\n`, ""]);
    }
    // Still a Go bool flag: flag errors come first, -version=false runs as usual.
    expect((await cli(["-version", "-nope"])).code).toBe(2);
    expect((await cli(["-version=false"])).stderr.split("\n")[0]).toBe("-pkey-pem is required");
  });

  it("checks required flags in Go's order: -pkey-pem, -cert-pem, -backend, -token-file", async () => {
    const first = (argv: string[]) => cli(argv).then((r) => [r.code, r.stderr.split("\n")[0]]);
    expect(await first([])).toEqual([2, "-pkey-pem is required"]);
    expect(await first(["-pkey-pem", "k"])).toEqual([2, "-cert-pem is required"]);
    expect(await first(["-pkey-pem", "k", "-cert-pem", "c"])).toEqual([2, "-backend is required"]);
    expect(
      await first(["-pkey-pem", "k", "-cert-pem", "c", "-backend", "b:1", "-status-file", fx.statusPath]),
    ).toEqual([2, "-token-file is required"]);
    expect(await exists(fx.statusPath)).toBe(false);
  });

  it("names a mistyped subcommand before Go's error and usage (exit 2, as Go: a bare first word ends the flags)", async () => {
    const lines = async (argv: string[]) => {
      const r = await cli(argv);
      return [r.code, ...r.stderr.split("\n").slice(0, 3)];
    };
    expect(await lines(["chek", ...fx.args("127.0.0.1:1")])).toEqual([
      2,
      'unknown command "chek" (did you mean check?)',
      "-pkey-pem is required",
      "Usage:",
    ]);
    for (const [word, close] of [
      ["inspcet", "inspect"],
      ["dev-sever", "dev-server"],
      ["csv", "csr"],
      ["Check", "check"],
    ]) {
      expect((await lines([word ?? ""]))[1]).toBe(`unknown command "${word}" (did you mean ${close}?)`);
    }
    expect(await lines(["refresh", "-h"])).toEqual([
      2,
      'unknown command "refresh" (commands: inspect, check, csr, dev-server, demo; a run takes flags only)',
      "-pkey-pem is required",
      "Usage:",
    ]);
    expect((await lines(["a\nb"]))[1]).toBe(
      'unknown command "a\\nb" (commands: inspect, check, csr, dev-server, demo; a run takes flags only)',
    );
    // Not words: Go's output alone.
    for (const argv of [["-"], [""], ["--", "chek"]]) {
      expect(await lines(argv)).toEqual([2, "-pkey-pem is required", "Usage:", expect.any(String)]);
    }
    expect(await exists(fx.statusPath)).toBe(false);
  });

  it("does not quote a long first word back (something pasted, such as a key's base64)", async () => {
    const pasted = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC".repeat(3);
    const r = await cli([pasted, ...fx.args("127.0.0.1:1")]);
    expect([r.code, r.stderr.split("\n")[0]]).toEqual([
      2,
      `the first argument is no command (${pasted.length} characters, not shown; commands: inspect, check, csr, dev-server, demo; a run takes flags only)`,
    ]);
    expect(r.stderr).not.toContain(pasted.slice(0, 20));
  });

  it("refuses a -backend with a scheme at parse time (exit 2)", async () => {
    const r = await cli(fx.args("https://tokens.example.com"));
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      'invalid value "https://tokens.example.com" for flag -backend: expecting host[:port]',
    );
  });

  it("runs, writes the status file in Go's format, and exits 0; a key failure exits 1 with the status written", async () => {
    const ok = await cli(fx.args("127.0.0.1:1"));
    expect(ok.code).toBe(0);
    const status = JSON.parse(await readFile(fx.statusPath, "utf8"));
    expect(status).toMatchObject({
      tokend_version: "1.3",
      update_outcome: "UPDATE_SUCCESS",
      update_reason: "NEW_TOKEN",
    });
    expect(Object.keys(status)).toEqual([
      "tokend_version",
      "service_version",
      "started_ts",
      "total_duration_us",
      "rpc_duration_us",
      "update_outcome",
      "update_reason",
      "log_dump",
      "token_last_update_ts",
      "token_next_update_ts",
      "token_expiry_ts",
    ]);
    expect(ok.stderr).toMatch(
      /^\[I2023-11-14T22:13:20\.\d{3}000Z \d+ 0 tokend\] Updating the token \(reason: NEW_TOKEN\)$/m,
    );

    const bad = await cli(["-pkey-pem", fx.path("nope.pem"), ...fx.args("127.0.0.1:1").slice(2)]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(await readFile(fx.statusPath, "utf8")).update_outcome).toBe("CANT_READ_KEY");
  });

  it("with -dry-run says what it would do and writes nothing", async () => {
    const r = await cli([...fx.args("127.0.0.1:1"), "-dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `NEW_TOKEN: would mint a new token from 127.0.0.1:1 over prpc and write ${fx.tokenPath}\n`,
    );
    expect(r.minter.requests).toHaveLength(0);
    expect(await exists(fx.tokenPath)).toBe(false);
    expect(await exists(fx.statusPath)).toBe(false);

    await cli(fx.args("127.0.0.1:1"));
    const copy = fx.path("copy.json");
    const good = await cli([...fx.args("127.0.0.1:1"), "-token-file-copy", copy, "-dry-run"]);
    expect(good.stdout).toBe(
      `MISSING_TOKEN_COPY: the token is good until 2023-11-14T22:43:20.000Z; would write ${copy}\n`,
    );
    expect(await exists(copy)).toBe(false);

    // The run's own test of a copy: the same content in another Go build's spacing is current; a
    // copy of another user is not, whatever it holds.
    await writeFile(copy, (await readFile(fx.tokenPath, "utf8")).replace(/": /g, '":  '));
    const sameContent = await cli([...fx.args("127.0.0.1:1"), "-token-file-copy", copy, "-dry-run"]);
    expect(sameContent.stdout).toMatch(/^TOKEN_IS_GOOD: .*; nothing to do\n$/);
    if (process.getuid?.() === 0) {
      await chown(copy, 65534, 65534);
      const foreign = await cli([...fx.args("127.0.0.1:1"), "-token-file-copy", copy, "-dry-run"]);
      expect(foreign.stdout).toMatch(/^MISSING_TOKEN_COPY: .*; would write /);
    }
  });
});

const GO = process.env.LUCI_GO_TOKEND;

describe.skipIf(!GO)(
  "main: flag handling side by side with the Go binary (set LUCI_GO_TOKEND to run)",
  () => {
    const go = (argv: string[]) => {
      const r = spawnSync(GO ?? "", argv, { encoding: "utf8", timeout: 10_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    /** Go's flag list as (name and type, default) pairs, from a usage text. */
    const flagList = (usage: string) => {
      const lines = usage.split("\n");
      return lines.flatMap((l, i) =>
        l.startsWith("  -") ? [[l, /\(default .*\)$/.exec(lines[i + 1] ?? "")?.[0] ?? ""]] : [],
      );
    };

    it("prints the same flags, types and defaults, in the same order, on stderr with exit 0 for -h", async () => {
      const [g, ours] = [go(["-h"]), await cli(["-h"])];
      expect([ours.code, ours.stdout, ours.stderr.split("\n")[0]]).toEqual([g.code, g.stdout, "Usage:"]);
      const goFlags = flagList(g.stderr);
      expect(goFlags.length).toBeGreaterThan(20);
      expect(flagList(ours.stderr).slice(0, goFlags.length)).toEqual(goFlags);
      expect(ours.stderr.split("\n")[1 + goFlags.length * 2]).toBe("");
    });

    it.each([
      [[]],
      [["-help=1"]],
      [["-nope"]],
      [["-backend"]],
      [["-force-refresh=yes"]],
      [["-force-refresh", "true", "-nope"]],
      [["-timeout", "10"]],
      [["-timeout", "soon"]],
      [["-timeout", "9223372036854775808ns"]],
      [['-timeout=a"b\tc\u2028']],
      [["-ts-mon-flush", "bogus"]],
      [["-ts-mon-target-type", "bogus"]],
      [["-ts-mon-task-number", "0x1_0"]],
      [["-ts-mon-task-number", "1__0"]],
      [["-ts-mon-task-number", "99999999999999999999"]],
      [["---x"]],
      [["-=x"]],
      [["--", "-nope"]],
      [["-token-file-copy="]],
      [["-pkey-pem", "k", "-cert-pem", "c"]],
      [["-pkey-pem", "k", "-cert-pem", "c", "-backend", "b:1"]],
    ])("%j: same exit code and first stderr line, then Go's usage", async (argv) => {
      const [g, ours] = [go(argv), await cli(argv)];
      expect([ours.code, ours.stdout, ours.stderr.split("\n")[0]]).toEqual([
        g.code,
        g.stdout,
        g.stderr.split("\n")[0],
      ]);
      const goFlags = flagList(g.stderr);
      expect(flagList(ours.stderr).slice(0, goFlags.length)).toEqual(goFlags);
    });
  },
);
