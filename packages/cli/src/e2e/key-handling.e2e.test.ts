import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import type { DevServer, TestPki } from "@luci-machine-tokend/dev-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptTestKey } from "../../../core/src/testing/encrypted-key.js";
import { keyLeaks } from "../../../core/src/testing/key-leaks.js";
import { runCli } from "../testing/run-cli.js";
import { startTestTokenServer } from "../testing/test-token-server.js";
import { createTokendFixture, type TokendFixture } from "../testing/tokend-fixture.js";

/**
 * The private key in the CLI's hands: whatever the mistake, no output (stdout, stderr, the status
 * file) shows it, and decrypting an encrypted key stays inside -timeout or is refused up front.
 */

let pki: TestPki;
let server: DevServer;
let fx: TokendFixture;
let key: string;

beforeAll(async () => {
  ({ pki, server } = await startTestTokenServer());
  fx = await createTokendFixture(pki);
  key = pki.keyPem;
  const { createPrivateKey } = await import("node:crypto");
  const privateKey = createPrivateKey(key);
  const lines = key.trimEnd().split("\n");
  await writeFile(fx.path("enc.pem"), encryptTestKey(privateKey, "pw", { kdf: "pbkdf2", iterations: 2048 }));
  await writeFile(fx.path("pw"), "pw\n");
  await writeFile(fx.path("wrong-pw"), "wrong\n");
  const costly = { kdf: "pbkdf2", iterations: 20_000_000 } as const;
  await writeFile(fx.path("costly.pem"), encryptTestKey(privateKey, "pw", costly, { fakeCiphertext: true }));
  // Under the cap, but slower than a short -timeout: 1,000,000 iterations of HMAC-SHA512.
  const slow = { kdf: "pbkdf2", iterations: 1_000_000, hmac: "sha512" } as const;
  await writeFile(fx.path("slow.pem"), encryptTestKey(privateKey, "pw", slow, { fakeCiphertext: true }));
  await writeFile(
    fx.path("damaged.pem"),
    [...lines.slice(0, 5), "A".repeat(64), ...lines.slice(6)].join("\n"),
  );
  await writeFile(fx.path("truncated.pem"), `${lines.slice(0, 10).join("\n")}\n${lines.at(-1)}\n`);
  await mkdir(fx.path("dir.pem"));
});
afterAll(async () => {
  await server.close();
  await fx.cleanup();
});

/** fx.args with `flag`'s value replaced (or the flag added). */
function withFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  return i === -1 ? [...args, flag, value] : args.map((a, j) => (j === i + 1 ? value : a));
}

/** The key's body as one line of base64, without its BEGIN and END lines. */
function keyBase64(): string {
  return key
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("-----"))
    .join("");
}

/** `check` against the test server with these certificate and key paths, and `extra` flags. */
function check(certPem: string, pkeyPem: string, ...extra: string[]): string[] {
  return ["check", "-backend", server.backend, "-cert-pem", certPem, "-pkey-pem", pkeyPem, ...extra];
}

