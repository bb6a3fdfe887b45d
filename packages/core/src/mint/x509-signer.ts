import { createPrivateKey, createPublicKey, type KeyObject, sign, X509Certificate } from "node:crypto";
import { errorMessage, fsErrorReason } from "../common/fs-errors.js";
import { oneLine } from "../common/one-line.js";
import type { SignatureAlgorithm } from "../gen/tokenserver/minter/token_minter_pb.js";
import { filePathProblem } from "../safe-files/file-path-problem.js";
import { readCapped } from "../token-file/read-token-file.js";
import {
  decryptPrivateKey,
  describeKeyEncryption,
  keyEncryptionCostProblem,
  parseKeyEncryption,
} from "./encrypted-private-key.js";
import { decodePemBlocks, type PemBlock } from "./pem.js";

/** What mintToken needs from a machine identity: the certificate and a way to sign with its key. */
export interface Signer {
  /** The signature algorithm (always SHA256_RSA_ALGO: the token server accepts nothing else). */
  readonly algorithm: SignatureAlgorithm;
  /** DER of the leaf certificate sent to the token server. */
  readonly certificateDer: Uint8Array;
  /** Signs bytes with RSASSA-PKCS1-v1_5 over SHA-256. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** A Signer loaded from PEM files, keeping the raw file bytes for the inputs digest. */
export interface X509Signer extends Signer {
  /** Raw bytes of the private key file. */
  readonly keyPem: Uint8Array;
  /** Raw bytes of the certificate file. */
  readonly certPem: Uint8Array;
  /** The parsed leaf certificate. */
  readonly certificate: X509Certificate;
}

/** Options of {@link createX509Signer}. */
export interface X509SignerOptions {
  /** PEM file with the RSA private key: PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8, maybe encrypted. */
  keyPath: string;
  /** PEM file whose first CERTIFICATE block is the machine's certificate (a chain may follow). */
  certPath: string;
  /** Passphrase of an encrypted key. */
  passphrase?: string;
  /** Reads a file; default node:fs (regular files only, PEM files over 1 MiB are refused). */
  readFile?: (path: string) => Promise<Uint8Array>;
  /**
   * Ends the wait for an encrypted key's decryption (a run's deadline): the load then fails with a
   * KeyLoadError saying so. Default: none (the decryption's cost is capped anyway).
   */
  signal?: AbortSignal;
}

/** A key or certificate that cannot be used; the message is one line naming the file. */
export class KeyLoadError extends Error {
  override name = "KeyLoadError";
  constructor(
    readonly path: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${problem}`, options);
  }
}

/**
 * Where a PEM input of {@link loadX509Signer} comes from: a file, or bytes already in memory
 * (`name` stands for them in messages, as a path would).
 */
export type PemInput = { path: string } | { name: string; pem: Uint8Array };

const MAX_PEM_BYTES = 1 << 20;

/**
 * SignatureAlgorithm.SHA256_RSA_ALGO. Spelled out so loading a key needs no protobuf runtime
 * (x509-signer.test.ts checks it against the generated enum).
 */
export const SHA256_RSA_ALGO = 1 as SignatureAlgorithm.SHA256_RSA_ALGO;
const KEY_TYPES = new Set(["RSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]);

/**
 * Loads the machine's private key and certificate and checks that they belong together. Accepts
 * more than Go tokend (PKCS#8 and encrypted keys, a chain after the leaf) but only RSA keys.
 * Throws a {@link KeyLoadError} (outcome CANT_READ_KEY) with a one-line reason; no reason quotes
 * the key (PEM text given as a path is refused, unshown).
 */
export function createX509Signer(options: X509SignerOptions): Promise<X509Signer> {
  return loadX509Signer({
    ...options,
    key: { path: options.keyPath },
    cert: { path: options.certPath },
  });
}

/**
 * {@link createX509Signer} for inputs that may be in memory (the token refresher's `key` and
 * `cert`). Internal: the public API is createX509Signer.
 */
export async function loadX509Signer(
  options: Pick<X509SignerOptions, "passphrase" | "readFile" | "signal"> & { key: PemInput; cert: PemInput },
): Promise<X509Signer> {
  const read = options.readFile ?? ((p: string) => readCapped(p, MAX_PEM_BYTES));
  const readOrFail = async (input: PemInput, option: string) => {
    if (!("path" in input)) return input.pem;
    const problem = filePathProblem(input.path);
    if (problem !== undefined) throw new KeyLoadError(option, problem);
    try {
      return await read(input.path);
    } catch (err) {
      throw new KeyLoadError(input.path, oneLine(fsErrorReason(err)), { cause: err });
    }
  };
  const keyName = nameOf(options.key);
  const certName = nameOf(options.cert);
  // Both read at once (each read is a few thread-pool round trips); the key's problem is reported
  // first, like Go, when both files are bad.
  const [keyRead, certRead] = await Promise.allSettled([
    readOrFail(options.key, "keyPath"),
    readOrFail(options.cert, "certPath"),
  ]);
  if (keyRead.status === "rejected") throw keyRead.reason;
  if (certRead.status === "rejected") throw certRead.reason;
  const keyPem = keyRead.value;
  const certPem = certRead.value;
  if (holdsOnly(keyPem, "CERTIFICATE") && holdsKey(certPem)) {
    throw new KeyLoadError(
      keyName,
      `not a valid private key PEM - this file holds a certificate, and ${certName}, given as the certificate, holds the private key: the two are swapped`,
    );
  }
  const key = await loadPrivateKey(keyName, keyPem, options.passphrase, options.signal);
  const certificate = loadCertificate(certName, certPem);
  if (!certificateMatches(certificate, key)) {
    const mismatch = certificate.publicKey.asymmetricKeyType !== "rsa" ? "- wrong types" : keyName;
    throw new KeyLoadError(
      certName,
      `the certificate doesn't match the private key ${mismatch}${leafOrderHint(certPem, key, certificate)}`,
    );
  }
  return {
    algorithm: SHA256_RSA_ALGO,
    certificateDer: new Uint8Array(certificate.raw),
    certificate,
    keyPem,
    certPem,
    sign: async (data) => new Uint8Array(sign("sha256", data, key)),
  };
}

