import { mkdir, writeFile } from "node:fs/promises";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMachineTokenSource } from "./credentials/machine-token-source.js";
import { startTokenRefresher } from "./credentials/token-refresher.js";
import type { TokenRefresherOptions } from "./credentials/token-refresher-options.js";
import { decodeMachineToken } from "./machine-token/decode-machine-token.js";
import { createTokenMinterClient } from "./mint/token-minter-client.js";
import { createX509Signer } from "./mint/x509-signer.js";
import { encryptTestKey } from "./testing/encrypted-key.js";
import { keyLeaks } from "./testing/key-leaks.js";
import { makeTestPki, type TestPki } from "./testing/pki.js";
import { recordingLogger } from "./testing/recording-logger.js";
import { makeTempDir } from "./testing/temp-dir.js";
import { readTokenFile } from "./token-file/read-token-file.js";

/**
 * Every error path of the library a key can reach, driven with the usual mistakes (the key's text
 * where its path belongs, the files swapped, a wrong passphrase, a damaged key, …): no error
 * message, printed error (util.inspect, as console.error shows it, causes included), callback
 * argument or log line gives the key away (testing/key-leaks.ts: its PEM armor or any 16
 * characters of its base64).
 */

let pki: TestPki;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let key: string;
/** Everything the library said, with what it was saying it about. */
const said: Array<{ what: string; text: string }> = [];

beforeAll(async () => {
  [pki, tmp] = await Promise.all([makeTestPki(), makeTempDir()]);
  key = pki.leaf.pkcs1Pem;
  const lines = key.trimEnd().split("\n");
  const files: Record<string, string> = {
    "key.pem": key,
    "pkcs8.pem": pki.leaf.pkcs8Pem,
    "cert.pem": pki.leaf.certPem,
    "enc.pem": encryptTestKey(pki.leaf.privateKey, "pw", { kdf: "pbkdf2", iterations: 2048 }),
    "costly.pem": encryptTestKey(
      pki.leaf.privateKey,
      "pw",
      { kdf: "pbkdf2", iterations: 20_000_000 },
      {
        fakeCiphertext: true,
      },
    ),
    // A line of the body changed (still base64: the DER inside is broken) and one cut in half.
    "damaged.pem": [...lines.slice(0, 5), "A".repeat(64), ...lines.slice(6)].join("\n"),
    "truncated.pem": `${lines.slice(0, lines.length / 2).join("\n")}\n${lines.at(-1)}\n`,
    "no-end.pem": lines.slice(0, -1).join("\n"),
    "empty.pem": "",
    "key-and-cert.pem": `${key}${pki.leaf.certPem}`,
    "token.json": `{"luci_machine_token": ${JSON.stringify(key)}, "expiry": "4102444800"}`,
  };
  for (const [name, content] of Object.entries(files)) await writeFile(tmp.path(name), content);
  await mkdir(tmp.path("dir.pem"));
});
afterAll(() => tmp.remove());

/** Keeps what an error would show, however it is shown: its message and util.inspect (causes, properties). */
function keep(what: string, err: unknown): void {
  said.push({
    what,
    text: err instanceof Error ? `${err.message}\n${inspect(err, { depth: 8 })}` : String(err),
  });
}

/** [what, key path, cert path, passphrase]: the mistakes a person makes with a key. */
function mistakes(): Array<[string, string, string, string?]> {
  const p = (name: string) => tmp.path(name);
  return [
    ["the key's text as the key path", key, p("cert.pem")],
    ["the key's text as the certificate path", p("key.pem"), key],
    ["the key's PKCS#8 text as both", pki.leaf.pkcs8Pem, pki.leaf.pkcs8Pem],
    ["the key file as the certificate", p("key.pem"), p("key.pem")],
    ["the files swapped", p("cert.pem"), p("key.pem")],
    ["a key and certificate in one file as the certificate", p("key.pem"), p("key-and-cert.pem")],
    ["a wrong passphrase", p("enc.pem"), p("cert.pem"), "wrong"],
    ["no passphrase for an encrypted key", p("enc.pem"), p("cert.pem")],
    ["a passphrase for a plain key", p("pkcs8.pem"), p("key-and-cert.pem"), "pw"],
    ["a key asking for 20,000,000 iterations", p("costly.pem"), p("cert.pem"), "pw"],
    ["a damaged key", p("damaged.pem"), p("cert.pem")],
    ["a truncated key", p("truncated.pem"), p("cert.pem")],
    ["a key without its END line", p("no-end.pem"), p("cert.pem")],
    ["an empty key file", p("empty.pem"), p("cert.pem")],
    ["a directory as the key", p("dir.pem"), p("cert.pem")],
    ["a missing key", p("missing.pem"), p("cert.pem")],
  ];
}

