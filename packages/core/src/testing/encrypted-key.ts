import { createCipheriv, type KeyObject, pbkdf2Sync, randomBytes, scryptSync } from "node:crypto";

/** How a test key is encrypted: PBES2 with PBKDF2 or scrypt, or a PKCS#12 scheme (cost only). */
export type TestKeyEncryption =
  | { kdf: "pbkdf2"; iterations: number; hmac?: "sha1" | "sha224" | "sha256" | "sha384" | "sha512" }
  | { kdf: "scrypt"; n: number; r: number; p: number }
  | { kdf: "pkcs12"; iterations: number };

/** Options of {@link encryptTestKey}. */
export interface EncryptTestKeyOptions {
  /** Default aes-256-cbc. */
  cipher?: "aes-128-cbc" | "aes-192-cbc" | "aes-256-cbc" | "des-ede3-cbc";
  /**
   * Random bytes instead of the encrypted key: the header asks for any cost without paying it
   * here (a PKCS#12 key is always this). Decrypting such a key runs its whole derivation, then fails.
   */
  fakeCiphertext?: boolean;
}

const OIDS = {
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  scrypt: "1.3.6.1.4.1.11591.4.11",
  pkcs12With3Des: "1.2.840.113549.1.12.1.3",
  sha1: "1.2.840.113549.2.7",
  sha224: "1.2.840.113549.2.8",
  sha256: "1.2.840.113549.2.9",
  sha384: "1.2.840.113549.2.10",
  sha512: "1.2.840.113549.2.11",
  "aes-128-cbc": "2.16.840.1.101.3.4.1.2",
  "aes-192-cbc": "2.16.840.1.101.3.4.1.22",
  "aes-256-cbc": "2.16.840.1.101.3.4.1.42",
  "des-ede3-cbc": "1.2.840.113549.3.7",
} as const;
const KEY_BYTES = { "aes-128-cbc": 16, "aes-192-cbc": 24, "aes-256-cbc": 32, "des-ede3-cbc": 24 };

/**
 * `key` as an `ENCRYPTED PRIVATE KEY` PEM (PKCS#8 EncryptedPrivateKeyInfo) with the key
 * derivation asked for: what OpenSSL writes for `openssl pkcs8 -topk8 -v2 … -iter N` (or `-scrypt`,
 * or `-v1 PBE-SHA1-3DES`), with any cost, as an attacker or a careless tool would write it.
 */
export function encryptTestKey(
  key: KeyObject,
  passphrase: string,
  encryption: TestKeyEncryption,
  options: EncryptTestKeyOptions = {},
): string {
  const plain = key.export({ type: "pkcs8", format: "der" });
  const salt = randomBytes(16);
  let algorithm: Buffer;
  let ciphertext: Buffer;
  if (encryption.kdf === "pkcs12") {
    algorithm = seq(oid(OIDS.pkcs12With3Des), seq(octets(salt), int(encryption.iterations)));
    ciphertext = randomBytes(plain.length + 8);
  } else {
    const cipher = options.cipher ?? "aes-256-cbc";
    const iv = randomBytes(cipher === "des-ede3-cbc" ? 8 : 16);
    const kdf =
      encryption.kdf === "pbkdf2"
        ? seq(
            oid(OIDS.pbkdf2),
            seq(octets(salt), int(encryption.iterations), seq(oid(OIDS[encryption.hmac ?? "sha256"]), NULL)),
          )
        : seq(oid(OIDS.scrypt), seq(octets(salt), int(encryption.n), int(encryption.r), int(encryption.p)));
    algorithm = seq(oid(OIDS.pbes2), seq(kdf, seq(oid(OIDS[cipher]), octets(iv))));
    if (options.fakeCiphertext) ciphertext = randomBytes(plain.length + 16);
    else {
      const derived =
        encryption.kdf === "pbkdf2"
          ? pbkdf2Sync(
              passphrase,
              salt,
              encryption.iterations,
              KEY_BYTES[cipher],
              encryption.hmac ?? "sha256",
            )
          : scryptSync(passphrase, salt, KEY_BYTES[cipher], {
              N: encryption.n,
              r: encryption.r,
              p: encryption.p,
              maxmem: 256 << 20,
            });
      const c = createCipheriv(cipher, derived, iv);
      ciphertext = Buffer.concat([c.update(plain), c.final()]);
    }
  }
  const der = seq(algorithm, octets(ciphertext));
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${lines.join("\n")}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
}

function tlv(tag: number, contents: Buffer): Buffer {
  const n = contents.length;
  const long = bytesOf(n);
  const length = n < 0x80 ? Buffer.from([n]) : Buffer.from([0x80 | long.length, ...long]);
  return Buffer.concat([Buffer.from([tag]), length, contents]);
}

function bytesOf(n: number): number[] {
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return out.length === 0 ? [0] : out;
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const octets = (bytes: Buffer) => tlv(0x04, bytes);
const NULL = Buffer.from([0x05, 0x00]);

function int(n: number): Buffer {
  const bytes = bytesOf(n);
  return tlv(0x02, Buffer.from((bytes[0] ?? 0) & 0x80 ? [0, ...bytes] : bytes));
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const body: number[] = [40 * a + b];
  for (const arc of rest) {
    const septets: number[] = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      septets.unshift((v % 128) | (septets.length > 0 ? 0x80 : 0));
      if (v < 128) break;
    }
    body.push(...septets);
  }
  return tlv(0x06, Buffer.from(body));
}
