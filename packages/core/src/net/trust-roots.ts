import { rootCertificates } from "node:tls";
import { readCapped } from "../read-token-file.js";

/** A system CA bundle is ~200 KiB; 16 MiB is room for any real one. */
const MAX_CA_BYTES = 16 << 20;

/** Where extra trust roots come from: our flag and the variables OpenSSL and Node users set. */
export interface TrustRootSources {
  /** `--ca-bundle FILE`. */
  caBundle?: string;
  /** The environment: SSL_CERT_FILE and NODE_EXTRA_CA_CERTS are read. */
  env?: Record<string, string | undefined>;
  readFile?: (path: string) => Promise<string>;
}

/**
 * The trust roots for HTTPS backends: Node's bundled roots plus `--ca-bundle`, SSL_CERT_FILE and
 * NODE_EXTRA_CA_CERTS. Undefined when none is set, so Node's defaults apply unchanged. (Node drops
 * NODE_EXTRA_CA_CERTS as soon as a `ca` option is given, so it is re-added here.) Throws with the
 * variable or flag name when a file cannot be read.
 */
export async function trustRootsFor(sources: TrustRootSources): Promise<string[] | undefined> {
  const env = sources.env ?? process.env;
  // Regular files only, capped: a FIFO or /dev/zero named here must not hang or fill the run.
  const read =
    sources.readFile ?? (async (p: string) => new TextDecoder().decode(await readCapped(p, MAX_CA_BYTES)));
  const files: Array<[string, string | undefined]> = [
    ["--ca-bundle", sources.caBundle],
    ["SSL_CERT_FILE", env.SSL_CERT_FILE],
    ["NODE_EXTRA_CA_CERTS", env.NODE_EXTRA_CA_CERTS],
  ];
  const extra: string[] = [];
  for (const [name, path] of files) {
    if (!path) continue;
    try {
      extra.push(await read(path));
    } catch (err) {
      throw new Error(`${name} ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  return extra.length === 0 ? undefined : [...rootCertificates, ...extra];
}
