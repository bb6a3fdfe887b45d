import { createDecipheriv, createPrivateKey, type KeyObject, pbkdf2, scrypt } from "node:crypto";
import { DerError, readDer, readOctets, readOid, readUnsigned, sequenceItems } from "./der.js";

/**
 * The most iterations of a key's PBKDF2 (or PKCS#12 / PBES1 key derivation) that are run: above
 * the 600,000 OWASP asks of PBKDF2-HMAC-SHA256 today (and step-cli writes) and far above the
 * 2,048 of OpenSSL and Node. At the cap, deriving took 0.8 to 1.6 s with HMAC-SHA256 and 2.1 to
 * 3.3 s with SHA-1 or SHA-512 on the shared 2-core build machine at load 10 to 12 (OpenSSL's own
 * createPrivateKey: about twice that, blocking the event loop). A key asking for more is refused
 * up front.
 */
export const MAX_KEY_ITERATIONS = 1_000_000;
/** The most scrypt work (N × r × p) that is run: 8 times OpenSSL's default (N 16384, r 8, p 1). */
export const MAX_SCRYPT_COST = 2 ** 20;
/**
 * The caps where only OpenSSL decrypts (PKCS#12 and PBES1 schemes, a PBES2 cipher or hash this
 * file does not know): createPrivateKey blocks the event loop, about 0.2 s at 100,000 PKCS#12
 * iterations on an idle 2-core machine, 10 to 50 times what keytool (10,000) and OpenSSL (2,048)
 * write.
 */
export const MAX_BLOCKING_KEY_ITERATIONS = 100_000;
/** scrypt work where only OpenSSL decrypts: OpenSSL's default (about 0.15 s here). */
export const MAX_BLOCKING_SCRYPT_COST = 2 ** 17;
/** The most memory scrypt may use: OpenSSL's limit (32 MiB), which it applies to keys it decrypts. */
export const MAX_SCRYPT_MEMORY = 32 << 20;

/** A CBC cipher of PBES2: Node's name, key and IV sizes. */
interface CbcCipher {
  name: string;
  keyBytes: number;
  ivBytes: number;
}

/** How an `ENCRYPTED PRIVATE KEY` (PKCS#8 EncryptedPrivateKeyInfo) was encrypted. */
export type KeyEncryption =
  | (Pbes2 & { kdf: "pbkdf2"; iterations: bigint; digest: string | undefined })
  | (Pbes2 & { kdf: "scrypt"; n: bigint; r: bigint; p: bigint })
  /** PKCS#12-style and PBES1 schemes: only OpenSSL decrypts them (synchronously). */
  | { kdf: "PKCS#12" | "PBES1"; iterations: bigint };

/** What PBES2 keys share: the salt, the key length asked for, the cipher (if one we decrypt) and its IV. */
interface Pbes2 {
  salt: Uint8Array;
  keyLength: bigint | undefined;
  cipher: CbcCipher | undefined;
  iv: Uint8Array;
  ciphertext: Uint8Array;
}

const PBES2 = "1.2.840.113549.1.5.13";
const PBKDF2 = "1.2.840.113549.1.5.12";
const SCRYPT = "1.3.6.1.4.1.11591.4.11";
/** PBES1 (PKCS#5 v1.5): MD2/MD5/SHA-1 with DES/RC2. */
const PBES1 = /^1\.2\.840\.113549\.1\.5\.(1|3|4|6|10|11)$/;
/** PKCS#12 password-based encryption: SHA-1 with RC4, 3DES or RC2. */
const PKCS12_PBE = /^1\.2\.840\.113549\.1\.12\.1\.[1-6]$/;
const HMAC_DIGESTS: Record<string, string> = {
  "1.2.840.113549.2.7": "sha1",
  "1.2.840.113549.2.8": "sha224",
  "1.2.840.113549.2.9": "sha256",
  "1.2.840.113549.2.10": "sha384",
  "1.2.840.113549.2.11": "sha512",
  "1.2.840.113549.2.12": "sha512-224",
  "1.2.840.113549.2.13": "sha512-256",
};
const CIPHERS: Record<string, CbcCipher> = {
  "2.16.840.1.101.3.4.1.2": { name: "aes-128-cbc", keyBytes: 16, ivBytes: 16 },
  "2.16.840.1.101.3.4.1.22": { name: "aes-192-cbc", keyBytes: 24, ivBytes: 16 },
  "2.16.840.1.101.3.4.1.42": { name: "aes-256-cbc", keyBytes: 32, ivBytes: 16 },
  "1.2.840.113549.3.7": { name: "des-ede3-cbc", keyBytes: 24, ivBytes: 8 },
};

