import { openRegularFileSync } from "../safe-files/open-regular-file-sync.js";

/**
 * node:fs, taken when first needed (a static ES import of it loads its stream classes, which the
 * package root, and so every importer, would pay for at start-up; BENCHMARKS.md), then kept:
 * process.getBuiltinModule takes ~8 µs a call.
 */
let fsModule: typeof import("node:fs") | undefined;
const fs = () => {
  fsModule ??= process.getBuiltinModule("node:fs");
  return fsModule;
};

/**
 * The largest certificate file read: far above any real store (a distribution's bundle is about
 * 200 KiB, 10,000 roots about 5 MiB), to keep a misnamed file (a log, a disk image) out of memory.
 */
export const MAX_CERT_FILE_BYTES = 128 << 20;
/** The most bytes read from trust files in all, bundles and directories together. */
export const MAX_TRUST_BYTES = 256 << 20;
/** The most entries looked at in one certificate directory (/etc/ssl/certs holds a few hundred). */
export const MAX_CERT_DIR_ENTRIES = 1_000_000;

/** What {@link readRegularFileSync} throws for a file over its limit. */
export class FileTooLargeError extends Error {
  override name = "FileTooLargeError";
  constructor(readonly limit: number) {
    super(`file is larger than ${limit} bytes`);
  }
}

/**
 * The synchronous twin of `readCapped` (read-token-file.ts), with its errors: reads a regular file whole,
 * refusing anything else (a directory, a FIFO, a device: unopened) and files over `maxBytes`
 * ({@link FileTooLargeError}), and following only symlinks of this user or root. Synchronous: the
 * trust roots are read a file at a time, and their loader gives way to the event loop in between.
 */
export function readRegularFileSync(path: string, maxBytes = MAX_CERT_FILE_BYTES): Buffer {
  const { handle: fd, stats: info } = openRegularFileSync(path);
  try {
    // Sized from fstat, but read to EOF: the file may grow meanwhile (one byte more tells). A
    // short read of a regular file is its end, which saves a read a file.
    let buffer = Buffer.allocUnsafe(Math.min(info.size, maxBytes) + 1);
    let total = 0;
    for (;;) {
      const wanted = buffer.length - total;
      const n = fs().readSync(fd, buffer, total, wanted, null);
      total += n;
      if (n === 0 || n < wanted) break;
      if (total > maxBytes) throw new FileTooLargeError(maxBytes);
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

/** What {@link certDirectoryFiles} yields when the directory holds more than it looks at. */
export const TOO_MANY_ENTRIES = Symbol("too many entries");

/**
 * The files of a certificate directory that Go's crypto/x509 reads, one at a time as the
 * directory is listed: every entry except symlinks to a name in the same directory (OpenSSL's
 * hashed `abcd1234.0` links, which would only repeat a file already read). After `maxEntries`
 * entries it yields {@link TOO_MANY_ENTRIES} and stops. The directory is closed when the
 * iteration ends, however it ends.
 */
export function* certDirectoryFiles(
  dir: string,
  maxEntries = MAX_CERT_DIR_ENTRIES,
): Generator<string | typeof TOO_MANY_ENTRIES, void, undefined> {
  const handle = fs().opendirSync(dir);
  try {
    for (let seen = 0; ; seen++) {
      const entry = handle.readSync();
      if (entry === null) return;
      if (seen === maxEntries) {
        yield TOO_MANY_ENTRIES;
        return;
      }
      const path = `${dir}${dir.endsWith("/") ? "" : "/"}${entry.name}`; // path.join costs ~10 µs
      if (entry.isSymbolicLink() && !readLinkOrEmpty(path).includes("/")) continue;
      yield path;
    }
  } finally {
    handle.closeSync();
  }
}

function readLinkOrEmpty(path: string): string {
  try {
    return fs().readlinkSync(path);
  } catch {
    return "/"; // unreadable link: keep it, the read will say what is wrong
  }
}