function nameOf(input: PemInput): string {
  return "path" in input ? input.path : input.name;
}

async function loadPrivateKey(
  path: string,
  bytes: Uint8Array,
  passphrase: string | undefined,
  signal: AbortSignal | undefined,
): Promise<KeyObject> {
  if (bytes.length === 0) throw new KeyLoadError(path, "file is empty, expecting a PEM private key");
  const blocks = decodePemBlocks(bytes);
  const block = blocks.find((b) => b.type.endsWith("PRIVATE KEY"));
  if (block === undefined) {
    const held = blocks[0] ? ` - it holds ${JSON.stringify(blocks[0].type)}, not a private key` : "";
    throw new KeyLoadError(path, `not a valid private key PEM${held}`);
  }
  if (!KEY_TYPES.has(block.type)) {
    throw new KeyLoadError(
      path,
      `not a supported private key type - ${JSON.stringify(block.type)} (only RSA keys work)`,
    );
  }
  const encrypted = block.type === "ENCRYPTED PRIVATE KEY" || block.text.includes("Proc-Type: 4,ENCRYPTED");
  if (encrypted && passphrase === undefined) {
    throw new KeyLoadError(
      path,
      "the private key is encrypted and no passphrase was given (-pkey-passphrase-file FILE gives it)",
    );
  }
  let key: KeyObject;
  try {
    key =
      encrypted && block.type === "ENCRYPTED PRIVATE KEY"
        ? await decryptPkcs8(path, block, passphrase ?? "", signal)
        : createPrivateKey(encrypted ? { key: block.text, passphrase } : { key: block.text });
  } catch (err) {
    if (err instanceof KeyLoadError) throw err;
    const what = encrypted
      ? "cannot decrypt the private key (wrong passphrase?)"
      : "cannot parse the private key";
    throw new KeyLoadError(path, `${what} - ${oneLine(errorMessage(err))}`, { cause: err });
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new KeyLoadError(
      path,
      `the private key is ${key.asymmetricKeyType?.toUpperCase()}, but only RSA keys work`,
    );
  }
  return key;
}