describe("the CLI never shows the private key", () => {
  it("in its output or status file, whatever the mistake", async () => {
    const base = fx.args(server.backend, "-timeout", "5s");
    const p = fx.path;
    const cases: Array<[string, string[]]> = [
      ["the key's text as -pkey-pem", withFlag(base, "-pkey-pem", key)],
      [
        "the key's text as -pkey-pem=",
        [...base.filter((a, i) => a !== "-pkey-pem" && base[i - 1] !== "-pkey-pem"), `-pkey-pem=${key}`],
      ],
      ["the key's text as -cert-pem", withFlag(base, "-cert-pem", key)],
      ["the key's text as -token-file", withFlag(base, "-token-file", key)],
      ["the key's text as the first argument", [key, ...base]],
      ["the key's text as a last argument", [...base, key]],
      ["the key's text after a flag without its value", [...base, "-force-refresh", key]],
      [
        "the key's body (no BEGIN line) as the first argument",
        [key.split("\n").slice(1).join("\n"), ...base],
      ],
      ["the key's base64 (no lines) as the first argument", [keyBase64(), ...base]],
      ["the key's text as -exec", [...base, "-force-refresh", "-exec", key]],
      ["the key's text as -token-file-copy", [...base, "-token-file-copy", key]],
      ["the key's text as -ca-bundle", [...base, "-ca-bundle", key]],
      ["the key's text as -pkey-passphrase-file", [...base, "-pkey-passphrase-file", key]],
      ["the key's text as -prometheus-textfile", [...base, "-prometheus-textfile", key]],
      ["the key's text as -ts-mon-config-file", withFlag(base, "-ts-mon-config-file", key)],
      ["the key's text as -dry-run's -pkey-pem", [...withFlag(base, "-pkey-pem", key), "-dry-run"]],
      ["the key file as -cert-pem", withFlag(base, "-cert-pem", fx.keyPath)],
      ["the files swapped", withFlag(withFlag(base, "-cert-pem", fx.keyPath), "-pkey-pem", fx.certPath)],
      ["a directory as -pkey-pem", withFlag(base, "-pkey-pem", p("dir.pem"))],
      ["a missing -pkey-pem", withFlag(base, "-pkey-pem", p("missing.pem"))],
      ["a damaged key", withFlag(base, "-pkey-pem", p("damaged.pem"))],
      ["a truncated key", withFlag(base, "-pkey-pem", p("truncated.pem"))],
      ["an encrypted key, no passphrase", withFlag(base, "-pkey-pem", p("enc.pem"))],
      [
        "an encrypted key, a wrong passphrase",
        [...withFlag(base, "-pkey-pem", p("enc.pem")), "-pkey-passphrase-file", p("wrong-pw")],
      ],
      [
        "an encrypted key, the key file as the passphrase file",
        [...withFlag(base, "-pkey-pem", p("enc.pem")), "-pkey-passphrase-file", fx.keyPath],
      ],
      [
        "a key asking for 20,000,000 iterations",
        [...withFlag(base, "-pkey-pem", p("costly.pem")), "-pkey-passphrase-file", p("pw")],
      ],
      ["the key file as -ca-bundle", [...base, "-force-refresh", "-ca-bundle", fx.keyPath]],
      ["the key file as -ts-mon-config-file", withFlag(base, "-ts-mon-config-file", fx.keyPath)],
      ["the key file as -token-file", base],
      ["check: the key's text as -pkey-pem", check(fx.certPath, key)],
      ["check: the key's text as -token-file", check(fx.certPath, fx.keyPath, "-token-file", key)],
      ["check: the key file as -cert-pem", check(fx.keyPath, fx.keyPath)],
      ["check: the files swapped", check(fx.keyPath, fx.certPath)],
      ["check: the key file as -ca-bundle", check(fx.certPath, fx.keyPath, "-ca-bundle", fx.keyPath)],
      ["check: a wrong passphrase", check(fx.certPath, p("enc.pem"), "-pkey-passphrase-file", fx.keyPath)],
      [
        "inspect: the key file as -token-file",
        ["inspect", "-token-file", fx.keyPath, "-status-file", fx.keyPath],
      ],
      ["inspect: the key's text as -token-file", ["inspect", "-token-file", key]],
    ];
    const leaks: string[] = [];
    for (const [what, args] of cases) {
      await rm(fx.statusPath, { force: true });
      // A token file that a key stands in for: the run's own copy, so the real key is never replaced.
      const tokenFile = p("key-as-token.json");
      await copyFile(fx.keyPath, tokenFile);
      const r = await runCli(
        what === "the key file as -token-file" ? withFlag(args, "-token-file", tokenFile) : args,
      );
      const status = await readFile(fx.statusPath, "utf8").catch(() => "");
      expect(r.signal, what).toBeNull();
      // A bad ts-mon config file is not fatal (as Go), and a bad token file is replaced: those succeed.
      if (!/ts-mon-config-file|key file as -token-file/.test(what)) expect(r.code, what).not.toBe(0);
      for (const [where, text] of [
        ["stdout", r.stdout],
        ["stderr", r.stderr],
        ["status file", status],
      ]) {
        for (const leak of keyLeaks(text ?? "", key)) leaks.push(`${what}, ${where}: ${leak}`);
      }
    }
    expect(leaks).toEqual([]);
  }, 120_000);

  it("refuses, at once, a key whose encryption asks for 20,000,000 iterations (it made -timeout 2s take 7 s)", async () => {
    await rm(fx.statusPath, { force: true });
    const args = [...withFlag(fx.args(server.backend, "-timeout", "2s"), "-pkey-pem", fx.path("costly.pem"))];
    const r = await runCli([...args, "-pkey-passphrase-file", fx.path("pw")]);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(2000);
    const status = JSON.parse(await readFile(fx.statusPath, "utf8"));
    expect(status.update_outcome).toBe("CANT_READ_KEY");
    expect(status.failure_error).toBe(
      `${fx.path("costly.pem")}: not decrypting the private key: its encryption (PBKDF2-HMAC-SHA256, 20000000 iterations) asks for more than the 1000000 iterations allowed; re-encrypt it with fewer (openssl pkcs8 -topk8 -v2 aes-256-cbc uses 2048)`,
    );
  });

  it("ends the run at -timeout while a key under the cap is still being decrypted", async () => {
    await rm(fx.statusPath, { force: true });
    const args = [
      ...withFlag(fx.args(server.backend, "-timeout", "200ms"), "-pkey-pem", fx.path("slow.pem")),
    ];
    const r = await runCli([...args, "-pkey-passphrase-file", fx.path("pw")]);
    expect(r.code).toBe(1);
    const status = JSON.parse(await readFile(fx.statusPath, "utf8"));
    expect(status.update_outcome).toBe("CANT_READ_KEY");
    expect(status.failure_error).toBe(
      `${fx.path("slow.pem")}: decrypting the private key (PBKDF2-HMAC-SHA512, 1000000 iterations) did not finish before the deadline`,
    );
    // The run's own clock: from start to the report, about -timeout (the derivation thread runs on
    // to its end before the process exits, at most the cap's cost).
    expect(status.total_duration_us).toBeLessThan(700_000);
  });
});
