import { join } from "node:path";
import { openRegularFileSync } from "../open-regular-file-sync.js";
import { decodePemBlocks } from "../pem.js";

/**
 * node:fs, taken when first needed: a static ES import of it loads its stream classes, which the
 * package root (and so every importer) would pay for at start-up (BENCHMARKS.md).
 */
const fs = () => process.getBuiltinModule("node:fs");

/** The largest certificate file read (a distribution's whole bundle is about 200 KiB). */
export const MAX_CERT_FILE_BYTES = 4 << 20;
/** The most bytes read from certificate directories in all (/etc/ssl/certs holds about 450 KiB). */
export const MAX_CERT_DIR_BYTES = 16 << 20;
/** The most entries looked at in one certificate directory (/etc/ssl/certs holds a few hundred). */
export const MAX_CERT_DIR_ENTRIES = 10_000;

/**
 * The synchronous twin of `readCapped` (read-token-file.ts), with its errors: reads a regular file whole,
 * refusing anything else (a directory, a FIFO, a device: unopened) and files over `maxBytes`, and
 * following only symlinks of this user or root. Synchronous because trust roots are read when a
 * client is made, and createTokenMinterClient is.
 */
export function readRegularFileSync(path: string, maxBytes = MAX_CERT_FILE_BYTES): Buffer {
  const { handle: fd, stats: info } = openRegularFileSync(path);
  try {
    // Sized from fstat, but read to EOF: the file may grow meanwhile (one byte more tells).
    let buffer = Buffer.allocUnsafe(Math.min(info.size, maxBytes) + 1);
    let total = 0;
    for (;;) {
      const n = fs().readSync(fd, buffer, total, buffer.length - total, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new Error(`file is larger than ${maxBytes} bytes`);
      if (total === buffer.length) {
        const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(grown, 0, 0, total);
        buffer = grown;
      }
    }
    return buffer.subarray(0, total);
  } finally {
    fs().closeSync(fd);
  }
}

/**
 * The files of a certificate directory that Go's crypto/x509 reads: every entry except symlinks
 * to a name in the same directory (OpenSSL's hashed `abcd1234.0` links, which would only repeat
 * a file already read). At most `maxEntries` entries are looked at.
 */
export function certDirectoryFiles(dir: string, maxEntries = MAX_CERT_DIR_ENTRIES): string[] {
  const files: string[] = [];
  const handle = fs().opendirSync(dir);
  try {
    for (let seen = 0; seen < maxEntries; seen++) {
      const entry = handle.readSync();
      if (entry === null) break;
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink() && !readLinkOrEmpty(path).includes("/")) continue;
      files.push(path);
    }
  } finally {
    handle.closeSync();
  }
  return files;
}

function readLinkOrEmpty(path: string): string {
  try {
    return fs().readlinkSync(path);
  } catch {
    return "/"; // unreadable link: keep it, the read will say what is wrong
  }
}

/**
 * The certificates Go's CertPool.AppendCertsFromPEM takes from a file: `CERTIFICATE` blocks
 * without PEM headers, as `{ key, pem }` where `key` (the DER in base64) spots duplicates. Other
 * blocks (`TRUSTED CERTIFICATE`, keys) and text around them are skipped, as Go skips them.
 */
export function pemCertificates(bytes: Uint8Array): Array<{ key: string; pem: string }> {
  if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf("-----BEGIN ") === -1) return [];
  return decodePemBlocks(bytes)
    .filter((b) => b.type === "CERTIFICATE" && !b.text.includes(":") && b.der.length > 0)
    .map((b) => ({ key: Buffer.from(b.der).toString("base64"), pem: b.text }));
}
