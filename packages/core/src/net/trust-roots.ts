import { systemMonotonic } from "../common/clock.js";
import { errnoCode, errorMessage, fsErrorReason } from "../common/fs-errors.js";
import { type Logger, silentLogger } from "../common/logger.js";
import { escapeForLog, oneLine } from "../common/one-line.js";
import { hasPemCertificate, pemCertificates } from "./pem-certificates.js";
import {
  certDirectoryFiles,
  FileTooLargeError,
  MAX_CERT_DIR_ENTRIES,
  MAX_CERT_FILE_BYTES,
  MAX_TRUST_BYTES,
  readRegularFileSync,
  TOO_MANY_ENTRIES,
} from "./read-cert-files.js";

/** Where the operating system keeps its trust roots: bundle files (the first found is read) and directories. */
export interface SystemRootLocations {
  files: readonly string[];
  dirs: readonly string[];
}

/** Go's crypto/x509 lists for Linux (root_linux.go): the first bundle file found, and these directories. */
export const LINUX_ROOT_LOCATIONS: SystemRootLocations = {
  files: [
    "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt", // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem", // OpenSUSE
    "/etc/pki/tls/cacert.pem", // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
    "/etc/ssl/cert.pem", // Alpine
  ],
  dirs: ["/etc/ssl/certs", "/etc/pki/tls/certs"],
};

/** Options of {@link loadTrustRoots}. */
export interface TrustRootOptions {
  /** `-ca-bundle FILE`: PEM certificates trusted besides the system's. Unreadable or empty: an error. */
  caBundle?: string;
  /** PEM certificates trusted besides the system's. */
  extraCaPems?: readonly string[];
  /** Read for SSL_CERT_FILE, SSL_CERT_DIR and NODE_EXTRA_CA_CERTS. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where the system's roots are when SSL_CERT_FILE / SSL_CERT_DIR are unset. Default: Go's Linux lists on Linux, none elsewhere. */
  system?: SystemRootLocations;
  /** Hears the line that says where the roots came from and what was skipped (the text `trustRootsSummary` builds). */
  logger?: Logger;
  /** Lower limits than the defaults (128 MiB a file, 256 MiB in all, 1,000,000 entries a directory), for tests. */
  limits?: Partial<TrustRootLimits>;
}

/** How much of the trust files is read at most. */
export interface TrustRootLimits {
  fileBytes: number;
  totalBytes: number;
  dirEntries: number;
}

/** The certificates an HTTPS client trusts, and where they came from (for error messages). */
export interface TrustRoots {
  /** PEM certificates, each once, in the order found. */
  ca: string[];
  /** The DER bytes of each, in the same order. */
  der: Buffer[];
  /** What gave certificates: file and directory paths, `-ca-bundle FILE`, `NODE_EXTRA_CA_CERTS FILE`, or `Node's bundled roots`. */
  sources: string[];
  /**
   * What was left out, and why: `PATH (reason)`. The system's default locations that do not exist
   * are not named (most of Go's list is absent on any one system).
   */
  skipped: string[];
  /** Whether something was left out by one of our limits (Go has none): the summary is then a warning. */
  limited: boolean;
}

/**
 * The trust roots Go's HTTP client would use, plus ours. System roots as Go's crypto/x509 finds
 * them on Linux: SSL_CERT_FILE or else the first bundle of {@link LINUX_ROOT_LOCATIONS} that can
 * be read; the directories of SSL_CERT_DIR (colon-separated) or else the system's. One
 * difference, for start-up cost: without SSL_CERT_DIR the system directories are read only when
 * no bundle file gave a certificate (a distribution's bundle already holds theirs). Unreadable
 * locations are skipped, as Go skips them; when they yield nothing (no CA package, not Linux),
 * Node's bundled roots are used instead. Then `caBundle`, NODE_EXTRA_CA_CERTS (skipped when
 * unreadable, as Node does) and `extraCaPems` are added. Files are read only if regular, up to
 * 128 MiB each and 256 MiB in all. Each root is read and decoded once, in time linear in their
 * number (10,000 roots: tens of milliseconds); OpenSSL is handed none of them here (see TrustStore).
 *
 * @throws Error naming `-ca-bundle` when that file cannot be read or holds no certificate.
 */