/**
 * How the EncryptedPrivateKeyInfo `der` was encrypted, read without decrypting anything; or why
 * it cannot be used (a scheme nobody here can decrypt, or not DER), in words that never quote it.
 */
export function parseKeyEncryption(der: Uint8Array): { value: KeyEncryption } | { error: string } {
  try {
    const [algorithm, encrypted] = sequenceItems(readDer(der));
    const [oid, params] = sequenceItems(algorithm);
    const scheme = readOid(oid);
    if (scheme === PBES2) return { value: readPbes2(params, readOctets(encrypted)) };
    const kdf = PKCS12_PBE.test(scheme) ? "PKCS#12" : PBES1.test(scheme) ? "PBES1" : undefined;
    if (kdf === undefined) return { error: `its encryption scheme ${scheme} is not supported` };
    const [, iterations] = sequenceItems(params);
    return { value: { kdf, iterations: readUnsigned(iterations) } };
  } catch (err) {
    if (err instanceof DerError)
      return { error: `its encryption parameters are not valid DER (${err.message})` };
    throw err;
  }
}

function readPbes2(params: Parameters<typeof sequenceItems>[0], ciphertext: Uint8Array): KeyEncryption {
  const [kdfAlgorithm, encryptionScheme] = sequenceItems(params);
  const [kdfOid, kdfParams] = sequenceItems(kdfAlgorithm);
  const [cipherOid, iv] = sequenceItems(encryptionScheme);
  const cipherName = readOid(cipherOid);
  const cipher = CIPHERS[cipherName];
  const common = { cipher, iv: cipher ? readOctets(iv) : new Uint8Array(), ciphertext };
  const kdf = readOid(kdfOid);
  if (kdf === PBKDF2) {
    // The salt may be a CHOICE of an AlgorithmIdentifier, which nobody uses: readOctets refuses it.
    const [salt, iterations, ...rest] = sequenceItems(kdfParams);
    const keyLength = rest[0]?.tag === 0x02 ? readUnsigned(rest.shift()) : undefined;
    const prf = rest[0] === undefined ? "1.2.840.113549.2.7" : readOid(sequenceItems(rest[0])[0]);
    return {
      ...common,
      kdf: "pbkdf2",
      salt: readOctets(salt),
      iterations: readUnsigned(iterations),
      keyLength,
      digest: HMAC_DIGESTS[prf],
    };
  }
  if (kdf === SCRYPT) {
    const [salt, n, r, p, keyLength] = sequenceItems(kdfParams);
    return {
      ...common,
      kdf: "scrypt",
      salt: readOctets(salt),
      n: readUnsigned(n),
      r: readUnsigned(r),
      p: readUnsigned(p),
      keyLength: keyLength === undefined ? undefined : readUnsigned(keyLength),
    };
  }
  throw new DerError(`key derivation ${kdf} is not supported`);
}

/** The encryption in words for messages: "PBKDF2-HMAC-SHA256, 2048 iterations". */
export function describeKeyEncryption(e: KeyEncryption): string {
  if (e.kdf === "scrypt") return `scrypt N=${e.n} r=${e.r} p=${e.p}`;
  if (e.kdf === "pbkdf2")
    return `PBKDF2-HMAC-${(e.digest ?? "unknown").toUpperCase()}, ${e.iterations} iterations`;
  return `${e.kdf}, ${e.iterations} iterations`;
}

/** True when `e` is derived on the thread pool here; else only OpenSSL decrypts it, blocking. */
function derivedOffThread(e: KeyEncryption): e is Extract<KeyEncryption, Pbes2> & { cipher: CbcCipher } {
  if (e.kdf === "pbkdf2") return e.cipher !== undefined && e.digest !== undefined;
  return e.kdf === "scrypt" && e.cipher !== undefined;
}

