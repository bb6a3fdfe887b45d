import { errnoCode, errorMessage } from "../fs-errors.js";
import { type Logger, silentLogger } from "../logger.js";
import { oneLine } from "../one-line.js";
import {
  certDirectoryFiles,
  MAX_CERT_DIR_BYTES,
  MAX_CERT_FILE_BYTES,
  pemCertificates,
  readRegularFileSync,
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
  /** Hears why a system location was skipped (debug). */
  logger?: Logger;
}

/** The certificates an HTTPS client trusts, and where they came from (for error messages). */
export interface TrustRoots {
  /** PEM certificates, without duplicates. */
  ca: string[];
  /** What was read: file and directory paths, `-ca-bundle FILE`, `NODE_EXTRA_CA_CERTS FILE`, or `Node's bundled roots`. */
  sources: string[];
}

/**
 * The trust roots Go's HTTP client would use, plus ours. System roots as Go's crypto/x509 finds
 * them on Linux: SSL_CERT_FILE or else the first bundle of {@link LINUX_ROOT_LOCATIONS} that can
 * be read; the directories of SSL_CERT_DIR (colon-separated) or else the system's. One
 * difference, for start-up cost: without SSL_CERT_DIR the system directories are read only when
 * no bundle file gave a certificate (a distribution's bundle already holds theirs). Unreadable
 * system locations are skipped, as Go skips them; when they yield nothing (no CA package, not
 * Linux), Node's bundled roots are used instead. Then `caBundle`, NODE_EXTRA_CA_CERTS (skipped
 * when unreadable, as Node does) and `extraCaPems` are added. Files are read only if regular,
 * up to 4 MiB each and 16 MiB for all directories together.
 *
 * @throws Error naming `-ca-bundle` when that file cannot be read or holds no certificate.
 */
export function loadTrustRoots(options: TrustRootOptions = {}): TrustRoots {
  // Read by hand: Node 20 has neither tls.getCACertificates("system") nor --use-system-ca (22.15+).
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const system =
    options.system ?? (process.platform === "linux" ? LINUX_ROOT_LOCATIONS : { files: [], dirs: [] });
  const roots = createRootSet();
  const skip = (path: string, err: unknown) => {
    if (errnoCode(err) !== "ENOENT")
      logger.log("debug", `Trust roots: skipping ${path}: ${oneLine(errorMessage(err))}`);
  };

  for (const file of env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : system.files) {
    try {
      roots.add(file, readRegularFileSync(file));
      break; // Go stops at the first file it can read
    } catch (err) {
      skip(file, err);
    }
  }
  // Go also reads its default directories when a bundle was found; a distribution's bundle holds
  // their certificates already, and scanning /etc/ssl/certs costs 65-180 ms (MIGRATING-FROM-GO.md).
  if (env.SSL_CERT_DIR || roots.ca.length === 0) {
    let budget = MAX_CERT_DIR_BYTES;
    for (const dir of env.SSL_CERT_DIR ? env.SSL_CERT_DIR.split(":") : system.dirs) {
      if (dir === "") continue;
      let files: string[];
      try {
        files = certDirectoryFiles(dir);
      } catch (err) {
        skip(dir, err);
        continue;
      }
      for (const file of files) {
        if (budget <= 0) {
          logger.log(
            "debug",
            `Trust roots: read ${MAX_CERT_DIR_BYTES} bytes of directories, skipping the rest`,
          );
          break;
        }
        try {
          const bytes = readRegularFileSync(file, Math.min(MAX_CERT_FILE_BYTES, budget));
          budget -= bytes.length;
          roots.add(dir, bytes);
        } catch (err) {
          skip(file, err); // Go ignores unreadable entries (subdirectories, dangling links)
        }
      }
    }
  }
  if (roots.ca.length === 0) {
    logger.log("debug", "Trust roots: the system has none, using Node's bundled roots");
    // node:tls loaded here only: importing it costs ~5 MiB of RSS (bench/import-cost.ts).
    const { rootCertificates } = process.getBuiltinModule("node:tls");
    roots.add("Node's bundled roots", Buffer.from(rootCertificates.join("\n")));
  }

  if (options.caBundle) roots.add(`-ca-bundle ${options.caBundle}`, readCaBundle(options.caBundle));
  const nodeExtra = env.NODE_EXTRA_CA_CERTS;
  if (nodeExtra) {
    try {
      roots.add(`NODE_EXTRA_CA_CERTS ${nodeExtra}`, readRegularFileSync(nodeExtra));
    } catch (err) {
      skip(`NODE_EXTRA_CA_CERTS ${nodeExtra}`, err);
    }
  }
  for (const pem of options.extraCaPems ?? []) roots.add("extra roots", Buffer.from(pem));
  return { ca: roots.ca, sources: roots.sources };
}

/** Certificates in the order found, each once, and the names of the sources that gave any. */
function createRootSet() {
  const seen = new Set<string>();
  const ca: string[] = [];
  const sources: string[] = [];
  return {
    ca,
    sources,
    /** Adds the file's certificates; returns how many it held (duplicates included). */
    add(source: string, bytes: Uint8Array): number {
      const certs = pemCertificates(bytes);
      if (certs.length > 0 && !sources.includes(source)) sources.push(source);
      for (const { key, pem } of certs) {
        if (seen.has(key)) continue;
        seen.add(key);
        ca.push(pem);
      }
      return certs.length;
    },
  };
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
  if (pemCertificates(bytes).length === 0)
    throw new Error(`-ca-bundle ${path}: no PEM CERTIFICATE block in the file`);
  return bytes;
}