/** True when every PEM block of the file (at least one) is of `type`. */
function holdsOnly(bytes: Uint8Array, type: string): boolean {
  const blocks = decodePemBlocks(bytes);
  return blocks.length > 0 && blocks.every((b) => b.type === type);
}

function holdsKey(bytes: Uint8Array): boolean {
  return decodePemBlocks(bytes).some((b) => b.type.endsWith("PRIVATE KEY"));
}

/**
 * An encrypted PKCS#8 key, decrypted only when its key derivation costs no more than a run may
 * spend (encrypted-private-key.ts), and only while `signal` has not aborted.
 */
async function decryptPkcs8(
  path: string,
  block: PemBlock,
  passphrase: string,
  signal: AbortSignal | undefined,
): Promise<KeyObject> {
  const parsed = parseKeyEncryption(block.der);
  if ("error" in parsed) throw new KeyLoadError(path, `cannot decrypt the private key - ${parsed.error}`);
  const problem = keyEncryptionCostProblem(parsed.value);
  if (problem !== undefined) throw new KeyLoadError(path, `not decrypting the private key: ${problem}`);
  try {
    return await decryptPrivateKey(parsed.value, block.text, passphrase, signal);
  } catch (err) {
    if (signal?.aborted && err === signal.reason) {
      const how =
        (err as Error | undefined)?.name === "TimeoutError"
          ? "did not finish before the deadline"
          : "was cancelled";
      throw new KeyLoadError(
        path,
        `decrypting the private key (${describeKeyEncryption(parsed.value)}) ${how}`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}

/** Whether the certificate holds the public half of the RSA key. */
function certificateMatches(certificate: X509Certificate, key: KeyObject): boolean {
  if (certificate.publicKey.asymmetricKeyType !== "rsa") return false;
  const spki = (k: KeyObject) => k.export({ type: "spki", format: "der" });
  return spki(certificate.publicKey).equals(spki(createPublicKey(key)));
}

/**
 * Why the first certificate of the file is not the key's, when the file says: a later block is
 * the key's certificate (a chain written root first), or the first block is a CA certificate.
 */
function leafOrderHint(certPem: Uint8Array, key: KeyObject, first: X509Certificate): string {
  const blocks = decodePemBlocks(certPem).filter((b) => b.type === "CERTIFICATE");
  for (const [i, block] of blocks.entries()) {
    if (i === 0) continue;
    const later = parseCertificate(block.der);
    if (later && certificateMatches(later, key)) {
      return ` - block ${i + 1} of the file (${subjectOf(later)}) does: the machine's certificate must be the first block`;
    }
  }
  return first.ca ? ` - the first block is a CA certificate (${subjectOf(first)}), not the machine's` : "";
}

function parseCertificate(der: Uint8Array): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

/** The subject as one quoted, escaped line (it comes from the file). */
function subjectOf(certificate: X509Certificate): string {
  return JSON.stringify(certificate.subject.replace(/\n/g, ", "));
}

function loadCertificate(path: string, bytes: Uint8Array): X509Certificate {
  if (bytes.length === 0) throw new KeyLoadError(path, "file is empty, expecting a PEM certificate");
  const [first] = decodePemBlocks(bytes);
  if (first === undefined) throw new KeyLoadError(path, "not a valid certificate PEM");
  if (first.type !== "CERTIFICATE") {
    throw new KeyLoadError(path, `expecting "CERTIFICATE" PEM, got ${JSON.stringify(first.type)}`);
  }
  try {
    return new X509Certificate(first.der);
  } catch (err) {
    throw new KeyLoadError(path, `cannot parse the certificate - ${oneLine(errorMessage(err))}`, {
      cause: err,
    });
  }
}