/**
 * Why decrypting with `e` would cost more than a run may spend (see the caps above), or undefined.
 * Checked before any work is done, so a planted or careless key cannot stall a run.
 */
export function keyEncryptionCostProblem(e: KeyEncryption): string | undefined {
  const blocking = !derivedOffThread(e);
  const allowed = blocking ? "allowed where only OpenSSL decrypts (blocking)" : "allowed";
  if (e.kdf === "scrypt") {
    const memory = 128n * e.r * (e.n + 2n) + 128n * e.r * e.p;
    if (e.n < 2n || (e.n & (e.n - 1n)) !== 0n || e.r === 0n || e.p === 0n) {
      return `its scrypt parameters are not valid (${describeKeyEncryption(e)})`;
    }
    if (memory > BigInt(MAX_SCRYPT_MEMORY)) {
      return `its scrypt parameters (${describeKeyEncryption(e)}) need more than the ${MAX_SCRYPT_MEMORY} bytes of memory allowed`;
    }
    const maxCost = blocking ? MAX_BLOCKING_SCRYPT_COST : MAX_SCRYPT_COST;
    if (e.n * e.r * e.p > BigInt(maxCost)) {
      return `its scrypt parameters (${describeKeyEncryption(e)}) ask for more work (N×r×p) than the ${maxCost} ${allowed}`;
    }
    return undefined;
  }
  if (e.iterations === 0n) return "its iteration count is 0";
  const maxIterations = blocking ? MAX_BLOCKING_KEY_ITERATIONS : MAX_KEY_ITERATIONS;
  if (e.iterations > BigInt(maxIterations)) {
    return `its encryption (${describeKeyEncryption(e)}) asks for more than the ${maxIterations} iterations ${allowed}; re-encrypt it with fewer (openssl pkcs8 -topk8 -v2 aes-256-cbc uses 2048)`;
  }
  return undefined;
}

/**
 * Decrypts an encrypted PKCS#8 key whose cost was checked. PBES2 keys with the usual ciphers are
 * derived and decrypted here, the key derivation on libuv's thread pool, so the event loop is
 * never blocked; other schemes are left to OpenSSL (createPrivateKey, synchronous). Rejects
 * with `AbortSignal.reason` once `signal` aborts (the derivation itself runs on to its end).
 */
export async function decryptPrivateKey(
  e: KeyEncryption,
  pem: string,
  passphrase: string,
  signal?: AbortSignal,
): Promise<KeyObject> {
  signal?.throwIfAborted();
  // PKCS#12, PBES1, or a cipher or hash OpenSSL may know and this file does not.
  if (!derivedOffThread(e)) return createPrivateKey({ key: pem, passphrase });
  const { cipher } = e;
  if (e.keyLength !== undefined && e.keyLength !== BigInt(cipher.keyBytes)) {
    throw new Error(`its key length ${e.keyLength} does not fit ${cipher.name}`);
  }
  if (e.iv.length !== cipher.ivBytes) throw new Error(`its ${cipher.name} IV is not ${cipher.ivBytes} bytes`);
  const key = await untilAborted(deriveKey(e, passphrase, cipher.keyBytes), signal);
  let der: Buffer;
  try {
    const decipher = createDecipheriv(cipher.name, key, e.iv);
    der = Buffer.concat([decipher.update(e.ciphertext), decipher.final()]);
  } catch {
    throw new Error("bad decrypt");
  }
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

function deriveKey(e: KeyEncryption, passphrase: string, keyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, key: Buffer) => (err ? reject(err) : resolve(key));
    if (e.kdf === "scrypt") {
      const options = { N: Number(e.n), r: Number(e.r), p: Number(e.p), maxmem: MAX_SCRYPT_MEMORY };
      scrypt(passphrase, e.salt, keyBytes, options, done);
    } else if (e.kdf === "pbkdf2") {
      pbkdf2(passphrase, e.salt, Number(e.iterations), keyBytes, e.digest ?? "sha1", done);
    }
  });
}

/** `work`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