export function loadTrustRoots(options: TrustRootOptions = {}): TrustRoots {
  const steps = trustRootSteps(options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** How long {@link loadTrustRootsAsync} works before it gives way to the event loop. */
const SLICE_MS = 5;

/**
 * {@link loadTrustRoots}, giving way to the event loop every few milliseconds (between files and
 * between certificates), so a store of any size leaves timers and signals running; it stops, its
 * files closed, when `signal` aborts (rejecting with the signal's reason).
 */
export async function loadTrustRootsAsync(
  options: TrustRootOptions & {
    signal?: AbortSignal;
    /** Told how many roots were found so far, each time the load gives way. */
    onProgress?: (roots: number) => void;
  } = {},
): Promise<TrustRoots> {
  const { signal } = options;
  signal?.throwIfAborted();
  const steps = trustRootSteps(options);
  try {
    for (let sliceStart = systemMonotonic(); ; ) {
      const step = steps.next();
      if (step.done) return step.value;
      if (systemMonotonic() - sliceStart >= SLICE_MS) {
        options.onProgress?.(step.value);
        await new Promise((resolve) => setImmediate(resolve));
        signal?.throwIfAborted();
        sliceStart = systemMonotonic();
      }
    }
  } finally {
    steps.return(undefined as never); // closes a directory being listed
  }
}

/**
 * The loader, as steps: it yields the count of roots found so far after each certificate and each
 * file (see the two drivers above).
 */
function* trustRootSteps(options: TrustRootOptions): Generator<number, TrustRoots, undefined> {
  const env = options.env ?? process.env;
  const system =
    options.system ?? (process.platform === "linux" ? LINUX_ROOT_LOCATIONS : { files: [], dirs: [] });
  const roots = createRootSet();
  const limits: TrustRootLimits = {
    fileBytes: MAX_CERT_FILE_BYTES,
    totalBytes: MAX_TRUST_BYTES,
    dirEntries: MAX_CERT_DIR_ENTRIES,
    ...options.limits,
  };
  const overTotal = `over the ${limits.totalBytes} bytes read from trust files in all`;
  let budget = limits.totalBytes;
  /** Reads a trust file within the byte budget; on failure, names it in `skipped` and returns undefined. */
  const read = (path: string, label = path, missingIsNews = true): Buffer | undefined => {
    if (budget <= 0) {
      roots.skip(label, overTotal, true);
      return undefined;
    }
    try {
      const bytes = readRegularFileSync(path, Math.min(limits.fileBytes, budget));
      budget -= bytes.length;
      return bytes;
    } catch (err) {
      if (err instanceof FileTooLargeError && err.limit < limits.fileBytes) {
        budget = 0;
        roots.skip(label, overTotal, true);
      } else if (missingIsNews || errnoCode(err) !== "ENOENT") {
        roots.skip(label, oneLine(fsErrorReason(err)), err instanceof FileTooLargeError);
      }
      return undefined;
    }
  };

  for (const file of env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : system.files) {
    const bytes = read(file, file, Boolean(env.SSL_CERT_FILE));
    if (bytes === undefined) continue;
    yield* roots.add(file, bytes);
    break; // Go stops at the first file it can read
  }
  // Go also reads its default directories when a bundle was found; a distribution's bundle holds
  // their certificates already, and scanning /etc/ssl/certs costs 65-180 ms (MIGRATING-FROM-GO.md).
  if (env.SSL_CERT_DIR || roots.ca.length === 0) {
    for (const dir of env.SSL_CERT_DIR ? env.SSL_CERT_DIR.split(":") : system.dirs) {
      if (dir === "") continue;
      yield* readDirectory(dir, Boolean(env.SSL_CERT_DIR));
    }
  }
  if (roots.ca.length === 0) {
    // node:tls loaded here only: importing it costs ~5 MiB of RSS (bench/import-cost.ts).
    const { rootCertificates } = process.getBuiltinModule("node:tls");
    yield* roots.add("Node's bundled roots", Buffer.from(rootCertificates.join("\n")));
  }

  if (options.caBundle) yield* roots.add(`-ca-bundle ${options.caBundle}`, readCaBundle(options.caBundle));
  const nodeExtra = env.NODE_EXTRA_CA_CERTS;
  if (nodeExtra) {
    const label = `NODE_EXTRA_CA_CERTS ${nodeExtra}`;
    const bytes = read(nodeExtra, label); // skipped when unreadable, as Node does
    if (bytes) yield* roots.add(label, bytes);
  }
  for (const pem of options.extraCaPems ?? []) yield* roots.add("extra roots", Buffer.from(pem));
  const loaded = roots.result();
  const logger = options.logger ?? silentLogger;
  logger.log(loaded.limited ? "warning" : "debug", trustRootsSummary(loaded));
  return loaded;

  /**
   * Every file of one directory (see certDirectoryFiles), a file per step; the directory is closed
   * however the steps end (the async loader's abort returns them midway).
   */
  function* readDirectory(dir: string, explicit: boolean): Generator<number, void, undefined> {
    const files = certDirectoryFiles(dir, limits.dirEntries);
    try {
      for (;;) {
        let next: IteratorResult<string | typeof TOO_MANY_ENTRIES>;
        try {
          next = files.next();
        } catch (err) {
          if (explicit || errnoCode(err) !== "ENOENT") roots.skip(dir, oneLine(fsErrorReason(err)), false);
          return;
        }
        if (next.done) return;
        if (next.value === TOO_MANY_ENTRIES) {
          roots.skip(dir, `read its first ${limits.dirEntries} entries only`, true);
          return;
        }
        // Go ignores unreadable entries (subdirectories, dangling links); they are named here.
        const bytes = read(next.value);
        if (bytes !== undefined) yield* roots.add(dir, bytes, next.value);
        yield roots.ca.length;
      }
    } finally {
      files.return(undefined);
    }
  }
}

/** Certificates in the order found, each once, the sources that gave any, and what was skipped. */
function createRootSet() {
  /** The DER of each root taken (as a latin1 string: exact, and as fast as a digest). */
  const seen = new Set<string>();
  const ca: string[] = [];
  const der: Buffer[] = [];
  const sources: string[] = [];
  const skipped: string[] = [];
  let limited = false;
  return {
    ca,
    /** Adds a file's certificates, a step per certificate; names the file when it holds none. */
    *add(source: string, bytes: Uint8Array, file = source): Generator<number, void, undefined> {
      let found = 0;
      for (const cert of pemCertificates(bytes)) {
        found++;
        const key = cert.der.toString("latin1");
        if (!seen.has(key)) {
          seen.add(key);
          ca.push(cert.pem);
          der.push(cert.der);
        }
        yield ca.length;
      }
      if (found === 0) skipped.push(`${escapeForLog(file, 512)} (no certificate)`);
      else if (!sources.includes(source)) sources.push(source);
    },
    skip(what: string, reason: string, byOurLimit: boolean): void {
      skipped.push(`${escapeForLog(what, 512)} (${reason})`);
      limited ||= byOurLimit;
    },
    result: (): TrustRoots => ({ ca, der, sources, skipped, limited }),
  };
}

/** How many skipped locations the summary names (the rest are counted). */
const NAMED_SKIPS = 10;

/**
 * The one line that says where the roots came from and what was left out:
 * `Trust roots: 145 from /etc/ssl/certs/ca-certificates.crt; skipped /etc/ssl/certs/java (not a regular file (it is a directory))`.
 */
export function trustRootsSummary(roots: TrustRoots): string {
  const from = roots.sources.map((s) => escapeForLog(s, 512)).join(", ");
  const named = roots.skipped.slice(0, NAMED_SKIPS).join("; ");
  const more = roots.skipped.length > NAMED_SKIPS ? ` and ${roots.skipped.length - NAMED_SKIPS} more` : "";
  return `Trust roots: ${roots.ca.length} from ${from || "nowhere"}${named ? `; skipped ${named}${more}` : ""}`;
}

/**
 * The bytes of a `-ca-bundle` file, which must be a readable regular file holding at least one
 * PEM certificate.
 *
 * @throws Error naming `-ca-bundle` and the file, with the reason.
 */
export function readCaBundle(path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path);
  } catch (err) {
    throw new Error(`-ca-bundle ${path}: ${oneLine(errorMessage(err))}`, { cause: err });
  }
  if (!hasPemCertificate(bytes)) throw new Error(`-ca-bundle ${path}: no PEM CERTIFICATE block in the file`);
  return bytes;
}
