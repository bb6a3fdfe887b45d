import { createPrivateKey, type KeyObject } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptTestKey, type TestKeyEncryption } from "../testing/encrypted-key.js";
import { keyLeaks } from "../testing/key-leaks.js";
import { makeTestPki, type TestPki } from "../testing/pki.js";
import { makeTempDir } from "../testing/temp-dir.js";
import { decodePemBlocks } from "./pem.js";
import { createX509Signer, KeyLoadError } from "./x509-signer.js";

let pki: TestPki;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let certPath: string;
let n = 0;

beforeAll(async () => {
  [pki, tmp] = await Promise.all([makeTestPki(), makeTempDir()]);
  certPath = tmp.path("cert.pem");
  await writeFile(certPath, pki.leaf.certPem);
});
afterAll(() => tmp.remove());

async function keyFile(pem: string): Promise<string> {
  const path = tmp.path(`key${++n}.pem`);
  await writeFile(path, pem);
  return path;
}

/** The signer's key as PKCS#8 DER, to compare with the key that was encrypted. */
function pkcs8(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "der" }).toString("hex");
}

/** The KeyLoadError of loading `pem` with `passphrase`, and how long it took. */
async function failure(pem: string, passphrase = "pw", signal?: AbortSignal) {
  const keyPath = await keyFile(pem);
  const started = performance.now();
  const err = await createX509Signer({ keyPath, certPath, passphrase, signal }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = performance.now() - started;
  expect(err).toBeInstanceOf(KeyLoadError);
  const message = (err as Error).message;
  expect(message.startsWith(`${keyPath}: `)).toBe(true);
  expect(message).not.toMatch(/[\r\n]/);
  expect(keyLeaks(message, pki.leaf.pkcs8Pem)).toEqual([]);
  return { message: message.slice(keyPath.length + 2), ms };
}

describe("encrypted private keys", () => {
  it("decrypt as OpenSSL writes them (Node's export: PBKDF2-HMAC-SHA256, 2048 iterations) for each cipher", async () => {
    for (const cipher of ["aes-128-cbc", "aes-192-cbc", "aes-256-cbc", "des-ede3-cbc"]) {
      const pem = pki.leaf.privateKey.export({ type: "pkcs8", format: "pem", cipher, passphrase: "s3cret" });
      const signer = await createX509Signer({
        keyPath: await keyFile(String(pem)),
        certPath,
        passphrase: "s3cret",
      });
      expect(signer.certificate.subject).toContain("CN=host.domain");
      expect((await failure(String(pem), "wrong")).message).toMatch(
        /^cannot decrypt the private key \(wrong passphrase\?\) - /,
      );
    }
  });

  it("decrypt with each PBKDF2 hash and with scrypt, as OpenSSL does", async () => {
    const encryptions: TestKeyEncryption[] = [
      { kdf: "pbkdf2", iterations: 1000, hmac: "sha1" },
      { kdf: "pbkdf2", iterations: 1000, hmac: "sha224" },
      { kdf: "pbkdf2", iterations: 1000, hmac: "sha384" },
      { kdf: "pbkdf2", iterations: 1000, hmac: "sha512" },
      { kdf: "scrypt", n: 1024, r: 8, p: 2 },
    ];
    for (const encryption of encryptions) {
      const pem = encryptTestKey(pki.leaf.privateKey, "pw", encryption);
      // OpenSSL reads the test key as it is written (so the encoder is right) ...
      expect(pkcs8(createPrivateKey({ key: pem, passphrase: "pw" }))).toBe(pkcs8(pki.leaf.privateKey));
      // ... and so does the signer, without OpenSSL's decryption.
      const signer = await createX509Signer({ keyPath: await keyFile(pem), certPath, passphrase: "pw" });
      expect(Buffer.from(await signer.sign(Buffer.from("x"))).length).toBe(256);
      expect((await failure(pem, "wrong")).message).toMatch(
        /^cannot decrypt the private key \(wrong passphrase\?\)/,
      );
    }
  });

  it("are refused at once, naming the cap, when they ask for more work than a run may spend", async () => {
    const key = pki.leaf.privateKey;
    const fake = { fakeCiphertext: true };
    const cases: Array<[string, string]> = [
      // The key: 20,000,000 PBKDF2 iterations made a -timeout 2s run take 7 s.
      [
        encryptTestKey(key, "pw", { kdf: "pbkdf2", iterations: 20_000_000 }, fake),
        "not decrypting the private key: its encryption (PBKDF2-HMAC-SHA256, 20000000 iterations) asks for more than the 1000000 iterations allowed; re-encrypt it with fewer (openssl pkcs8 -topk8 -v2 aes-256-cbc uses 2048)",
      ],
      // PKCS#12 (OpenSSL 1.0's -topk8 default): only OpenSSL decrypts it, blocking, so less is run.
      [
        encryptTestKey(key, "pw", { kdf: "pkcs12", iterations: 100_001 }),
        "not decrypting the private key: its encryption (PKCS#12, 100001 iterations) asks for more than the 100000 iterations allowed where only OpenSSL decrypts (blocking); re-encrypt it with fewer (openssl pkcs8 -topk8 -v2 aes-256-cbc uses 2048)",
      ],
      [
        encryptTestKey(key, "pw", { kdf: "scrypt", n: 2 ** 20, r: 8, p: 1 }, fake),
        "not decrypting the private key: its scrypt parameters (scrypt N=1048576 r=8 p=1) need more than the 33554432 bytes of memory allowed",
      ],
      [
        encryptTestKey(key, "pw", { kdf: "scrypt", n: 2 ** 14, r: 8, p: 1000 }, fake),
        "not decrypting the private key: its scrypt parameters (scrypt N=16384 r=8 p=1000) ask for more work (N×r×p) than the 1048576 allowed",
      ],
      [
        encryptTestKey(key, "pw", { kdf: "scrypt", n: 1000, r: 8, p: 1 }, fake),
        "not decrypting the private key: its scrypt parameters are not valid (scrypt N=1000 r=8 p=1)",
      ],
      [
        encryptTestKey(key, "pw", { kdf: "pbkdf2", iterations: 0 }, fake),
        "not decrypting the private key: its iteration count is 0",
      ],
    ];
    for (const [pem, message] of cases) {
      const refused = await failure(pem);
      expect(refused.message).toBe(message);
      expect(refused.ms).toBeLessThan(500);
    }
  });

  it("are refused when their scheme is unknown or their parameters are not DER, never quoted", async () => {
    const good = encryptTestKey(pki.leaf.privateKey, "pw", { kdf: "pbkdf2", iterations: 1 });
    const der = Buffer.from(decodePemBlocks(Buffer.from(good))[0]?.der ?? []);
    const pem = (bytes: Buffer) =>
      `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${bytes.toString("base64")}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
    const unknown = Buffer.from(der);
    unknown[der.indexOf(Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d])) + 8] = 0x7f; // PBES2 → 1.2.840.113549.1.5.127
    expect((await failure(pem(unknown))).message).toBe(
      "cannot decrypt the private key - its encryption scheme 1.2.840.113549.1.5.127 is not supported",
    );
    expect((await failure(pem(der.subarray(0, 40)))).message).toBe(
      "cannot decrypt the private key - its encryption parameters are not valid DER (truncated)",
    );
  });

  it("are decrypted off the event loop, and given up at the deadline (the signal) with the cost named", async () => {
    // Under the cap but slow: 1,000,000 iterations of HMAC-SHA512 (0.5 to 2 s here).
    const slow = encryptTestKey(
      pki.leaf.privateKey,
      "pw",
      { kdf: "pbkdf2", iterations: 1_000_000, hmac: "sha512" },
      {
        fakeCiphertext: true,
      },
    );
    let longestGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      longestGap = Math.max(longestGap, performance.now() - last);
      last = performance.now();
    }, 5);
    try {
      const whole = await failure(slow);
      expect(whole.message).toMatch(/^cannot decrypt the private key \(wrong passphrase\?\)/);
      // The loop kept ticking while the key was derived on the thread pool.
      expect(longestGap).toBeLessThan(whole.ms / 3);
      const cut = await failure(slow, "pw", AbortSignal.timeout(50));
      expect(cut.message).toBe(
        "decrypting the private key (PBKDF2-HMAC-SHA512, 1000000 iterations) did not finish before the deadline",
      );
      expect(cut.ms).toBeLessThan(whole.ms / 2);
    } finally {
      clearInterval(ticker);
    }
  });
});