describe("no error of the library gives the key away", () => {
  it("(the detector finds a key shown whole, JSON-escaped, or in an error's properties)", () => {
    const shown = [
      `ENOENT: no such file or directory, open '${key}'`,
      JSON.stringify({ failure_error: `open ${key.slice(40)}: no such file` }),
      inspect(Object.assign(new Error("x"), { path: key.split("\n")[3] })),
    ];
    for (const text of shown) expect(keyLeaks(text, key)).not.toEqual([]);
  });

  it("createX509Signer, for every mistake", async () => {
    for (const [what, keyPath, certPath, passphrase] of mistakes()) {
      const err = await createX509Signer({ keyPath, certPath, passphrase }).then(
        () => new Error(`${what}: loaded`),
        (e: unknown) => e,
      );
      keep(`createX509Signer: ${what}`, err);
    }
    expectNoLeaks();
  });

  it("startTokenRefresher (files, PEM and the deprecated names): onError, log lines, getToken()", async () => {
    const variants = (keyPath: string, certPath: string): Array<[string, Record<string, unknown>]> => [
      ["files", { keyFile: keyPath, certFile: certPath }],
      ["the key as the token file", { keyFile: keyPath, certFile: certPath, tokenFile: key }],
      ["the key as the CA bundle", { keyFile: keyPath, certFile: certPath, caBundle: key }],
      ["deprecated names", { keyPem: keyPath, certPem: certPath }],
      ["the files' contents as PEM", { key: contents(keyPath), cert: contents(certPath) }],
    ];
    for (const [what, keyPath, certPath, passphrase] of mistakes()) {
      for (const [how, identity] of variants(keyPath, certPath)) {
        const label = `startTokenRefresher (${how}): ${what}`;
        const logger = recordingLogger();
        const options = {
          backend: "127.0.0.1:1",
          keyPassphrase: passphrase,
          logger,
          onError: (error: Error) => keep(`${label}: onError`, error),
          timeoutMs: 2000,
          ...identity,
        } as unknown as TokenRefresherOptions; // as a caller without types might give them
        let refresher: ReturnType<typeof startTokenRefresher>;
        try {
          refresher = startTokenRefresher(options);
        } catch (err) {
          keep(`${label}: start`, err);
          continue;
        }
        await refresher.getToken().then(
          () => keep(label, "a token"),
          (err: unknown) => keep(`${label}: getToken`, err),
        );
        await refresher.stop();
        for (const line of logger.lines) keep(`${label}: log`, line.message);
      }
    }
    expect(said.some((s) => s.what.endsWith("onError"))).toBe(true);
    expectNoLeaks();
  });

  it("the key where a token file, a token or trust roots belong", async () => {
    const logger = recordingLogger();
    await readTokenFile(tmp.path("key.pem"), { logger });
    await readTokenFile(tmp.path("token.json"), { logger }); // a token file whose token is a key
    for (const line of logger.lines) keep("readTokenFile: log", line.message);
    for (const tokenFile of [tmp.path("key.pem"), tmp.path("token.json"), key]) {
      try {
        await createMachineTokenSource({ tokenFile, logger }).getToken();
      } catch (err) {
        keep("createMachineTokenSource", err);
      }
    }
    await decodeMachineToken(key).catch((err: unknown) => keep("decodeMachineToken", err));
    for (const caBundle of [tmp.path("key.pem"), key]) {
      try {
        await createTokenMinterClient("example.com", { caBundle, env: {} }).mintMachineToken({});
      } catch (err) {
        keep("createTokenMinterClient with the key as its CA bundle", err);
      }
    }
    expectNoLeaks();
  });
});

function contents(path: string): string {
  // Paths that are not files (the key's text itself, a directory, a missing file) stay as given.
  try {
    return process.getBuiltinModule("node:fs").readFileSync(path, "utf8");
  } catch {
    return path;
  }
}

function expectNoLeaks(): void {
  const leaks = said.flatMap(({ what, text }) => keyLeaks(text, key).map((leak) => `${what}: ${leak}`));
  expect(said.length).toBeGreaterThan(0);
  expect(leaks).toEqual([]);
  said.length = 0;
}
